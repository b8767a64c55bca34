"""/api/v1/monitors: monitors listed with their state, shown with each location's state and their state
changes, created, changed, paused, resumed and removed by a script, with the rules and messages of the
monitors file; a monitor made through the API exports as the same YAML as one applied from a file."""

import ipaddress
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.monitors import config, store
from signalpost.monitors.models import Monitor
from signalpost.status import derive
from tests.api.conftest import TokenClient

API = "/api/v1/monitors"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOW = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def admin(client, make_token, components):
    return TokenClient(client, make_token("admin"))


def _errors(response) -> dict:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_a_monitor_is_created_shown_changed_paused_resumed_and_removed(admin, components):
    response = admin.post(API, {"name": "API health", "target": "http://127.0.0.1:9/health", "interval": 30,
                                "keyword": "ok", "components": ["zh1.single",
                                                                {"component": "Germany/de1.compact",
                                                                 "down": "partial_outage"}]})
    assert response.status_code == 201, response.content
    made = response.json()
    assert (made["name"], made["kind"], made["interval"], made["timeout"], made["state"]) == (
        "API health", "http", 30, 10.0, "unknown")
    assert {(c["name"], c["down"], c["degraded"]) for c in made["components"]} == {
        ("zh1.single", "major_outage", "degraded_performance"), ("de1.compact", "partial_outage",
                                                                 "degraded_performance")}
    path = f"{API}/{made['id']}"

    changed = admin.patch(path, {"interval": 5, "expected_status": [200]})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["interval"], changed.json()["timeout"], changed.json()["keyword"]) == (5, 5.0, "ok")
    assert changed.json()["expected_status"] == [200]

    paused = admin.post(f"{path}/pause")
    assert (paused.status_code, paused.json()["state"]) == (200, "paused")
    again = admin.post(f"{path}/pause")
    assert (again.status_code, _errors(again)) == (422, {"state": "is paused already"})
    assert admin.get(API, {"state": "paused"}).json()["count"] == 1
    resumed = admin.post(f"{path}/resume")
    assert (resumed.status_code, resumed.json()["state"]) == (200, "unknown")

    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404
    assert list(AuditEvent.objects.filter(action__startswith="monitor.").order_by("id")
                .values_list("action", flat=True)) == [
        "monitor.create", "monitor.update", "monitor.pause", "monitor.resume", "monitor.remove"]


def test_the_list_and_the_page_show_the_state_the_checks_gave(admin, components):
    made = admin.post(API, {"name": "API health", "target": "http://127.0.0.1:9/health",
                            "components": ["zh1.single"], "failures_to_down": 1}).json()
    monitor = Monitor.objects.get(public_id=made["id"])
    now = timezone.now()
    store.record("zurich", [store.Outcome(monitor.pk, now - timedelta(seconds=5), "down", 12, 503,
                                          "HTTP 503 Service Unavailable")])
    listed = admin.get(API).json()["items"][0]
    assert (listed["state"], listed["last_check"]["latency_ms"], listed["last_check"]["status_code"]) == (
        "down", 12, 503)
    assert listed["last_problem"]["reason"] == "HTTP 503 Service Unavailable"
    shown = admin.get(f"{API}/{made['id']}").json()
    assert [(s["location"], s["state"], s["last_status_code"]) for s in shown["locations"]] == [
        ("zurich", "down", 503)]
    assert [(c["from_state"], c["to_state"]) for c in shown["state_changes"]] == [("unknown", "down")]
    assert [r["verdict"] for r in shown["results"]] == ["down"]
    zh1 = components["zh1"]
    assert derive.current_statuses([zh1], timezone.now())[zh1.pk] == "major_outage"


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": "X", "target": "http://127.0.0.1:9/", "interval": 0}, "interval", "must be a whole number from 1 to 86400"),
    ({"name": "X", "target": "mail:25", "kind": "tcp", "keyword": "ok"}, "keyword",
     "is for http monitors only (this one is tcp)"),
    ({"name": "X", "target": "http://10.1.2.3/"}, "target",
     "a monitor at an internal address must be allowed by SIGNALPOST_OUTBOUND_ALLOW"),
    ({"name": "X", "target": "http://127.0.0.1:9/", "components": ["no such"]}, "components", ""),
    ({"name": " ", "target": "http://127.0.0.1:9/"}, "name", "is required (text of at most 200 characters)"),
    ({"name": "X", "target": "http://127.0.0.1:9/", "colour": "red"}, "colour", ""),
])
def test_a_mistake_is_refused_naming_the_field_as_the_file_would(admin, body, field, message):
    response = admin.post(API, body)
    assert response.status_code == 422, response.content
    assert field in _errors(response) and _errors(response)[field].startswith(message)
    assert not Monitor.objects.exists()
    if field not in ("colour", "name"):  # the file gets the same message
        with pytest.raises(config.BadFile) as bad:
            config.parse(yaml.safe_dump({"monitors": [body]}))
        assert f"monitor 'X': {field}: {_errors(response)[field]}" in bad.value.errors


def test_two_monitors_may_not_share_a_name_and_a_bad_change_changes_nothing(admin):
    first = admin.post(API, {"name": "A", "target": "http://127.0.0.1:9/"}).json()
    admin.post(API, {"name": "B", "target": "http://127.0.0.1:9/"})
    again = admin.post(API, {"name": "A", "target": "http://127.0.0.1:9/"})
    assert (again.status_code, _errors(again)) == (422, {"name": "another monitor is called 'A'"})
    renamed = admin.patch(f"{API}/{first['id']}", {"name": "B", "timeout": 500})
    assert renamed.status_code == 422
    assert set(_errors(renamed)) == {"name", "timeout"}
    assert Monitor.objects.get(public_id=first["id"]).name == "A"
    bad_json = admin.client.post(API, "{", content_type="application/json",
                                 headers={"Authorization": f"Bearer {admin.token}"})
    assert bad_json.status_code == 400 and bad_json.json()["errors"][0]["field"] == "body"


def test_a_kind_changed_drops_the_fields_the_new_kind_does_not_have(admin):
    made = admin.post(API, {"name": "Relay", "target": "http://127.0.0.1:9/", "keyword": "ok"}).json()
    changed = admin.patch(f"{API}/{made['id']}", {"kind": "tcp", "target": "127.0.0.1:25"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["kind"], changed.json()["keyword"]) == ("tcp", None)
    assert "keyword" not in config.export()


@pytest.mark.parametrize(("scope", "method", "suffix", "status"), [
    ("read", "post", "", 403), ("write", "post", "", 403), ("write", "patch", "/{id}", 403),
    ("write", "delete", "/{id}", 403), ("read", "post", "/{id}/pause", 403), ("write", "post", "/{id}/pause", 200),
    ("read", "get", "/{id}", 200),
])
def test_each_operation_needs_its_scope(client, make_token, admin, scope, method, suffix, status):
    made = admin.post(API, {"name": "A", "target": "http://127.0.0.1:9/"}).json()
    other = TokenClient(client, make_token(scope))
    path = API + suffix.replace("{id}", made["id"])
    response = getattr(other, method)(path, {"name": "B", "target": "http://127.0.0.1:9/"}) \
        if method in ("post", "patch") else getattr(other, method)(path)
    assert response.status_code == status, response.content
    if status == 403:
        assert Monitor.objects.get().name == "A" and not Monitor.objects.get().paused


FILE = """\
monitors:
  - name: API health
    target: http://127.0.0.1:9/health
    interval: 30
    keyword: '"ok": true'
    degraded_above_ms: 800
    components: [zh1.single, {component: Germany/de1.compact, down: partial_outage}]
  - name: Mail relay
    kind: tcp
    target: 127.0.0.1:25
    components: [Mail delivery]
"""


def test_a_monitor_made_through_the_api_exports_as_the_one_applied_from_a_file(admin):
    config.apply(config.parse(FILE))
    from_file = config.export()
    for monitor in Monitor.objects.all():
        config.remove(monitor)
    assert admin.post(API, {"name": "API health", "target": "http://127.0.0.1:9/health", "interval": 30,
                            "keyword": '"ok": true', "degraded_above_ms": 800,
                            "components": ["zh1.single", {"component": "Germany/de1.compact",
                                                          "down": "partial_outage"}]}).status_code == 201
    assert admin.post(API, {"name": "Mail relay", "kind": "tcp", "target": "127.0.0.1:25",
                            "components": ["Mail delivery"]}).status_code == 201
    assert config.export() == from_file
    assert config.plan(config.parse(from_file), prune=True) == []
