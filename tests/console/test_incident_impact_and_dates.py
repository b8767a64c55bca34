"""The console's incident forms take the customer impact window (when customers were affected, apart
from when the incident was opened and resolved) and times known by their date alone."""

from datetime import UTC, date, datetime, timedelta

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from signalpost.postmortems.models import TimelineEntry
from signalpost.status import services
from signalpost.status.models import Incident
from tests.console.postmortem_support import draft, incident, team  # noqa: F401 - fixtures
from tests.console.postmortem_support import signed_in as signed_in_team  # noqa: F401 - a fixture


def _content(page: str) -> str:
    """The page's text without its footer, whose "Last updated" shows the clock (00:00 at midnight)."""
    return text(re.sub(r"<footer.*?</footer>", "", page, flags=re.S))

from .events_support import assert_refused_beside, audit_actions, last_audit_id, row_counts, signed_in, text
from .test_incidents import backfill_form, open_form


@pytest.fixture
def responder(client, db):
    return signed_in(client, "rita", "responder")


def test_a_past_incident_known_by_its_day_alone_shows_no_invented_time(responder, components, client):
    response = responder.post("/console/incidents/backfill", backfill_form(
        components, started_at="2026-11-18T00:00", started_date_only="on",
        resolved_at="2026-11-18T00:00", resolved_date_only="on"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.started_on, incident.resolved_on) == (date(2026, 11, 18), date(2026, 11, 18))
    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert '<time class="day" datetime="2026-11-18">Nov 18, 2026</time>' in public
    assert "00:00" not in _content(public) and "less than a minute" not in _content(public)
    console = text(responder.get(f"/console/incidents/{incident.public_id}").content.decode())
    assert "started Nov 18, 2026 · resolved Nov 18, 2026" in console


def test_a_past_incident_takes_its_customer_impact_window(responder, components, client):
    response = responder.post("/console/incidents/backfill", backfill_form(
        components, impact_started_at="2026-11-18T08:40", impact_ended_at="2026-11-18T10:30"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    # In the zone the responder chose (New York): 08:40 EST is 13:40 UTC.
    assert incident.impact_started_at == datetime(2026, 11, 18, 13, 40, tzinfo=UTC)
    assert incident.impact_ended_at == datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
    public = text(client.get(f"/incidents/{incident.public_id}").content.decode())
    assert "Customer impact Nov 18, 2026 14:40 CET → Nov 18, 2026 16:30 CET (1 hour 50 minutes)" in public


def test_the_edit_form_sets_and_clears_the_impact_window(responder, components, client):
    began = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    incident = services.open_incident(name="503s on the proxies", display_at=began,
                                      components={components["zh1"]: "partial_outage"})
    since = last_audit_id()
    earlier = began - timedelta(hours=4)
    response = responder.post(f"/console/incidents/{incident.public_id}/edit", {
        "edit-name": incident.name, "edit-impact": "minor", "edit-time_zone": "UTC",
        "edit-impact_started_at": earlier.strftime("%Y-%m-%dT%H:%M"), "edit-impact_ended_at": ""})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.impact_started_at == earlier and incident.impact_ended_at is None
    assert audit_actions(since) == ["incident.edit"]
    console = text(responder.get(f"/console/incidents/{incident.public_id}").content.decode())
    assert "customer impact" in console and "ongoing" in console
    assert "Customer impact" in text(client.get(f"/incidents/{incident.public_id}").content.decode())

    response = responder.post(f"/console/incidents/{incident.public_id}/edit", {
        "edit-name": incident.name, "edit-impact": "minor", "edit-impact_started_at": "", "edit-impact_ended_at": ""})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.impact_started_at is None


def test_an_impact_that_ends_before_it_begins_is_refused_beside_the_field(responder, components):
    incident = services.open_incident(name="503s", components={components["zh1"]: "partial_outage"})
    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/edit", {
        "edit-name": incident.name, "edit-impact": "minor", "edit-time_zone": "UTC",
        "edit-impact_started_at": "2026-01-02T10:00", "edit-impact_ended_at": "2026-01-02T09:00"})
    assert_refused_beside(response, "id_edit-impact_ended_at", "is before “Customer impact began”")
    assert row_counts() == before


def test_an_incident_opened_with_its_date_alone(responder, components, client):
    today = timezone.now().astimezone(UTC).date() - timedelta(days=1)
    response = responder.post("/console/incidents/new", open_form(
        components, display_at=f"{today.isoformat()}T12:00", display_date_only="on"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.started_on == today and incident.updates.get().display_on == today
    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert f'<time class="day" datetime="{today.isoformat()}">' in public and "12:00" not in text(public)


def test_a_maintenance_takes_its_customer_impact_after_the_window(responder, components, client):
    maintenance = services.schedule_maintenance(
        name="Regular Weekly Maintenance", scheduled_for=datetime(2017, 9, 12, 20, 0, tzinfo=UTC),
        scheduled_until=datetime(2017, 9, 12, 22, 25, tzinfo=UTC), components=[components["zh1"]],
        auto_start=False, auto_complete=False, deliver_notifications=False)
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert 'action="/console/maintenance/' + maintenance.public_id + '/impact"' in page
    since = last_audit_id()
    response = responder.post(f"/console/maintenance/{maintenance.public_id}/impact", {
        "impact-impact": "major", "impact-time_zone": "UTC",
        "impact-impact_started_at": "2017-09-12T20:30", "impact-impact_ended_at": "2017-09-12T21:32"})
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert (maintenance.impact, maintenance.impact_started_at, maintenance.impact_ended_at) == (
        "major", datetime(2017, 9, 12, 20, 30, tzinfo=UTC), datetime(2017, 9, 12, 21, 32, tzinfo=UTC))
    assert audit_actions(since) == ["maintenance.edit"]
    console = text(responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode())
    assert "Customer impact Sep 12, 2017 22:30 CEST – Sep 12, 2017 23:32 CEST (Major)" in console
    public = text(client.get(f"/maintenance/{maintenance.public_id}").content.decode())
    assert "Customer impact Sep 12, 2017 22:30 CEST → Sep 12, 2017 23:32 CEST (1 hour 2 minutes)" in public

    before = row_counts()
    response = responder.post(f"/console/maintenance/{maintenance.public_id}/impact", {
        "impact-impact": "major", "impact-time_zone": "UTC", "impact-impact_ended_at": "2017-09-12T21:32"})
    assert_refused_beside(response, "id_impact-impact_started_at", "is required with “Customer impact ended”")
    assert row_counts() == before


# --- a postmortem's timeline entry known by its date alone --------------------------------------------


def test_a_timeline_entry_known_by_its_day_alone_is_entered_in_the_editor(signed_in_team, draft, client):
    editor = signed_in_team("alice")
    add = reverse("console:postmortem_entry_add", args=[draft.public_id])
    page = editor.get(reverse("console:postmortem", args=[draft.public_id])).content.decode()
    assert 'name="new-entry-date_only"' in page
    response = editor.post(add, {"new-entry-at": "2026-02-01T00:00", "new-entry-date_only": "on",
                                 "new-entry-text": "Deploy metadata started to drift.",
                                 "new-entry-shown_zone": "America/Los_Angeles"})
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(text="Deploy metadata started to drift.")
    assert entry.on == date(2026, 2, 1)
    page = editor.get(reverse("console:postmortem", args=[draft.public_id])).content.decode()
    assert "Feb 1, 2026" in page and "Feb 1, 2026 00:00" not in page

    prefix = f"entry-{entry.public_id}"
    editor.post(reverse("console:postmortem_entry_edit", args=[draft.public_id, entry.public_id]), {
        f"{prefix}-at": "2026-02-01T15:40", f"{prefix}-text": "Deploy metadata started to drift.",
        f"{prefix}-shown_zone": "America/Los_Angeles"})
    entry.refresh_from_db()
    assert entry.on is None and entry.at == datetime(2026, 2, 1, 23, 40, tzinfo=UTC)  # 15:40 PST, now known


# --- update forms: when an update is shown as posted, a date alone --------------------------------------


def test_a_maintenance_update_known_by_its_day_alone_shows_that_day(responder, components, client):
    maintenance = services.schedule_maintenance(
        name="Regular Weekly Maintenance", scheduled_for=datetime(2017, 9, 12, 20, 0, tzinfo=UTC),
        scheduled_until=datetime(2017, 9, 12, 22, 25, tzinfo=UTC), components=[components["zh1"]],
        auto_start=False, auto_complete=False, deliver_notifications=False)
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert 'name="display_date_only"' in page and 'name="display_at"' in page
    response = responder.post(f"/console/maintenance/{maintenance.public_id}/update", {
        "status": "completed", "body": "Done.", "time_zone": "UTC", "display_at": "2017-09-13T00:00",
        "display_date_only": "on"})
    assert response.status_code == 302, text(response.content.decode())
    maintenance.refresh_from_db()
    assert (maintenance.started_on, maintenance.resolved_on) == (date(2017, 9, 13), date(2017, 9, 13))
    assert maintenance.updates.order_by("-display_at", "-id").first().display_on == date(2017, 9, 13)
    console = text(responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode())
    assert "Completed Sep 13, 2017" in console and "Sep 13, 2017 00:00" not in console
    public = client.get(f"/maintenance/{maintenance.public_id}").content.decode()
    assert '<time class="day" datetime="2017-09-13">' in public and "00:00" not in _content(public)


def test_an_incident_update_takes_the_time_it_is_shown_at_in_the_pages_zone(responder, components, client):
    began = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    incident = services.open_incident(name="503s", display_at=began, components={components["zh1"]: "partial_outage"})
    page = responder.get(f"/console/incidents/{incident.public_id}").content.decode()
    assert 'name="display_at"' in page and "in Europe/Zurich time" in page
    response = responder.post(f"/console/incidents/{incident.public_id}/update", {
        "status": "identified", "impact": "minor", f"component_{components['zh1'].public_id}": "partial_outage",
        "body": "Found it.", "display_at": "2026-11-18T10:15"})
    assert response.status_code == 302, text(response.content.decode())
    update = incident.updates.order_by("-display_at").first()
    assert update.display_at == datetime(2026, 11, 18, 9, 15, tzinfo=UTC)  # 10:15 in Zurich (CET)
    assert "Nov 18, 2026 10:15 CET" in text(client.get(f"/incidents/{incident.public_id}").content.decode())

    response = responder.post(f"/console/incidents/{incident.public_id}/update", {
        "status": "monitoring", "impact": "minor", f"component_{components['zh1'].public_id}": "partial_outage",
        "body": "Watching.", "display_at": "2026-11-19T00:00", "display_date_only": "on"})
    assert response.status_code == 302
    assert incident.updates.order_by("-display_at").first().display_on == date(2026, 11, 19)


@pytest.mark.parametrize("typed, date_only, message", [
    ("9999-12-31T23:00", "", "must be from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z"),
    ("1969-07-20T20:17", "on", "must be from 1970-01-01 to 2199-12-31"),
    ("2199-12-31T23:59", "", "is in the future"),
])
def test_an_incident_update_time_out_of_range_is_refused_beside_the_field(responder, components, typed, date_only,
                                                                         message):
    incident = services.open_incident(name="503s", components={components["zh1"]: "partial_outage"})
    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/update", {
        "status": "identified", "impact": "minor", f"component_{components['zh1'].public_id}": "partial_outage",
        "body": "Found it.", "display_at": typed, "display_date_only": date_only})
    assert_refused_beside(response, "id_display_at", message)
    assert row_counts() == before
