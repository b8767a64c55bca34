"""The probe as it runs in production: a `signalpost worker --only probe` process on the test database,
checking a target on loopback every second, turning a component's status into a major outage while the
target fails and back to operational when it recovers, on the public page too."""

import ipaddress
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.cli import main
from signalpost.monitors.models import CheckResult, Monitor, ProbeLease, StateChange
from signalpost.status import derive, services
from tests.monitors.targets import HttpTarget
from tests.publishing import publish


def wait_for(condition, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def target():
    server = HttpTarget().start()
    yield server
    server.stop()


def published_status(client, name: str) -> str:
    publish()
    return {c["name"]: c["status"] for c in client.get("/api/v2/components.json").json()["components"]}[name]


def test_a_failing_target_makes_its_component_a_major_outage_and_recovery_clears_it(
        start_worker, target, client, page, settings, tmp_path):
    component = services.create_component(name="API")
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("127.0.0.1/32")]
    (tmp_path / "monitors.yaml").write_text(
        f"monitors:\n  - name: API health\n    target: {target.url()}\n    interval: 1\n    timeout: 0.8\n"
        "    components: [API]\n")
    assert main(["monitors", "apply", str(tmp_path / "monitors.yaml")]) == 0
    monitor = Monitor.objects.get()
    worker = start_worker("probe", SIGNALPOST_OUTBOUND_ALLOW="127.0.0.1/32")

    wait_for(lambda: Monitor.objects.get(pk=monitor.pk).state == "up", what="the monitor to be up")
    target.status = 503
    wait_for(lambda: derive.current_statuses([component])[component.pk] == "major_outage",
             what=f"the outage\n{worker.log}")
    [reason] = derive.status_reasons([component])[component.pk]
    assert reason.reason == "monitor 'API health' down: HTTP 503 Service Unavailable from 1 of 1 location"
    assert published_status(client, "API") == "major_outage"

    target.status = 200
    wait_for(lambda: derive.current_statuses([component])[component.pk] == "operational", what="the recovery")
    assert published_status(client, "API") == "operational"
    assert list(StateChange.objects.values_list("to_state", flat=True)) == ["up", "down", "up"]
    assert set(CheckResult.objects.values_list("location", flat=True)) == {"local"}


def test_a_monitor_at_an_internal_address_is_refused_without_the_setting(start_worker, target, page):
    monitor = Monitor.objects.create(name="Internal", target=target.url(), interval_seconds=1, timeout_seconds=0.8)
    start_worker("probe")
    result = wait_for(lambda: CheckResult.objects.filter(monitor=monitor).first(), what="a result")
    assert (result.verdict, result.reason) == (
        "down", "refused: 127.0.0.1 is a loopback address (allow it with SIGNALPOST_OUTBOUND_ALLOW)")
    assert target.hits == 0


def test_one_process_probes_a_location_at_a_time_and_another_takes_over_when_it_stops(db):
    from signalpost.monitors.probe import release_lease, take_lease

    assert take_lease("local", "web1:100")
    assert take_lease("local", "web1:100")  # renewed
    assert not take_lease("local", "web2:200")
    assert take_lease("zurich", "web2:200")  # another location is another lease
    release_lease("local", "web1:100")
    assert take_lease("local", "web2:200")
    assert not take_lease("local", "web3:300")
    ProbeLease.objects.filter(location="local").update(until=timezone.now() - timedelta(seconds=1))
    assert take_lease("local", "web3:300")  # the holder died: its lease ran out
