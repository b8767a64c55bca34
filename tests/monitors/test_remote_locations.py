"""The server's side of remote locations, through /api/v1/probe: the monitors a probe checks (with an
ETag), batches of results recorded once however often they are sent, refusals naming the field, a
late backlog that moves no verdict backwards, the probe token that can do nothing else, and the
locations listed by `signalpost monitors locations`."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.cli import main
from signalpost.monitors.models import CheckResult, LocationState, Monitor, ProbeLocation, StateChange


@pytest.fixture
def monitor(page):
    return Monitor.objects.create(name="API health", target="https://api.example.com/health", interval_seconds=30,
                                  timeout_seconds=5, failures_to_down=2, headers={"X-Check": "1"})


@pytest.fixture
def probe_token(make_token):
    return make_token("probe", name="zurich probe")


def _post(client, token, body):
    return client.post("/api/v1/probe/results", body, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})


def _batch(monitor, verdicts, start=None, location="zurich", batch=None):
    start = start or timezone.now() - timedelta(minutes=5)
    return {"location": location, "batch": str(batch or uuid.uuid4()), "results": [
        {"monitor": monitor.public_id, "at": (start + timedelta(seconds=30 * i)).isoformat(), "verdict": v,
         "latency_ms": 12, "status_code": 200 if v == "up" else 503, "reason": "" if v == "up" else "HTTP 503"}
        for i, v in enumerate(verdicts)]}


def test_a_probe_lists_the_monitors_to_check_and_an_unchanged_listing_answers_304(client, monitor, probe_token):
    Monitor.objects.create(name="Paused", target="https://x.example.com/", paused=True)
    auth = {"Authorization": f"Bearer {probe_token}"}
    response = client.get("/api/v1/probe/monitors", headers=auth)
    assert response.status_code == 200
    [listed] = response.json()["monitors"]
    assert (listed["id"], listed["target"], listed["interval"], listed["timeout"], listed["headers"]) == (
        monitor.public_id, "https://api.example.com/health", 30, 5.0, {"X-Check": "1"})
    tag = response["ETag"]
    again = client.get("/api/v1/probe/monitors", headers={**auth, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    Monitor.objects.filter(pk=monitor.pk).update(interval_seconds=60)
    changed = client.get("/api/v1/probe/monitors", headers={**auth, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["monitors"][0]["interval"] == 60


def test_a_batch_sent_twice_is_recorded_once(client, monitor, probe_token):
    body = _batch(monitor, ["up", "down", "down"])
    first = _post(client, probe_token, body)
    assert first.status_code == 200, first.content
    assert first.json() == {"batch": body["batch"], "recorded": 3, "ignored": 0, "duplicate": False}
    second = _post(client, probe_token, body)  # its acknowledgement was lost: the probe sends it again
    assert second.json() == {"batch": body["batch"], "recorded": 0, "ignored": 0, "duplicate": True}
    assert CheckResult.objects.filter(location="zurich").count() == 3
    assert LocationState.objects.get(location="zurich").state == "down"
    assert list(StateChange.objects.values_list("to_state", flat=True)) == ["down"]  # as of the batch's last
    place = ProbeLocation.objects.get()
    assert (place.name, place.results_received, place.token_name) == ("zurich", 3, "zurich probe")
    # The location's first contact is audited; the batches are observations and are not.
    assert list(AuditEvent.objects.filter(action__startswith="probe").values_list("action", flat=True)) == [
        "probe_location.create"]


def test_a_backlog_older_than_the_locations_last_result_is_kept_but_moves_no_verdict(client, monitor, probe_token):
    now = timezone.now()
    assert _post(client, probe_token, _batch(monitor, ["up", "up"], start=now - timedelta(minutes=1))).status_code == 200
    late = _post(client, probe_token, _batch(monitor, ["down", "down", "down"], start=now - timedelta(minutes=10)))
    assert late.json()["recorded"] == 3
    assert CheckResult.objects.filter(location="zurich", verdict="down").count() == 3  # in the history
    state = LocationState.objects.get(location="zurich")
    assert (state.state, state.down_run, state.last_verdict) == ("up", 0, "up")  # the runs did not go back
    assert Monitor.objects.get(pk=monitor.pk).state == "up"


def test_results_for_a_removed_monitor_are_ignored_and_the_rest_recorded(client, monitor, probe_token):
    gone = Monitor.objects.create(name="Gone", target="https://gone.example.com/")
    body = _batch(monitor, ["up"])
    body["results"] += _batch(gone, ["up", "up"])["results"]
    gone.delete()
    response = _post(client, probe_token, body)
    assert response.json()["recorded"] == 1 and response.json()["ignored"] == 2


@pytest.mark.parametrize(("change", "field"), [
    (lambda r: r.update(verdict="sideways"), "results[1].verdict"),
    (lambda r: r.update(at=(timezone.now() + timedelta(minutes=10)).isoformat()), "results[1].at"),
    (lambda r: r.update(at="2026-12-06T20:00:00"), "results[1].at"),
    (lambda r: r.update(monitor="not/an/id"), "results[1].monitor"),
    (lambda r: r.update(status_code=99), "results[1].status_code"),
    (lambda r: r.update(reason="x" * 301), "results[1].reason"),
])
def test_a_bad_result_refuses_the_batch_naming_the_field(client, monitor, probe_token, change, field):
    body = _batch(monitor, ["up", "up"])
    change(body["results"][1])
    response = _post(client, probe_token, body)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not CheckResult.objects.exists() and not ProbeLocation.objects.exists()


def test_a_batch_without_an_id_or_location_or_too_large_is_refused(client, monitor, probe_token):
    body = _batch(monitor, ["up"])
    for key, value, field in (("batch", "nope", "batch"), ("location", " ", "location"),
                              ("results", _batch(monitor, ["up"] * 2001)["results"], "results")):
        response = _post(client, probe_token, {**body, key: value})
        assert response.status_code == 422, (key, response.content)
        assert response.json()["errors"][0]["field"] == field


def test_a_probe_token_can_do_nothing_else_and_other_tokens_but_admin_cannot_probe(client, monitor, make_token):
    probe = make_token("probe")
    for path in ("/api/v1/status", "/api/v1/incidents", "/api/v1/components"):
        assert client.get(path, headers={"Authorization": f"Bearer {probe}"}).status_code == 403
    refused = client.post("/api/v1/incidents", {"name": "x", "body": "y"}, content_type="application/json",
                          headers={"Authorization": f"Bearer {probe}"})
    assert refused.status_code == 403
    for scope, expected in (("read", 403), ("write", 403), ("admin", 200), ("probe", 200)):
        response = client.get("/api/v1/probe/monitors", headers={"Authorization": f"Bearer {make_token(scope)}"})
        assert response.status_code == expected, scope


def test_the_locations_are_listed_with_their_last_contact_results_and_token(client, monitor, probe_token,
                                                                             capsys):
    _post(client, probe_token, _batch(monitor, ["up", "up"]))
    _post(client, probe_token, _batch(monitor, ["up"], location="frankfurt"))
    LocationState.objects.create(monitor=monitor, location="local", last_at=timezone.now())
    assert main(["monitors", "locations"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["LOCATION", "LAST", "SEEN", "RESULTS", "MONITORS", "TOKEN"]
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert set(by_name) == {"frankfurt", "local", "zurich"}
    assert by_name["zurich"].split()[2:4] == ["2", "1"] and "zurich probe (" in by_name["zurich"]
    assert by_name["local"].endswith("on this database")


def test_the_token_command_makes_a_probe_token(db, capsys):
    assert main(["token", "create", "--scope", "probe", "--name", "zurich"]) == 0
    assert "(probe) created" in capsys.readouterr().err
