"""The feeds readers subscribe to: /history.atom and /history.rss (and the same per component), read
with feedparser as a feed reader reads them; /maintenance.ics, read with icalendar as a calendar app
reads it; all published in the snapshot and served from it."""

from datetime import timedelta
from datetime import timezone as dt_timezone

import feedparser
import icalendar
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from signalpost.accounts.models import Profile
from signalpost.postmortems import services as postmortems
from signalpost.public.models import RETIRED, SnapshotFile
from signalpost.status import services
from tests.publishing import publish, republish_everything

UTC = dt_timezone.utc


def feed(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, path
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def calendar(client):
    response = client.get("/maintenance.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def events(cal) -> dict[str, icalendar.Event]:
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


def publish_postmortem(incident, title: str, summary: str):
    pm = postmortems.create_postmortem(incidents=[incident], title=title, summary=summary)
    postmortems.request_review(pm)
    reviewer, _ = get_user_model().objects.get_or_create(username="bob")
    Profile.objects.get_or_create(user=reviewer, defaults={"role": "responder"})
    postmortems.approve(pm, reviewer)
    return postmortems.publish(pm)


@pytest.fixture
def record(components):
    """An old resolved outage on zh1, a newer incident on de1 updated last, and a maintenance window
    on zh2 announced in between."""
    now = timezone.now()
    old = services.backfill_incident(
        name="Old storage outage", started_at=now - timedelta(days=3), resolved_at=now - timedelta(days=3, hours=-1),
        body="Volumes were unreachable.", components={components["zh1"]: "major_outage"})
    window = services.schedule_maintenance(
        name="Kernel upgrade", scheduled_for=now + timedelta(days=2), scheduled_until=now + timedelta(days=2, hours=2),
        body="We upgrade the kernels.", components=[components["zh2"]], display_at=now - timedelta(hours=2))
    slow = services.open_incident(name="Slow API", impact="minor", body="We are investigating.",
                                  components={components["de1"]: "degraded_performance"},
                                  display_at=now - timedelta(hours=1))
    services.post_update(slow, status="identified", body="A **bad** deploy. <script>alert(1)</script>",
                         display_at=now - timedelta(minutes=10))
    return {"old": old, "window": window, "slow": slow, "now": now}


def test_the_page_feed_lists_incidents_and_maintenance_by_latest_activity(client, record):
    parsed = feed(client, "/history.atom")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Example Status status"
    assert [e.title for e in parsed.entries] == ["Slow API", "Kernel upgrade", "Old storage outage"]
    slow = parsed.entries[0]
    assert slow.link == settings.SITE_URL + record["slow"].public_path
    assert slow.id == slow.link
    # published: when it was opened; updated: its latest update's display time
    assert slow.published == (record["now"] - timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert slow.updated == (record["now"] - timedelta(minutes=10)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert {t.term for t in slow.tags} == {"Incident", "Identified"}
    assert "<strong>Identified</strong>" in slow.summary and "<strong>bad</strong> deploy." in slow.summary
    assert "Affected: Germany (de1.compact)" in slow.summary
    assert "We are investigating" not in slow.summary  # the latest update, not the first
    window = parsed.entries[1]
    assert {t.term for t in window.tags} == {"Maintenance", "Scheduled"}
    assert "We upgrade the kernels." in window.summary and "Window:" in window.summary


def test_the_rss_feed_holds_the_same_entries(client, record):
    parsed = feed(client, "/history.rss")
    assert parsed.version == "rss20"
    assert [e.title for e in parsed.entries] == ["Slow API", "Kernel upgrade", "Old storage outage"]
    assert [e.link for e in parsed.entries] == [settings.SITE_URL + record[k].public_path for k in ("slow", "window", "old")]
    assert parsed.entries[0].published_parsed[:5] == (record["now"] - timedelta(hours=1)).astimezone(UTC).timetuple()[:5]
    assert "Identified" in parsed.entries[0].summary


def test_markdown_in_an_update_is_rendered_and_sanitized(client, record):
    for path in ("/history.atom", "/history.rss"):
        raw = client.get(path).content.decode()
        summary = feedparser.parse(raw).entries[0].summary
        assert "<script" not in summary and "<script" not in raw
        assert "alert(1)" in summary  # shown as the text it was, never run
        assert "<strong>bad</strong>" in summary


def test_a_component_feed_holds_only_what_touches_it(client, record, components):
    zh1 = feed(client, f"/components/{components['zh1'].public_id}/history.atom")
    assert [e.title for e in zh1.entries] == ["Old storage outage"]
    assert "zh1.single" in zh1.feed.title and "Switzerland" in zh1.feed.title
    zh2 = feed(client, f"/components/{components['zh2'].public_id}/history.rss")
    assert [e.title for e in zh2.entries] == ["Kernel upgrade"]
    assert feed(client, f"/components/{components['mail'].public_id}/history.atom").entries == []
    services.update_component(components["de1"], hidden=True)
    assert client.get(f"/components/{components['de1'].public_id}/history.atom").status_code == 404
    assert client.get("/components/nosuchthing0/history.rss").status_code == 404


def test_a_published_postmortem_is_an_entry_of_its_own(client, record, components):
    publish_postmortem(record["old"], "Storage outage of the week", "A full disk stopped the **volumes**.")
    parsed = feed(client, "/history.atom")
    entry = parsed.entries[0]
    assert entry.title.endswith(": Storage outage of the week")
    assert entry.link.startswith(settings.SITE_URL + "/postmortems/")
    assert {t.term for t in entry.tags} == {"Postmortem"}
    assert "<strong>volumes</strong>" in entry.summary and "Old storage outage" in entry.summary
    # in the feed of the component its incident touched, not in the others
    zh1 = feed(client, f"/components/{components['zh1'].public_id}/history.atom")
    assert [e.title for e in zh1.entries][0] == entry.title
    de1 = feed(client, f"/components/{components['de1'].public_id}/history.atom")
    assert all(e.title != entry.title for e in de1.entries)


def test_a_feed_holds_the_latest_fifty_entries(client, components):
    now = timezone.now()
    for n in range(53):
        services.backfill_incident(name=f"Outage {n}", started_at=now - timedelta(days=60 - n),
                                   resolved_at=now - timedelta(days=60 - n, minutes=-30))
    parsed = feed(client, "/history.atom")
    assert len(parsed.entries) == 50
    assert parsed.entries[0].title == "Outage 52" and parsed.entries[-1].title == "Outage 3"


def test_the_calendar_holds_the_windows_in_utc_with_a_stable_uid(client, record, components):
    cal = calendar(client)
    assert str(cal["X-WR-CALNAME"]) == "Example Status maintenance"
    [event] = cal.walk("VEVENT")
    window = record["window"]
    assert str(event["SUMMARY"]) == "Kernel upgrade"
    assert str(event["URL"]) == settings.SITE_URL + window.public_path
    assert event.decoded("DTSTART") == window.scheduled_for.replace(microsecond=0)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0) and event.decoded("DTEND").utcoffset() == timedelta(0)
    assert event["DTSTART"].to_ical().endswith(b"Z")
    assert str(event["STATUS"]) == "CONFIRMED"
    uid, sequence, modified = str(event["UID"]), int(event["SEQUENCE"]), event.decoded("LAST-MODIFIED")

    # The window moves: the same event, revised.
    later = window.scheduled_until + timedelta(hours=3)
    services.post_maintenance_update(window, status="scheduled", body="We need an hour more.", scheduled_until=later,
                                     now=timezone.now() + timedelta(seconds=2))
    [moved] = calendar(client).walk("VEVENT")
    assert str(moved["UID"]) == uid
    assert int(moved["SEQUENCE"]) > sequence
    assert moved.decoded("LAST-MODIFIED") > modified and moved.decoded("DTSTAMP") > modified
    assert moved.decoded("DTEND") == later.replace(microsecond=0)
    assert "We need an hour more." in str(moved["DESCRIPTION"])

    services.cancel_maintenance(window, now=timezone.now() + timedelta(seconds=4))
    [cancelled] = calendar(client).walk("VEVENT")
    assert str(cancelled["UID"]) == uid and str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(moved["SEQUENCE"])


def test_the_same_record_renders_the_same_feed_bytes(client, record):
    for path in ("/history.atom", "/history.rss", "/maintenance.ics"):
        assert client.get(path).content == client.get(path).content


# --- the snapshot ---------------------------------------------------------------------------------


def published(path: str) -> SnapshotFile:
    return SnapshotFile.objects.get(path=path)


@pytest.fixture
def site(transactional_db, components):
    services.update_page(name="Example Status", url="https://status.example.com", time_zone="Europe/Zurich")
    republish_everything()
    return components


def test_the_publisher_keeps_the_feeds_in_step_with_the_record(site):
    components = site
    for path, kind in [("/history.atom", "application/atom+xml"), ("/history.rss", "application/rss+xml"),
                       ("/maintenance.ics", "text/calendar"),
                       (f"/components/{components['zh1'].public_id}/history.atom", "application/atom+xml"),
                       (f"/components/{components['zh1'].public_id}/history.rss", "application/rss+xml")]:
        assert published(path).content_type.startswith(kind), path
    zh1_feed = f"/components/{components['zh1'].public_id}/history.atom"
    de1_feed = f"/components/{components['de1'].public_id}/history.atom"
    de1_version = published(de1_feed).version

    incident = services.open_incident(name="Volumes unreachable", components={components["zh1"]: "major_outage"})
    publish()
    assert b"Volumes unreachable" in bytes(published("/history.atom").body)
    assert b"Volumes unreachable" in bytes(published(zh1_feed).body)
    assert published(de1_feed).version == de1_version  # untouched: nothing there changed

    services.post_update(incident, status="identified", body="A failed switch.")
    publish()
    assert b"A failed switch." in bytes(published(zh1_feed).body)

    # An entry names every affected component: renaming one changes the feeds that show it.
    services.update_component(components["zh1"], name="zh1.big")
    publish()
    assert b"zh1.big" in bytes(published("/history.rss").body)
    assert b"zh1.big" in bytes(published(zh1_feed).body)

    services.schedule_maintenance(name="Kernel upgrade", scheduled_for=timezone.now() + timedelta(days=1),
                                  scheduled_until=timezone.now() + timedelta(days=1, hours=1))
    publish()
    assert b"SUMMARY:Kernel upgrade" in bytes(published("/maintenance.ics").body)

    services.resolve_incident(incident)
    publish_postmortem(incident, "The switch that failed", "A switch failed.")
    publish()
    assert b"The switch that failed" in bytes(published("/history.atom").body)
    assert b"The switch that failed" in bytes(published(zh1_feed).body)

    # A hidden component's feed is no longer published, nor a removed one's; a new one's is.
    services.update_component(components["de1"], hidden=True)
    spare = services.create_component(name="spare")
    publish()
    assert published(de1_feed).content_type == RETIRED
    spare_feed = f"/components/{spare.public_id}/history.rss"
    assert published(spare_feed).content_type.startswith("application/rss+xml")
    services.remove_component(spare)
    publish()
    assert published(spare_feed).content_type == RETIRED


def test_the_feeds_are_served_from_the_snapshot_and_exported(site, start_server, tmp_path):
    components = site
    services.open_incident(name="Volumes unreachable", components={components["zh1"]: "major_outage"})
    services.schedule_maintenance(name="Kernel upgrade", scheduled_for=timezone.now() + timedelta(days=1),
                                  scheduled_until=timezone.now() + timedelta(days=1, hours=1))
    publish()
    directory = tmp_path / "instance"
    server = start_server(data_dir=directory, worker=False)
    component_feed = f"/components/{components['zh1'].public_id}/history.rss"
    for path, kind in [("/history.atom", "application/atom+xml"), ("/history.rss", "application/rss+xml"),
                       ("/maintenance.ics", "text/calendar"), (component_feed, "application/rss+xml")]:
        status, headers, body = server.get(path)
        assert status == 200 and headers["content-type"].startswith(kind), path
        assert body == bytes(published(path).body)
        assert headers["access-control-allow-origin"] == "*"  # web feed readers fetch it from the browser
        assert server.get(path, {"If-None-Match": headers["etag"]})[0] == 304
    titles = [e.title for e in feedparser.parse(server.get("/history.atom")[2]).entries]
    assert titles == ["Kernel upgrade", "Volumes unreachable"]  # the latest announced first
    assert server.get("/components/nosuchthing0/history.atom")[0] == 404
    server.stop()

    # The database goes away: the feeds are still there.
    down = start_server(data_dir=directory, worker=False, DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
    status, headers, body = down.get("/maintenance.ics")
    assert status == 200 and b"Kernel upgrade" in body

    from signalpost.cli import main

    target = tmp_path / "export"
    assert main(["export", str(target)]) == 0
    assert (target / "history.atom").read_bytes() == bytes(published("/history.atom").body)
    assert (target / "maintenance.ics").exists() and (target / component_feed.lstrip("/")).exists()


def test_the_pages_point_readers_to_the_feeds(client, record):
    index = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in index and 'href="/history.atom"' in index
    assert '<link rel="alternate" type="application/rss+xml"' in index and 'href="/history.rss"' in index
    history = client.get("/history").content.decode()
    for href, label in [("/history.atom", "Atom"), ("/history.rss", "RSS"), ("/maintenance.ics", "Calendar")]:
        assert f'href="{href}"' in history and f">{label}</a>" in history
