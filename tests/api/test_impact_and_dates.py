"""/api/v1: the customer impact window of incidents and maintenance (apart from when they were opened
and resolved or ran), and times known by their date alone; both as the pages then show them."""

import html
import json
import math
import re
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from signalpost.status.models import Incident

from .conftest import field_errors

UTC = dt_timezone.utc
ZURICH = ZoneInfo("Europe/Zurich")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_bar_title(page: str, component) -> str:
    """The title of yesterday's bar in a component's row (oldest first: the one before today)."""
    start = page.index(f'id="component-{component.public_id}"')
    row = page[start:page.find('<li class="row"', start + 1)]
    bars = re.findall(r'<li class="bar(?: bar--\w+)?"(?: title="([^"]*)")?></li>', row)
    return html.unescape(bars[-2])


# --- the impact window --------------------------------------------------------------------------------


def test_an_incident_takes_its_impact_window_and_gives_it_back(writer, components):
    now = timezone.now().replace(microsecond=0)
    body = writer.post("/api/v1/incidents", {
        "name": "503s", "display_at": iso(now - timedelta(minutes=30)),
        "components": {"zh1.single": "partial_outage"},
        "impact_started_at": iso(now - timedelta(hours=4, minutes=28)),
    }).json()
    assert body["impact_started_at"] == iso(now - timedelta(hours=4, minutes=28))
    assert body["impact_ended_at"] is None
    got = writer.get(f"/api/v1/incidents/{body['id']}").json()
    assert got["impact_started_at"] == body["impact_started_at"]

    patched = writer.patch(f"/api/v1/incidents/{body['id']}", {"impact_ended_at": iso(now - timedelta(minutes=5))})
    assert patched.status_code == 200 and patched.json()["impact_ended_at"] == iso(now - timedelta(minutes=5))
    cleared = writer.patch(f"/api/v1/incidents/{body['id']}", {"impact_started_at": None, "impact_ended_at": None})
    assert cleared.status_code == 200
    assert (cleared.json()["impact_started_at"], cleared.json()["impact_ended_at"]) == (None, None)


@pytest.mark.parametrize("window, field, message", [
    ({"impact_started_at": "2026-01-02T10:00:00Z", "impact_ended_at": "2026-01-02T09:00:00Z"},
     "impact_ended_at", "is before impact_started_at"),
    ({"impact_ended_at": "2026-01-02T09:00:00Z"}, "impact_started_at", "is required with impact_ended_at"),
    ({"impact_started_at": "2199-01-01T00:00:00Z"}, "impact_started_at", "is in the future"),
    ({"impact_started_at": "2026-01-02T10:00:00"}, "impact_started_at", "must include a time zone offset"),
])
def test_a_bad_impact_window_is_refused_naming_the_field(writer, components, window, field, message):
    response = writer.post("/api/v1/incidents", {"name": "503s", **window})
    assert response.status_code == 422, response.content
    assert message in field_errors(response)[field]
    assert not Incident.objects.exists()


def test_the_impact_before_the_first_post_counts_against_uptime(writer, client, components):
    yesterday = timezone.now().astimezone(ZURICH).date() - timedelta(days=1)
    at = lambda hour: datetime.combine(yesterday, time(hour), tzinfo=ZURICH)  # noqa: E731
    body = writer.post("/api/v1/incidents", {
        "name": "Proxies failing", "impact": "major", "started_at": iso(at(13)), "resolved_at": iso(at(14)),
        "components": {"zh1.single": "major_outage"}, "impact_started_at": iso(at(10)),
    }).json()
    assert body["impact_started_at"] == iso(at(10))
    hours = (datetime.combine(yesterday + timedelta(days=1), time(0), tzinfo=ZURICH) - at(0)) / timedelta(hours=1)
    title = day_bar_title(client.get("/").content.decode(), components["zh1"])
    # Four hours of major outage (10:00 to 14:00), not the one hour between the first post and the end.
    assert f"{math.floor(10000 * (1 - 4 / hours)) / 100}% uptime" in title, title
    page = client.get(f"/incidents/{body['id']}").content.decode()
    assert "Customer impact" in page and "(4 hours)" in page and "(1 hour)" in page


def test_an_impact_ending_before_the_resolution_stops_counting_there(writer, client, components):
    yesterday = timezone.now().astimezone(ZURICH).date() - timedelta(days=1)
    at = lambda hour: datetime.combine(yesterday, time(hour), tzinfo=ZURICH)  # noqa: E731
    writer.post("/api/v1/incidents", {
        "name": "Slow volumes", "impact": "major", "started_at": iso(at(8)), "resolved_at": iso(at(16)),
        "components": {"zh2.cluster": "major_outage"}, "impact_started_at": iso(at(8)), "impact_ended_at": iso(at(9)),
    })
    hours = (datetime.combine(yesterday + timedelta(days=1), time(0), tzinfo=ZURICH) - at(0)) / timedelta(hours=1)
    title = day_bar_title(client.get("/").content.decode(), components["zh2"])
    assert f"{math.floor(10000 * (1 - 1 / hours)) / 100}% uptime" in title, title


def test_a_maintenance_takes_its_impact_window(writer, client, components):
    body = writer.post("/api/v1/maintenance", {
        "name": "Weekly maintenance", "scheduled_for": "2017-09-12T20:00:00Z", "scheduled_until": "2017-09-12T22:25:00Z",
        "components": ["zh1.single"], "auto_start": False, "auto_complete": False, "deliver_notifications": False,
        "impact_started_at": "2017-09-12T20:30:00Z", "impact_ended_at": "2017-09-12T21:32:00Z",
    })
    assert body.status_code == 201, body.content
    assert (body.json()["impact_started_at"], body.json()["impact_ended_at"]) == (
        "2017-09-12T20:30:00Z", "2017-09-12T21:32:00Z")
    patched = writer.patch(f"/api/v1/maintenance/{body.json()['id']}", {"impact_ended_at": "2017-09-12T21:40:00Z"})
    assert patched.json()["impact_ended_at"] == "2017-09-12T21:40:00Z"


def test_the_statuspage_api_keeps_its_own_shape(writer, client, components):
    writer.post("/api/v1/incidents", {"name": "503s", "impact_started_at": iso(timezone.now() - timedelta(hours=1))})
    incident = client.get("/api/v2/incidents.json").json()["incidents"][0]
    assert not any(key.startswith("impact_") for key in incident)


# --- dates alone ------------------------------------------------------------------------------------


def test_an_incident_opened_with_its_date_alone_gives_back_that_date(writer, client, components):
    day = timezone.now().astimezone(ZURICH).date() - timedelta(days=2)
    body = writer.post("/api/v1/incidents", {"name": "Mails delayed", "display_at": day.isoformat(),
                                             "components": {"Mail delivery": "degraded_performance"}}).json()
    assert body["started_at"] == day.isoformat() and body["updates"][0]["display_at"] == day.isoformat()
    incident = Incident.objects.get()
    assert incident.started_on == day
    assert incident.started_at == datetime.combine(day, time(0), tzinfo=ZURICH)  # sorts as the day's start

    later = writer.post(f"/api/v1/incidents/{body['id']}/updates",
                        {"status": "resolved", "body": "Delivered.", "display_at": day.isoformat()})
    assert later.status_code == 201, later.content
    assert later.json()["resolved_at"] == day.isoformat()
    page = client.get(f"/incidents/{body['id']}").content.decode()
    shown = re.sub(r"<[^>]+>", " ", page)
    assert f'<time class="day" datetime="{day.isoformat()}">' in page
    assert "00:00" not in shown and "ago" not in shown.split("Updates")[1]
    assert "less than a minute" not in shown  # no duration from an invented midnight


def test_a_date_alone_on_a_day_with_timed_updates_comes_after_them(writer, components):
    day = timezone.now().astimezone(ZURICH).date() - timedelta(days=3)
    noon = datetime.combine(day, time(12), tzinfo=ZURICH)
    body = writer.post("/api/v1/incidents", {"name": "Pulsar", "display_at": iso(noon)}).json()
    resolved = writer.post(f"/api/v1/incidents/{body['id']}/updates",
                           {"status": "resolved", "body": "More stable now.", "display_at": day.isoformat()})
    assert resolved.status_code == 201, resolved.content
    assert [u["body"] for u in resolved.json()["updates"]][0] == "More stable now."


def test_a_backfill_and_its_updates_take_dates_alone(writer, components):
    body = writer.post("/api/v1/incidents", {
        "name": "Projects offline", "started_at": "2015-07-22", "resolved_at": "2015-07-23",
        "updates": [{"display_at": "2015-07-22", "status": "identified", "body": "A tool took them down."},
                    {"display_at": "2015-07-22T18:00:00Z", "status": "monitoring", "body": "Restarted."}],
    })
    assert body.status_code == 201, body.content
    updates = body.json()["updates"]
    # No body: no opening update; the updates given and the resolution.
    assert [u["display_at"] for u in updates] == ["2015-07-23", "2015-07-22T18:00:00Z", "2015-07-22"]
    assert (body.json()["started_at"], body.json()["resolved_at"]) == ("2015-07-22", "2015-07-23")


@pytest.mark.parametrize("value, message", [
    ("2015-02-30", "must be an ISO-8601 date and time"),
    ("22.07.2015", "must be an ISO-8601 date and time"),
    ("2199-01-01", "is in the future"),
])
def test_a_bad_date_is_refused_once_naming_the_field(writer, components, value, message):
    response = writer.post("/api/v1/incidents", {"name": "Down", "display_at": value})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["display_at"] and message in errors[0]["message"]


def test_the_openapi_document_says_a_date_alone_is_accepted(reader):
    spec = reader.get("/api/v1/openapi.json").json()
    display_at = spec["components"]["schemas"]["IncidentIn"]["properties"]["display_at"]
    formats = re.findall(r'"format": "([\w-]+)"', json.dumps(display_at))
    assert set(formats) == {"date-time", "date"}
    assert "impact_started_at" in spec["components"]["schemas"]["IncidentPatch"]["properties"]


def test_an_impact_that_began_the_day_before_the_first_post_marks_that_day_too(writer, client, components):
    today = timezone.now().astimezone(ZURICH).date()
    two_days_ago = today - timedelta(days=2)
    at = lambda day, hour: datetime.combine(day, time(hour), tzinfo=ZURICH)  # noqa: E731
    writer.post("/api/v1/incidents", {
        "name": "Certificates expired", "impact": "major", "started_at": iso(at(today - timedelta(days=1), 9)),
        "resolved_at": iso(at(today - timedelta(days=1), 10)), "components": {"de1.compact": "major_outage"},
        "impact_started_at": iso(at(two_days_ago, 22)),
    })
    page = client.get("/").content.decode()
    start = page.index(f'id="component-{components["de1"].public_id}"')
    row = page[start:page.find('<li class="row"', start + 1)]
    bars = re.findall(r'<li class="bar(?: bar--(\w+))?"(?: title="([^"]*)")?></li>', row)
    status, title = bars[-3]  # two days ago
    assert status == "major_outage" and "Certificates expired" in html.unescape(title)


def test_a_maintenance_update_takes_its_date_alone_and_the_pages_show_that_date(writer, client, components):
    body = writer.post("/api/v1/maintenance", {
        "name": "Weekly maintenance", "scheduled_for": "2017-09-12T20:00:00Z", "scheduled_until": "2017-09-12T22:25:00Z",
        "components": ["zh1.single"], "auto_start": False, "auto_complete": False, "deliver_notifications": False,
    }).json()
    started = writer.post(f"/api/v1/maintenance/{body['id']}/updates",
                          {"status": "in_progress", "display_at": "2017-09-12", "body": "Under way."})
    assert started.status_code == 201, started.content
    done = writer.post(f"/api/v1/maintenance/{body['id']}/updates",
                       {"status": "completed", "display_at": "2017-09-13", "body": "Done."})
    assert done.status_code == 201, done.content
    got = done.json()
    assert (got["started_at"], got["resolved_at"]) == ("2017-09-12", "2017-09-13")
    assert [u["display_at"] for u in got["updates"]][:2] == ["2017-09-13", "2017-09-12"]
    # Sorted after the announcement shown on the same day, and before the completion.
    assert [u["body"] for u in got["updates"]] == ["Done.", "Under way.", ""]

    page = client.get(f"/maintenance/{body['id']}").content.decode()
    shown = re.sub(r"<[^>]+>", " ", page)
    assert '<time class="day" datetime="2017-09-12">' in page and '<time class="day" datetime="2017-09-13">' in page
    assert "00:00" not in shown and "time not known" in shown
    # The Statuspage API keeps its own shape: an instant for every time.
    v2 = client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"][0]
    assert v2["incident_updates"][0]["display_at"] == "2017-09-13T00:00:00.000+02:00"


def test_a_maintenance_update_dated_out_of_range_is_refused_naming_the_field(writer, components):
    body = writer.post("/api/v1/maintenance", {
        "name": "Weekly maintenance", "scheduled_for": "2017-09-12T20:00:00Z", "scheduled_until": "2017-09-12T22:25:00Z",
        "auto_start": False, "auto_complete": False,
    }).json()
    refused = writer.post(f"/api/v1/maintenance/{body['id']}/updates", {"status": "in_progress", "display_at": "1969-12-31"})
    assert refused.status_code == 422 and "display_at" in field_errors(refused), refused.content
