"""A postmortem's timeline entry whose time is not known is entered with its date alone, and the
document shows it under its day with no clock time (page, Markdown export, API)."""

import pytest

from tests.e2e import seeds

from .conftest import text

BASE = "/api/v1/postmortems"


@pytest.fixture
def pulsar(author_api) -> dict:
    """001's Pulsar incident: neither of its posts has a time, only the day (June 7, 2022)."""
    author_api.call("PATCH", "/api/v1/page", {"time_zone": "UTC"})
    author_api.call("POST", "/api/v1/components", {"name": "Pulsar"})
    (first_at, _, first_body), (last_at, _, last_body) = seeds.TEXTS_001["pulsar"]
    incident = author_api.call("POST", "/api/v1/incidents", {
        "name": "Service instabilities", "body": first_body, "display_at": first_at,
        "components": {"Pulsar": "degraded_performance"}, "deliver_notifications": False})
    author_api.call("POST", f"/api/v1/incidents/{incident['id']}/updates", {
        "status": "resolved", "body": last_body, "display_at": last_at, "deliver_notifications": False})
    return incident


def published(author_api, reviewer_api, pm: dict) -> None:
    author_api.call("POST", f"{BASE}/{pm['id']}/request-review", {})
    reviewer_api.call("POST", f"{BASE}/{pm['id']}/approve", None)
    author_api.call("POST", f"{BASE}/{pm['id']}/publish", None)


def test_entries_known_by_their_date_show_no_clock_time(author_api, reviewer_api, pulsar, client):
    pm = author_api.call("POST", BASE, {"incidents": [pulsar["id"]], "title": "Pulsar brokers", "timeline_zone": "UTC"})
    # Prefilled from the incident's updates: dated like them, with no time.
    assert {e["at"] for e in pm["timeline"]} == {"2022-06-07"}
    body = author_api.call("POST", f"{BASE}/{pm['id']}/timeline", {"at": "2022-06-08", "text": "Brokers resized."})
    assert body["timeline"][-1] == {**body["timeline"][-1], "at": "2022-06-08", "text": "Brokers resized."}
    body = author_api.call("POST", f"{BASE}/{pm['id']}/timeline", {"at": "2022-06-08T09:15:00Z", "text": "Load normal."})
    assert [e["at"] for e in body["timeline"]][-2:] == ["2022-06-08", "2022-06-08T09:15:00Z"]
    published(author_api, reviewer_api, pm)

    page = client.get(f"/postmortems/{pm['id']}").content.decode()
    section = page[page.index('id="pm-timeline"'):page.index("</section>", page.index('id="pm-timeline"'))]
    words = text(section)
    assert "Tuesday, June 7, 2022" in words and "Wednesday, June 8, 2022" in words
    assert "00:00" not in words
    assert "time not known Brokers resized." in words and "09:15 Load normal." in words
    # The figures: no duration between two dates.
    assert "Duration" not in text(page)

    markdown = client.get(f"/postmortems/{pm['id']}.md").content.decode()
    assert "- Brokers resized." in markdown and "**00:00**" not in markdown
    assert "- **09:15** Load normal." in markdown


def test_an_impossible_date_is_refused_naming_the_entry(author_api, pulsar):
    pm = author_api.call("POST", BASE, {"incidents": [pulsar["id"]], "title": "Pulsar brokers"})
    response = author_api.request("PUT", f"{BASE}/{pm['id']}/timeline", {"entries": [{"at": "2022-02-30", "text": "x"}]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["entries[0].at"]
