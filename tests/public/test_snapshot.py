"""The published snapshot: what readers get, how fast a change reaches every instance, and what
happens when rendering fails or the database is down."""

import gzip
import json
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponseServerError
from django.urls import resolve as real_resolve
from django.utils import timezone

from signalpost.events.models import Handling
from signalpost.public import snapshot
from signalpost.public.models import SnapshotFile
from signalpost.status import services
from signalpost.worker import Worker
from tests.publishing import publish, republish_everything


def _wait_for(predicate, timeout: float = 30.0, step: float = 0.05) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture
def published(transactional_db, data_dir):
    services.update_page(name="Example Status", time_zone="Europe/Zurich")
    group = services.create_group(name="Switzerland")
    services.create_component(name="zh1.single", group=group)
    republish_everything()


def test_it_publishes_every_public_url(published):
    paths = set(SnapshotFile.objects.values_list("path", flat=True))
    assert set(snapshot.CORE_PATHS) <= paths
    month = f"/history/{timezone.now().astimezone(timezone.get_current_timezone()):%Y-%m}"
    assert any(p.startswith("/history/") for p in paths), month


def test_it_serves_snapshot_with_etag_304_and_gzip(published, start_server):
    server = start_server()
    status, headers, body = server.get("/api/v2/summary.json")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert headers["access-control-allow-origin"] == "*"
    assert "last-modified" in headers and headers["vary"].lower() == "accept-encoding"
    etag = headers["etag"]
    assert json.loads(body)["page"]["name"] == "Example Status"

    status, headers, again = server.get("/api/v2/summary.json", {"If-None-Match": etag})
    assert status == 304 and again == b""

    status, gz_headers, compressed = server.get("/api/v2/summary.json", {"Accept-Encoding": "gzip"})
    assert status == 200 and gz_headers["content-encoding"] == "gzip"
    assert gzip.decompress(compressed) == body
    assert gz_headers["etag"] != etag  # one strong validator per encoding

    status, headers, page = server.get("/")
    assert status == 200 and b"Example Status" in page
    health = json.loads(server.get("/healthz")[2])
    assert health["status"] == "ok" and health["database"] == "reachable" and health["snapshot_version"] >= 1
    assert "script-src 'self'" in headers["content-security-policy"]


def test_a_change_made_through_one_instance_is_pushed_to_another(published, start_server, make_token):
    """The worker is woken by the write's commit and the web processes by the new version, not by
    their polls: with both polls set far beyond the wait, only the wake-ups can make the change show.
    (How fast it shows is measured by bench/write_path.py, not asserted here.)"""
    slow_polls = {"SIGNALPOST_EVENTS_POLL": "600", "SIGNALPOST_SNAPSHOT_POLL": "600"}
    first, second = start_server("a", **slow_polls), start_server("b", **slow_polls)
    token = make_token("write")
    import urllib.request

    request = urllib.request.Request(
        first.url + "/api/v1/incidents", method="POST",
        data=json.dumps({"name": "Database latency", "impact": "major", "body": "Looking into it."}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201

    def both_show_it() -> bool:
        return all(
            any(i["name"] == "Database latency" for i in json.loads(s.get("/api/v2/summary.json")[2])["incidents"])
            for s in (first, second)
        )

    _wait_for(both_show_it, timeout=60)


def test_it_never_publishes_an_error(published, monkeypatch):
    before = SnapshotFile.objects.get(path="/")

    def failing_resolve(path):
        match = real_resolve(path)
        if path == "/":
            match.func = lambda request, *a, **kw: HttpResponseServerError("database timeout")
        return match

    monkeypatch.setattr(snapshot, "resolve", failing_resolve)
    services.create_component(name="zh2.cluster", group=services.create_group(name="Germany"))
    publish()
    after = SnapshotFile.objects.get(path="/")
    assert bytes(after.body) == bytes(before.body)
    assert b"database timeout" not in bytes(after.body)
    # the other pages did take the change
    assert b"zh2.cluster" in bytes(SnapshotFile.objects.get(path="/api/v2/components.json").body)
    # the events that needed the page wait for another attempt, which names it
    failing = Handling.objects.filter(consumer="publisher", state="pending").exclude(last_error="")
    assert failing.count() == 2
    assert all(h.last_error == "rendering / failed: the page answered 500" for h in failing)

    monkeypatch.setattr(snapshot, "resolve", real_resolve)
    Handling.objects.filter(consumer="publisher").update(due_at=timezone.now())  # the back-off has passed
    publish()
    assert b"zh2.cluster" in bytes(SnapshotFile.objects.get(path="/").body)
    assert not Handling.objects.filter(consumer="publisher", state="pending").exists()


def test_it_keeps_answering_from_disk_while_the_database_is_down(published, start_server, tmp_path):
    directory = tmp_path / "instance"
    server = start_server(data_dir=directory)
    status, _, page = server.get("/")
    assert status == 200
    server.stop()

    down = start_server(data_dir=directory, worker=False,
                        DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
    status, headers, body = down.get("/")
    assert status == 200
    assert body == page
    assert b"Last updated" in body
    status, _, summary = down.get("/api/v2/summary.json")
    assert status == 200 and json.loads(summary)["page"]["name"] == "Example Status"
    status, _, health = down.get("/healthz")  # a load balancer keeps sending readers here
    assert status == 200
    health = json.loads(health)
    assert health["status"] == "degraded" and health["database"] == "unreachable"
    assert health["problems"] == ["database unreachable"]


def test_it_republishes_when_a_maintenance_starts_and_ends_by_itself(published):
    def published_json(path: str) -> dict:
        return json.loads(bytes(SnapshotFile.objects.get(path=path).body))

    now = timezone.now()
    component = services.find_components(["zh1.single"])[0]
    services.schedule_maintenance(name="Kernel upgrade", scheduled_for=now + timedelta(seconds=1),
                                  scheduled_until=now + timedelta(seconds=5), components=[component])
    worker = Worker(only=["transitions", "publisher"])
    worker.run_once()
    assert published_json("/api/v2/status.json")["status"]["indicator"] == "none"  # not yet due
    assert published_json("/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"][0]["name"] == (
        "Kernel upgrade")

    time.sleep(max(0.0, (now + timedelta(seconds=1) - timezone.now()).total_seconds()))
    worker.run_once()
    assert published_json("/api/v2/status.json")["status"]["indicator"] == "maintenance"
    active = published_json("/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [m["name"] for m in active] == ["Kernel upgrade"]
    assert active[0]["components"][0]["status"] == "under_maintenance"

    time.sleep(max(0.0, (now + timedelta(seconds=5) - timezone.now()).total_seconds()))
    worker.run_once()
    assert published_json("/api/v2/status.json")["status"]["indicator"] == "none"
    assert published_json("/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    assert published_json("/api/v2/scheduled-maintenances.json")["scheduled_maintenances"][0]["status"] == "completed"


def test_it_exports_the_snapshot_as_a_static_site(published, tmp_path, capsys):
    from signalpost.cli import main

    target = tmp_path / "site"
    assert main(["export", str(target)]) == 0
    assert "exported" in capsys.readouterr().out
    index = (target / "index.html").read_bytes()
    assert b"Example Status" in index and b"/static/public/public.css" in index
    assert gzip.decompress((target / "api/v2/summary.json.gz").read_bytes()) == (target / "api/v2/summary.json").read_bytes()
    assert (target / "static/public/public.css").exists() and (target / "static/public/public.js").exists()
    assert (target / "history.html").exists()


def test_it_publishes_the_current_month_as_the_same_page_as_history(published, client):
    month = f"/history/{timezone.now().astimezone(ZoneInfo('Europe/Zurich')):%Y-%m}"
    live_history, live_month = client.get("/history").content, client.get(month).content
    assert _without_render_times(live_history) == _without_render_times(live_month)
    assert bytes(SnapshotFile.objects.get(path=month).body) == bytes(SnapshotFile.objects.get(path="/history").body)


def _without_render_times(html: bytes) -> bytes:
    import re

    return re.sub(rb'<time[^>]*>[^<]*</time>', b"", html)


def test_an_upgrade_republishes_once_and_rewrites_only_the_pages_that_changed(published, capsys):
    from signalpost.cli import main

    untouched = SnapshotFile.objects.get(path="/api/v2/components.json").version
    assert main(["migrate"]) == 0
    assert "republished in the background" in capsys.readouterr().out
    assert main(["migrate"]) == 0  # the same code again: nothing more to republish
    assert "republished" not in capsys.readouterr().out
    assert Handling.objects.filter(consumer="publisher", state="pending").count() == 1
    publish()
    # Same bytes: not written again (pages that show the time of rendering may have moved on).
    assert SnapshotFile.objects.get(path="/api/v2/components.json").version == untouched
    assert not Handling.objects.filter(consumer="publisher", state="pending").exists()


def test_it_refuses_to_export_where_it_cannot_write(published, tmp_path, capsys):
    from signalpost.cli import main

    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a directory")
    assert main(["export", str(blocker)]) == 1
    assert capsys.readouterr().err.strip() == f"signalpost: {blocker} exists and is not a directory"
    assert main(["export", str(blocker / "site")]) == 1
    assert capsys.readouterr().err.strip().startswith(f"signalpost: cannot write to {blocker / 'site'}:")


def test_a_restored_database_takes_back_the_pages_it_does_not_have(published, start_server, tmp_path):
    from signalpost.status.models import Incident

    incident = services.open_incident(name="After the backup", impact="minor")
    publish()
    directory = tmp_path / "instance"
    server = start_server(data_dir=directory, worker=False)
    assert server.get(incident.public_path)[0] == 200
    server.stop()

    # The database is restored from a backup taken before the incident; the disk copy still has its page.
    SnapshotFile.objects.filter(path=incident.public_path).delete()
    Incident.objects.filter(pk=incident.pk).delete()
    again = start_server(data_dir=directory, worker=False)
    assert again.get(incident.public_path)[0] == 404
    assert not (directory / "snapshot" / "site" / "incidents" / f"{incident.public_id}.html").exists()


def test_pages_from_the_snapshot_carry_hsts_like_djangos_when_the_site_is_https(published, start_server):
    server = start_server(SIGNALPOST_URL="https://127.0.0.1")
    https = {"X-Forwarded-Proto": "https"}  # the TLS proxy in front says so, as Django's setting expects
    status, django_headers, _ = server.get("/console/login", https)
    assert status == 200 and django_headers["strict-transport-security"].startswith("max-age=31536000")
    for path in ("/", "/api/v2/summary.json"):
        status, headers, _ = server.get(path, https)
        assert status == 200 and "etag" in headers  # answered from the snapshot
        assert headers["strict-transport-security"] == django_headers["strict-transport-security"]
        status, headers, _ = server.get(path, {**https, "If-None-Match": headers["etag"]})
        assert status == 304 and headers["strict-transport-security"] == django_headers["strict-transport-security"]
    status, headers, _ = server.get("/")  # plain http: no HSTS, as Django does
    assert "strict-transport-security" not in headers


def test_unknown_ids_and_months_outside_the_history_are_answered_by_the_snapshot_alone(published, start_server,
                                                                                        tmp_path):
    """Proved with the database down: Django could not answer these at all, the snapshot's 404 does."""
    directory = tmp_path / "instance"
    server = start_server(data_dir=directory)
    assert server.get("/")[0] == 200
    # Once the publisher has caught up, the front answers (Django would render an empty month, and its
    # own plain "Not Found" for an unknown id)
    _wait_for(lambda: b"No page of Example Status" in server.get("/incidents/nosuchid")[2])
    for path in ("/history/1999-01", "/incidents/another", "/maintenance/nosuchid", "/postmortems/nosuchid"):
        status, _, body = server.get(path)
        assert status == 404 and b"No page of Example Status has this address" in body, path
    server.stop()
    assert SnapshotFile.objects.filter(path="/404.html").exists()
    now = timezone.now().astimezone(ZoneInfo("Europe/Zurich"))
    later = f"/history/{now.year + (now.month + 1) // 12}-{(now.month + 1) % 12 + 1:02d}"  # two months on

    down = start_server(data_dir=directory, worker=False, DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable")
    assert down.get(f"/history/{now:%Y-%m}")[0] == 200
    for path in ("/history/1999-01", later, "/history/2026-13", "/incidents/nosuchid", "/maintenance/nosuchid",
                 "/postmortems/nosuchid", "/postmortems/nosuchid.md"):
        status, headers, body = down.get(path)
        assert status == 404, path
        assert b"Not found" in body and b"Example Status" in body, path
        assert "etag" not in headers and "script-src 'self'" in headers["content-security-policy"]
    status, _, body = down.get("/incidents/nosuchid", {"Accept-Encoding": "gzip"})
    assert status == 404 and b"Not found" in gzip.decompress(body)


def test_the_front_and_the_publisher_agree_on_the_not_found_page():
    from signalpost.public import front, models

    assert front.NOT_FOUND == models.NOT_FOUND_PATH


def test_a_page_on_its_way_to_the_snapshot_is_answered_by_django_meanwhile(published, start_server):
    server = start_server(worker=False)  # no publisher: what it has to do stays waiting
    _wait_for(lambda: b"No page of Example Status" in server.get("/incidents/nosuchid")[2])
    incident = services.open_incident(name="Database failover", impact="major")

    def answered() -> bool:  # once the server has heard of the event (a datagram, or its poll)
        status, _, body = server.get(incident.public_path)
        return status == 200 and b"Database failover" in body

    _wait_for(answered, timeout=30)
