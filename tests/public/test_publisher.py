"""The publisher: exactly the pages an event changes, every page in steps that let other events through,
and time reaching the snapshot as events of the worker's clock."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from signalpost.events import consumers
from signalpost.events.models import Handling
from signalpost.events.record import record
from signalpost.events.work import work_once
from signalpost.jobs import clock_events
from signalpost.public import publisher
from signalpost.public.models import SnapshotFile
from signalpost.status import services
from tests.publishing import publish, republish_everything


def published(path: str) -> bytes:
    return bytes(SnapshotFile.objects.get(path=path).body)


def versions() -> dict[str, int]:
    return dict(SnapshotFile.objects.values_list("path", "version"))


@pytest.fixture
def site(transactional_db, components):
    services.update_page(time_zone="Europe/Zurich")
    now = timezone.now()
    old = [services.backfill_incident(name=f"Old outage {n}", started_at=now - timedelta(days=40 + n),
                                      resolved_at=now - timedelta(days=40 + n) + timedelta(hours=1),
                                      components={components["zh1"]: "major_outage"}) for n in range(6)]
    republish_everything()
    return old


def test_an_update_republishes_its_own_pages_and_the_page_s_state_only(site, components):
    incident = services.open_incident(name="Slow API", components={components["de1"]: "degraded_performance"})
    publish()
    before = versions()
    services.post_update(incident, status="identified", body="A bad deploy.")
    publish()
    after = versions()
    changed = {path for path, version in after.items() if version != before.get(path)}
    assert incident.public_path in changed and "/" in changed and "/api/v2/summary.json" in changed
    assert not any(path in changed for path in (o.public_path for o in site))  # the others are untouched
    assert "A bad deploy." in published(incident.public_path).decode()


def test_renaming_a_component_republishes_every_incident_page_that_names_it(site, components):
    publish()
    before = versions()
    services.update_component(components["zh1"], name="zh1.big")
    publish()
    for incident in site:
        assert SnapshotFile.objects.get(path=incident.public_path).version > before[incident.public_path]
        assert "zh1.big" in published(incident.public_path).decode()


def test_republishing_every_page_goes_in_steps_and_lets_an_outage_through(site, components, monkeypatch):
    monkeypatch.setattr(publisher, "STEP_PAGES", 2)
    monkeypatch.setattr(publisher, "STEP_SECONDS", 0)  # one step per claim
    with transaction.atomic():
        record("snapshot.republish", "snapshot", data={"reason": "test"})
    consumer = consumers.get("publisher")
    work_once(consumer, "worker")
    [republish] = Handling.objects.filter(consumer="publisher", event__kind="snapshot.republish", state="pending")
    assert republish.state == "pending" and republish.progress["phase"] == "incidents"

    incident = services.open_incident(name="Database down", impact="critical")
    work_once(consumer, "worker")  # the outage's pages, and the next step of the republication
    assert "Database down" in published("/api/v2/summary.json").decode()
    republish.refresh_from_db()
    assert republish.state == "pending" and republish.progress["done"] > 0

    while Handling.objects.filter(consumer="publisher", state="pending").exists():
        assert work_once(consumer, "worker")
    republish.refresh_from_db()
    assert republish.state == "done"
    assert SnapshotFile.objects.filter(path=incident.public_path).exists()


def test_the_clock_republishes_relative_times_and_the_new_day(site, components):
    from signalpost.events.models import Event
    from signalpost.presentation.zone import page_zone

    incident = services.open_incident(name="Slow API")
    publish()
    now = timezone.now()
    assert clock_events(now) in (["clock.day"], [])
    clock_events(now)
    assert clock_events(now + timedelta(minutes=10)) == ["clock.refresh"]
    assert clock_events(now + timedelta(minutes=10)) == []  # said once, however many workers ask
    refresh = Event.objects.filter(kind="clock.refresh").order_by("-id").first()
    # What time alone changes: the page's state, the open incident's page (its relative times).
    pages = publisher.pages_for(refresh, now, page_zone())
    assert incident.public_path in pages and "/" in pages
    assert not any(o.public_path in pages for o in site)  # resolved incidents say nothing relative
    assert clock_events(now + timedelta(days=1)) == ["clock.day"]
    publish()
    assert not Handling.objects.filter(consumer="publisher", state="pending").exists()


def test_the_page_s_settings_republish_every_page(site):
    services.update_page(name="Renamed Status")
    publish()
    for incident in site:
        assert "Renamed Status" in published(incident.public_path).decode()
    assert json.loads(published("/api/v2/summary.json"))["page"]["name"] == "Renamed Status"


def test_the_api_payloads_are_published_together_or_not_at_all(site, monkeypatch):
    from django.http import HttpResponseServerError
    from django.urls import resolve as real_resolve

    from signalpost.public import snapshot

    publish()
    before = {path: published(path) for path in snapshot.API_PATHS}

    def failing_resolve(path):
        match = real_resolve(path)
        if path == "/api/v2/summary.json":
            match.func = lambda request, *a, **kw: HttpResponseServerError("boom")
        return match

    monkeypatch.setattr(snapshot, "resolve", failing_resolve)
    services.open_incident(name="Database down", impact="critical")
    publish()
    # status.json rendered fine, but is held back with summary.json: readers never see one say
    # "critical" while the other says "none".
    assert {path: published(path) for path in snapshot.API_PATHS} == before
    assert "Database down" in published("/").decode()
    failing = Handling.objects.get(consumer="publisher", state="pending", event__kind="incident.opened")
    assert failing.progress["failed_pages"]["/api/v2/status.json"].startswith("held back")
