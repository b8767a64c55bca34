"""A monitor going down, as the team and the readers notice it: its automatic incident opened (or drafted)
and resolved, the time to detect in the postmortem figures, one message to the team's channel for the
monitors failing together, reminders while it stays down, nothing for a monitor under maintenance, and
nothing to subscribers unless asked. Checks are made by the real engine against an HTTP server on
loopback; their outcomes go through the probe's store at times the test chooses; the consumers' passes
are the worker's own."""

import ipaddress
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import yaml

from signalpost.accounts.models import AuditEvent
from signalpost.cli import main
from signalpost.errors import InvalidInput
from signalpost.events.consumers import get
from signalpost.events.models import Handling
from signalpost.events.work import drain
from signalpost.monitors import alerts, config, incidents, store
from signalpost.monitors.models import AutoIncident, Monitor, MonitorAlert, MonitorComponent
from signalpost.notify import admin
from signalpost.notify.models import Delivery
from signalpost.postmortems import figures
from signalpost.postmortems.services import create_postmortem
from signalpost.status import services
from signalpost.status.models import Incident
from tests.monitors.targets import HttpTarget
from tests.monitors.test_engine_checks import http, run_checks
from tests.notify.conftest import notify_and_send, sink, subscribe  # noqa: F401 - sink is a fixture
from tests.notify.receiver import Receiver

MINUTE = timedelta(minutes=1)
WORKER = "test:1"


@pytest.fixture
def allowed(settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.fixture
def target(allowed):
    server = HttpTarget().start()
    yield server
    server.stop()


@pytest.fixture
def receiver(allowed):
    with Receiver() as running:
        yield running


@pytest.fixture
def channel(receiver):
    return admin.add_team_channel(name="On-call", url=f"json://127.0.0.1:{receiver.port}/alerts",
                                  kinds=["monitor.state_changed"])


@pytest.fixture
def start() -> datetime:
    """The first check: in the past, so that every time the test goes through is before the real now."""
    return datetime.now(dt_timezone.utc).replace(microsecond=0) - timedelta(hours=4)


def make_monitor(name: str, target: HttpTarget, component, **fields) -> Monitor:
    monitor = Monitor.objects.create(name=name, target=target.url(), interval_seconds=60, timeout_seconds=2,
                                     **fields)
    MonitorComponent.objects.create(monitor=monitor, component=component)
    return monitor


def real_outcome(monitor: Monitor) -> store.Outcome:
    """One check of the monitor by the engine, against its target as it answers now."""
    check = http(monitor.pk, monitor.target)
    outcome = run_checks(replace(check, public_id=monitor.public_id))[monitor.pk][0]
    assert "refused" not in outcome.reason
    return outcome


def checks(monitor: Monitor, outcome: store.Outcome, at: datetime, count: int) -> datetime:
    """The outcome recorded `count` times, one interval apart from `at`; returns the time after."""
    for _ in range(count):
        store.record("local", [replace(outcome, at=at)])
        at += timedelta(seconds=monitor.interval_seconds)
    return at


def consumers_pass() -> None:
    drain(get("monitor_incidents"))
    drain(get("monitor_alerts"))


def messages(receiver) -> list[dict]:
    return [m["body"] for m in receiver.received]


def test_a_monitor_going_down_opens_its_incident_alerts_the_team_once_and_resolves_it(
        db, components, target, channel, receiver, sink, start):
    subscriber = subscribe("ana@example.com")
    monitor = make_monitor("API health", target, components["zh1"], incident_mode="publish",
                           incident_title="{components} unreachable",
                           incident_body="Checks of {monitor} fail since {since}: {reason}.")
    up = real_outcome(monitor)
    target.status = 503
    down = real_outcome(monitor)
    assert (up.verdict, down.verdict, down.reason) == ("up", "down", "HTTP 503 Service Unavailable")

    at = checks(monitor, up, start, 1)
    first_failure = at
    at = checks(monitor, down, at, 3)
    down_at = at - MINUTE  # the third failure
    consumers_pass()

    [incident] = Incident.objects.all()
    assert incident.name == "Switzerland / zh1.single unreachable"
    assert "Checks of API health fail since" in incident.updates.get().body
    assert "HTTP 503 Service Unavailable from 1 of 1 location" in incident.updates.get().body
    assert (incident.started_at, incident.impact_started_at, incident.status) == (down_at, first_failure,
                                                                                 "investigating")
    assert dict(incident.affected.values_list("component__name", "status")) == {"zh1.single": "major_outage"}
    postmortem = create_postmortem(incidents=[incident], title="API outage")
    assert figures.compute(postmortem).time_to_detect == timedelta(minutes=2)

    # The team hears once the window has passed, in one message with the reason and the incident's link.
    alerts.run_once(WORKER, now=down_at + timedelta(seconds=10))
    assert receiver.received == []
    alerts.run_once(WORKER, now=down_at + timedelta(seconds=31))
    [message] = messages(receiver)
    assert message["title"] == "API health is down"
    assert "HTTP 503 Service Unavailable" in message["message"]
    assert f"/console/incidents/{incident.public_id}" in message["message"]
    assert "zh1.single (major outage)" in message["message"]

    # The event handled again (a worker that died before marking it) opens nothing and tells nobody twice.
    Handling.objects.filter(consumer__in=["monitor_incidents", "monitor_alerts"]).update(state="pending")
    consumers_pass()
    alerts.run_once(WORKER, now=down_at + timedelta(minutes=1))
    assert Incident.objects.count() == 1 and len(receiver.received) == 1

    target.status = 200
    recovered = real_outcome(monitor)
    at = checks(monitor, recovered, at, 2)
    up_at = at - MINUTE
    consumers_pass()
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", up_at)
    assert "work again" in incident.updates.order_by("-display_at").first().body
    alerts.run_once(WORKER, now=up_at + timedelta(seconds=31))
    assert [m["title"] for m in messages(receiver)] == ["API health is down", "API health is up again"]

    # Subscribers are told nothing: the monitor's incident does not notify.
    notify_and_send()
    assert sink.recipients() == {} and not Delivery.objects.filter(subscriber=subscriber).exists()


def test_a_monitor_going_down_again_while_its_incident_is_open_opens_no_second(db, components, target, start):
    monitor = make_monitor("API health", target, components["zh1"], incident_mode="publish")
    up = real_outcome(monitor)
    target.status = 503
    down = real_outcome(monitor)
    at = checks(monitor, up, start, 1)
    at = checks(monitor, down, at, 3)
    consumers_pass()
    # Degraded for a while (one slow answer and failures), then down again: the incident stays the one.
    at = checks(monitor, replace(up, verdict="degraded", reason="slow: 2300 ms (above 1000 ms)"), at, 2)
    at = checks(monitor, down, at, 3)
    consumers_pass()
    assert Monitor.objects.get().state == "down"
    assert Incident.objects.count() == 1 and AutoIncident.objects.count() == 1


def test_a_monitor_that_notifies_tells_the_subscribers(db, components, target, sink, start):
    subscribe("ana@example.com")
    monitor = make_monitor("API health", target, components["zh1"], incident_mode="publish", incident_notify=True)
    up = real_outcome(monitor)
    target.status = 503
    at = checks(monitor, up, start, 1)
    checks(monitor, real_outcome(monitor), at, 3)
    consumers_pass()
    notify_and_send()
    [mail] = sink.messages()
    assert mail["To"] == "ana@example.com" and "unavailable" in mail["Subject"]


def test_a_draft_waits_for_a_responder_and_is_dropped_if_the_monitor_recovers_first(
        db, components, target, start, capsys):
    monitor = make_monitor("API health", target, components["zh1"], incident_mode="draft")
    up = real_outcome(monitor)
    target.status = 503
    down = real_outcome(monitor)
    at = checks(monitor, up, start, 1)
    first_failure = at
    at = checks(monitor, down, at, 3)
    consumers_pass()
    assert not Incident.objects.exists()
    [draft] = incidents.drafts()
    assert draft.title == "Switzerland / zh1.single unavailable"

    assert main(["monitors", "publish", "API health"]) == 0
    [incident] = Incident.objects.all()
    assert f"incident {incident.public_id} opened" in capsys.readouterr().out
    assert (incident.started_at, incident.impact_started_at) == (at - MINUTE, first_failure)
    assert AuditEvent.objects.filter(action="incident.open").count() == 1
    assert main(["monitors", "publish", "API health"]) == 1
    assert "has no draft incident waiting" in capsys.readouterr().err

    # Resolved on recovery like a published one; the next draft, if nobody publishes it, is dropped.
    at = checks(monitor, up, at, 2)
    consumers_pass()
    incident.refresh_from_db()
    assert incident.status == "resolved"
    at = checks(monitor, down, at, 3)
    consumers_pass()
    assert len(incidents.drafts()) == 1
    checks(monitor, up, at, 2)
    consumers_pass()
    assert incidents.drafts() == [] and Incident.objects.count() == 1
    with pytest.raises(InvalidInput):
        incidents.publish_draft("API health")


def test_two_monitors_failing_together_make_one_message(db, components, target, channel, receiver, start):
    api = make_monitor("API health", target, components["zh1"])
    mail = make_monitor("Mail relay", target, components["mail"])
    up = real_outcome(api)
    target.status = 503
    down = real_outcome(api)
    at = start
    for _ in range(1):
        store.record("local", [replace(up, monitor_id=api.pk, at=at), replace(up, monitor_id=mail.pk, at=at)])
    for n in range(1, 4):
        store.record("local", [replace(down, monitor_id=api.pk, at=at + n * MINUTE),
                               replace(down, monitor_id=mail.pk, at=at + n * MINUTE + timedelta(seconds=12))])
    consumers_pass()
    alerts.run_once(WORKER, now=at + 3 * MINUTE + timedelta(seconds=31))
    [message] = messages(receiver)
    assert message["title"] == "2 monitors changed state: 2 down"
    assert "API health is down" in message["message"] and "Mail relay is down" in message["message"]
    assert not Incident.objects.exists()  # incident_mode off


def test_a_monitor_whose_components_are_under_maintenance_alerts_nobody(db, components, target, channel, receiver,
                                                                        start, settings):
    window = services.schedule_maintenance(name="Storage upgrade", scheduled_for=start - timedelta(hours=1),
                                           scheduled_until=start + timedelta(hours=6), components=[components["zh1"]],
                                           display_at=start - timedelta(hours=2), now=start - timedelta(hours=2))
    services.start_maintenance(window, now=start - timedelta(hours=1))
    monitor = make_monitor("API health", target, components["zh1"])
    up = real_outcome(monitor)
    target.status = 503
    at = checks(monitor, up, start, 1)
    at = checks(monitor, real_outcome(monitor), at, 3)
    consumers_pass()
    assert MonitorAlert.objects.get().silenced
    alerts.run_once(WORKER, now=at + MINUTE)
    alerts.run_once(WORKER, now=at + 61 * MINUTE)  # a reminder falls in the window too
    alerts.run_once(WORKER, now=at + 62 * MINUTE)
    assert receiver.received == []


def test_a_monitor_that_stays_down_is_reminded_at_most_every_n_minutes(db, components, target, channel, receiver,
                                                                      start, settings):
    settings.MONITOR_ALERT_REMINDER_MINUTES = 60
    monitor = make_monitor("API health", target, components["zh1"])
    up = real_outcome(monitor)
    target.status = 503
    at = checks(monitor, up, start, 1)
    at = checks(monitor, real_outcome(monitor), at, 3)
    down_at = at - MINUTE
    consumers_pass()
    for minutes in (1, 30, 59):
        alerts.run_once(WORKER, now=down_at + minutes * MINUTE)
    assert [m["title"] for m in messages(receiver)] == ["API health is down"]
    for minutes in (61, 62, 90, 120):
        alerts.run_once(WORKER, now=down_at + minutes * MINUTE)
    assert [m["title"] for m in messages(receiver)] == ["API health is down", "API health is still down"]
    assert "for 1 hour" in messages(receiver)[1]["message"]
    alerts.run_once(WORKER, now=down_at + 122 * MINUTE)  # an hour after the last reminder, gathered as usual
    alerts.run_once(WORKER, now=down_at + 123 * MINUTE)
    assert len(receiver.received) == 3


def test_a_failing_channel_is_retried_and_the_message_not_sent_twice_to_the_others(
        db, components, target, channel, receiver, start):
    with Receiver(status=503) as failing:
        admin.add_team_channel(name="Backup", url=f"json://127.0.0.1:{failing.port}/b", kinds=["monitor.state_changed"])
        monitor = make_monitor("API health", target, components["zh1"])
        up = real_outcome(monitor)
        target.status = 503
        at = checks(monitor, up, start, 1)
        at = checks(monitor, real_outcome(monitor), at, 3)
        consumers_pass()
        alerts.run_once(WORKER, now=at)
        assert len(receiver.received) == 1 and len(failing.received) == 1
        failing.status = 200
        alerts.run_once(WORKER, now=at + 10 * MINUTE)
        assert len(receiver.received) == 1 and len(failing.received) == 2
        alerts.run_once(WORKER, now=at + 20 * MINUTE)
        assert len(failing.received) == 2


def test_the_incident_settings_are_in_the_file_and_apply_twice_changes_nothing(db, components, allowed):
    text = """
monitors:
  - name: API health
    target: http://127.0.0.1:9/health
    components: [Switzerland/zh1.single]
    incident:
      mode: draft
      title: "{monitor} down"
      notify: true
"""
    assert [c.action for c in config.apply(config.parse(text))] == ["create"]
    monitor = Monitor.objects.get()
    assert (monitor.incident_mode, monitor.incident_title, monitor.incident_notify) == ("draft", "{monitor} down", True)
    exported = config.export()
    assert yaml.safe_load(exported)["monitors"][0]["incident"] == {"mode": "draft", "title": "{monitor} down",
                                                                   "notify": True}
    assert config.apply(config.parse(text)) == []
    assert config.apply(config.parse(exported)) == []


@pytest.mark.parametrize("incident, error", [
    ({"mode": "sometimes"}, "incident: mode: must be one of off, draft, publish"),
    ({"title": "{monitor.__class__} down"}, "incident: title: {monitor.__class__} is not a placeholder"),
    ({"body": "x", "colour": "red"}, "incident: colour: not a field of the automatic incident"),
    ({"notify": "yes"}, "incident: notify: must be true or false"),
])
def test_bad_incident_settings_name_the_monitor_and_the_field(db, allowed, incident, error):
    text = yaml.safe_dump({"monitors": [{"name": "API", "target": "http://127.0.0.1:9/", "incident": incident}]})
    with pytest.raises(config.BadFile) as bad:
        config.parse(text)
    assert any(line.startswith(f"monitor 'API': {error}") for line in bad.value.errors), bad.value.errors


def test_a_template_is_filled_in_as_plain_text():
    values = {"monitor": "API", "reason": "{components}", "components": "zh1", "since": "now"}
    assert incidents.render("{monitor} {reason} {unknown} {0} {{x}}", values) == "API {components} {unknown} {0} {{x}}"


def test_a_channel_opts_in_to_monitor_alerts_on_the_team_alerts_screen(client, db, receiver):
    from django.urls import reverse

    from tests.console.events_support import signed_in

    signed_in(client, "ada", "admin")
    form = client.get(reverse("console:team_alerts")).content.decode()
    assert 'value="monitor.state_changed"' in form
    response = client.post(reverse("console:team_channel_new"), {
        "name": "Monitors only", "url": f"json://127.0.0.1:{receiver.port}/m", "kinds": ["monitor.state_changed"]})
    assert response.status_code == 302
    page = client.get(reverse("console:team_alerts")).content.decode()
    assert "A monitor went down, degraded or recovered" in page
    assert [c.name for c in alerts.team.channels_for("monitor.state_changed")] == ["Monitors only"]
    assert alerts.team.channels_for("delivery.failed") == []


def test_an_incident_a_responder_resolved_is_left_alone_and_the_next_outage_opens_a_new_one(
        db, components, target, start):
    monitor = make_monitor("API health", target, components["zh1"], incident_mode="publish")
    up = real_outcome(monitor)
    target.status = 503
    down = real_outcome(monitor)
    at = checks(monitor, up, start, 1)
    at = checks(monitor, down, at, 3)
    consumers_pass()
    [incident] = Incident.objects.all()
    services.resolve_incident(incident, body="Fixed by hand.", display_at=at)
    at = checks(monitor, up, at + MINUTE, 2)
    consumers_pass()
    assert list(incident.updates.values_list("body", flat=True)).count("Fixed by hand.") == 1
    assert incident.updates.count() == 2
    assert not Handling.objects.filter(consumer="monitor_incidents").exclude(state="done").exists()
    checks(monitor, down, at, 3)
    consumers_pass()
    assert Incident.objects.count() == 2 and Incident.objects.filter(resolved_at__isnull=True).count() == 1


def test_an_existing_channel_opts_in_to_monitor_alerts_without_giving_its_url_again(client, db, receiver):
    from django.urls import reverse

    from tests.console.events_support import signed_in

    signed_in(client, "ada", "admin")
    existing = admin.add_team_channel(name="Dead letters", url=f"json://127.0.0.1:{receiver.port}/d",
                                      kinds=["delivery.failed"])
    field = f"channel-{existing.pk}-kinds"
    url = reverse("console:team_channel_kinds", args=[existing.pk])
    refused = client.post(url, {})
    assert refused.status_code == 400 and "This field is required" in refused.content.decode()
    assert client.post(url, {field: ["delivery.failed", "monitor.state_changed"]}).status_code == 302
    existing.refresh_from_db()
    assert existing.kinds == ["delivery.failed", "monitor.state_changed"]
    assert [c.name for c in alerts.team.channels_for("monitor.state_changed")] == ["Dead letters"]
    [entry] = AuditEvent.objects.filter(action="team_channel.change")
    assert entry.before["kinds"] == ["delivery.failed"] and "monitor.state_changed" in entry.after["kinds"]
