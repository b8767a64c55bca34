"""The monitors screens: the list with each monitor's state, last check and last failure; a monitor's
page with each location, its state changes and latest results; the form built from the monitors file's
fields, refusing with the file's messages beside the field; pause, resume and remove; who may do what."""

import ipaddress
from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.monitors import config, store
from signalpost.monitors.models import Monitor, MonitorComponent

from .events_support import field_block, signed_in


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOW = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def admin(client, components):
    return signed_in(client, "ada", "admin")


def _down(monitor: Monitor) -> None:
    now = timezone.now()
    store.record("zurich", [store.Outcome(monitor.pk, now - timedelta(seconds=s), "down", 42, 503,
                                          "HTTP 503 Service Unavailable") for s in (90, 60, 30)])


def _make(components, **fields) -> Monitor:
    return config.create({"name": "API health", "target": "http://127.0.0.1:9/health",
                          "components": ["zh1.single"], **fields})


def test_the_list_shows_each_monitor_with_its_state_last_check_and_last_failure(admin, components):
    _down(_make(components))
    config.create({"name": "Mail relay", "kind": "tcp", "target": "127.0.0.1:25", "paused": True})
    page = admin.get("/console/monitors/").content.decode()
    api_row = page[page.index("API health"):page.index("</tr>", page.index("API health"))]
    assert ">down<" in api_row and "42 ms" in api_row and "HTTP 503 Service Unavailable" in api_row
    assert "zh1.single" in api_row and "http://127.0.0.1:9/health" in api_row
    mail_row = page[page.index("Mail relay"):page.index("</tr>", page.index("Mail relay"))]
    assert ">paused<" in mail_row and "TCP port" in mail_row and "not checked yet" in mail_row
    assert 'href="/console/monitors/"' in page  # in the navigation


def test_a_monitors_page_shows_its_locations_changes_and_results(admin, components):
    monitor = _make(components, headers={"Authorization": "Bearer s3cret"})
    _down(monitor)
    page = admin.get(f"/console/monitors/{monitor.public_id}").content.decode()
    locations = page[page.index('id="locations-title"'):page.index('id="settings-title"')]
    assert "zurich" in locations and ">down<" in locations and "503" in locations
    changes = page[page.index('id="changes-title"'):page.index('id="results-title"')]
    assert "unknown" in changes and "from 1 of 1 location" in changes
    results = page[page.index('id="results-title"'):]
    assert results.count("42 ms") == 3
    assert "Major outage" in page and "Authorization" in page and "s3cret" not in page
    assert 'data-confirm="Remove the monitor API health?' in page


def test_a_monitor_created_in_the_form_is_the_one_the_file_would_make(admin, components):
    zh1, de1 = components["zh1"].public_id, components["de1"].public_id
    form = admin.get("/console/monitors/new").content.decode()
    assert 'name="keyword"' in form and f'name="down_{zh1}"' in form
    assert 'name="keyword"' not in admin.get("/console/monitors/new?kind=tcp").content.decode()
    response = admin.post("/console/monitors/new", {
        "name": "API health", "target": "http://127.0.0.1:9/health", "interval": "30", "method": "GET",
        "expected_status": "2xx, 3xx", "keyword": '"ok": true', "degraded_above_ms": "800",
        "follow_redirects": "on", "verify_tls": "on", "tls_expiry_days": "14", "failures_to_down": "3",
        "successes_to_up": "2", "headers": "", f"down_{zh1}": "major_outage",
        f"degraded_{zh1}": "degraded_performance", f"down_{de1}": "partial_outage",
        f"degraded_{de1}": "degraded_performance"})
    monitor = Monitor.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/monitors/{monitor.public_id}"
    exported = config.export()
    for monitor in Monitor.objects.all():
        config.remove(monitor)
    config.apply(config.parse("""\
monitors:
  - name: API health
    target: http://127.0.0.1:9/health
    interval: 30
    keyword: '"ok": true'
    degraded_above_ms: 800
    components: [zh1.single, {component: Germany/de1.compact, down: partial_outage}]
"""))
    assert config.export() == exported


def test_a_mistake_is_shown_beside_its_field_with_the_files_message(admin, components):
    response = admin.post("/console/monitors/new?kind=tcp", {"name": "Relay", "target": "10.1.2.3:25",
                                                             "interval": "often", "failures_to_down": "3",
                                                             "successes_to_up": "2"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be a whole number from 1 to 86400" in field_block(page, "id_interval")
    assert "must be allowed by SIGNALPOST_OUTBOUND_ALLOW" in field_block(page, "id_target")
    assert not Monitor.objects.exists()
    page = admin.post("/console/monitors/new", {"name": "", "target": "http://127.0.0.1:9/"}).content.decode()
    assert "is required" in field_block(page, "id_name")


def test_editing_keeps_what_the_form_does_not_change_and_unlinks_a_component(admin, components):
    monitor = _make(components, interval=30, keyword="ok")
    _down(monitor)
    form = admin.get(f"/console/monitors/{monitor.public_id}/edit").content.decode()
    assert 'value="30"' in form and 'value="ok"' in form
    zh1 = components["zh1"].public_id
    response = admin.post(f"/console/monitors/{monitor.public_id}/edit", {
        "name": "API health (v2)", "target": "http://127.0.0.1:9/health", "interval": "30", "keyword": "ok",
        "method": "GET", "expected_status": "200", "failures_to_down": "3", "successes_to_up": "2",
        "tls_expiry_days": "14", f"down_{zh1}": ""})
    assert response.status_code == 302
    monitor.refresh_from_db()
    assert (monitor.name, monitor.expected_statuses, monitor.follow_redirects) == ("API health (v2)", [200], False)
    assert not MonitorComponent.objects.filter(monitor=monitor).exists()
    assert AuditEvent.objects.filter(action="monitor.update").count() == 1


def test_pause_resume_and_remove(admin, components):
    monitor = _make(components)
    _down(monitor)
    assert admin.post(f"/console/monitors/{monitor.public_id}/pause").status_code == 302
    page = admin.get(f"/console/monitors/{monitor.public_id}").content.decode()
    assert ">paused<" in page and "Resume" in page
    admin.post(f"/console/monitors/{monitor.public_id}/resume")
    monitor.refresh_from_db()
    assert not monitor.paused and monitor.state == "unknown"
    admin.post(f"/console/monitors/{monitor.public_id}/remove")
    assert not Monitor.objects.exists()
    assert list(AuditEvent.objects.filter(action__startswith="monitor.").values_list("action", flat=True)
                .order_by("id")) == ["monitor.create", "monitor.pause", "monitor.resume", "monitor.remove"]


def test_a_viewer_sees_but_may_not_change_and_a_responder_may_pause(client, components):
    monitor = _make(components)
    signed_in(client, "vera", "viewer")
    page = client.get(f"/console/monitors/{monitor.public_id}").content.decode()
    assert "Pause" not in page and "Edit" not in page and "Remove" not in page
    assert "New monitor" not in client.get("/console/monitors/").content.decode()
    assert client.post(f"/console/monitors/{monitor.public_id}/pause").status_code == 403
    signed_in(client, "rita", "responder")
    page = client.get(f"/console/monitors/{monitor.public_id}").content.decode()
    assert "Pause" in page and "Edit" not in page
    assert client.post(f"/console/monitors/{monitor.public_id}/edit", {"name": "x"}).status_code == 403
    assert client.post(f"/console/monitors/{monitor.public_id}/pause").status_code == 302
    assert Monitor.objects.get().paused and Monitor.objects.get().name == "API health"


def test_a_responder_publishes_the_draft_incident_a_monitor_made_from_its_page(client, components):
    from signalpost.events.consumers import get
    from signalpost.events.work import drain
    from signalpost.status.models import Incident

    monitor = _make(components, incident={"mode": "draft", "title": "{components} unavailable"})
    _down(monitor)
    drain(get("monitor_incidents"))
    responder = signed_in(client, "rita", "responder")
    page = responder.get(f"/console/monitors/{monitor.public_id}").content.decode()
    assert "A draft incident waits" in page and "Switzerland / zh1.single unavailable" in page
    assert not Incident.objects.exists()  # a draft, not published

    response = responder.post(f"/console/monitors/{monitor.public_id}/publish-draft")
    [incident] = Incident.objects.all()
    assert response.status_code == 302 and response["Location"] == f"/console/incidents/{incident.public_id}"
    assert incident.name == "Switzerland / zh1.single unavailable" and incident.is_open
    assert [c.public_id for c in incident.components.all()] == [components["zh1"].public_id]
    again = responder.post(f"/console/monitors/{monitor.public_id}/publish-draft", follow=True).content.decode()
    assert "has no draft incident waiting" in again and Incident.objects.count() == 1


def test_a_heartbeat_is_made_in_the_form_and_its_page_gives_its_ping_url(admin, components, settings):
    settings.SITE_URL = "https://status.example.com"
    response = admin.post("/console/monitors/new?kind=heartbeat", {
        "name": "Nightly backup", "cron": "30 2 * * *", "tz": "Europe/Zurich", "grace": "600",
        "failures_to_down": "1", "successes_to_up": "1"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    monitor = Monitor.objects.get(name="Nightly backup")
    assert (monitor.kind, monitor.cron, monitor.cron_zone, monitor.grace_seconds) == (
        "heartbeat", "30 2 * * *", "Europe/Zurich", 600)
    page = admin.get(f"/console/monitors/{monitor.public_id}").content.decode()
    assert f"https://status.example.com/ping/{monitor.heartbeat_key}" in page
