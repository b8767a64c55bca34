"""Heartbeat monitors: a job calls /ping/<uuid> over HTTP; a ping missing beyond the grace time, a start
without a success in time, a reported failure or a non-zero exit status make the monitor down, and its
component with it. Times are passed in (`now`), so that nothing waits."""

import threading
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.test import Client
from django.utils import timezone

from signalpost.cli import main
from signalpost.events.models import Event
from signalpost.monitors import heartbeat
from signalpost.monitors.models import CheckResult, Monitor
from signalpost.status import derive

UTC = dt_timezone.utc

FILE = """\
monitors:
  - name: Nightly backup
    kind: heartbeat
    every: 3600
    grace: 600
    components: [zh1.single]
"""


@pytest.fixture
def apply(tmp_path, capsys):
    def apply(text: str) -> tuple[int, str, str]:
        path = tmp_path / "monitors.yaml"
        path.write_text(text)
        capsys.readouterr()
        try:
            code = main(["monitors", "apply", str(path)])
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return apply


@pytest.fixture
def job():
    """The job's side: curl, as a cron line would run it (no session, no CSRF token)."""
    client = Client(enforce_csrf_checks=True)

    def call(monitor: Monitor, suffix: str = "", method: str = "get"):
        return getattr(client, method)(f"/ping/{monitor.heartbeat_key}{suffix}")

    return call


def backup() -> Monitor:
    return Monitor.objects.get(name="Nightly backup")


def status_of(component, at):
    return derive.current_statuses([component], at=at)[component.pk]


def test_a_job_that_pings_is_up_and_once_it_stops_it_is_down_after_the_grace_time(apply, job, components):
    assert apply(FILE)[0] == 0
    monitor = backup()
    assert monitor.heartbeat_key is not None and monitor.state == "unknown"
    for _run in range(3):  # the job runs, and reports each time
        response = job(monitor)
        assert (response.status_code, response.content, response["Content-Type"]) == (
            200, b"OK\n", "text/plain; charset=utf-8")
    monitor.refresh_from_db()
    assert monitor.state == "up"
    last = monitor.last_ping_at
    zh1 = components["zh1"]

    # The job stops. Within the period and the grace time nothing happens, however often the clock looks.
    assert heartbeat.record_missed(now=last + timedelta(seconds=3600 + 599)) == 0
    assert backup().state == "up"
    late = last + timedelta(seconds=3600 + 601)
    assert heartbeat.record_missed(now=late) == 1
    assert heartbeat.record_missed(now=late) == 0  # once per missed period, not once per pass
    assert heartbeat.record_missed(now=late + timedelta(seconds=60)) == 0
    monitor = backup()
    assert monitor.state == "down"
    assert monitor.state_reason == (f"monitor 'Nightly backup' down: no ping by "
                                    f"{(last + timedelta(hours=1)):%Y-%m-%d %H:%M} UTC (every 3600 s, grace 600 s) "
                                    "from 1 of 1 location")
    assert status_of(zh1, late) == "major_outage"
    assert Event.objects.filter(kind="monitor.state_changed", data__state=["up", "down"]).count() == 1
    # The next period missed too: one more failure.
    assert heartbeat.record_missed(now=late + timedelta(hours=1)) == 1
    assert CheckResult.objects.filter(monitor=monitor, verdict="down").count() == 2

    # The job runs again: up at once (a heartbeat's report is not damped).
    again = late + timedelta(hours=1, minutes=1)
    assert heartbeat.receive(str(monitor.heartbeat_key), heartbeat.SUCCESS, now=again) == heartbeat.Answer(200, "OK")
    assert backup().state == "up"
    assert heartbeat.record_missed(now=again + timedelta(seconds=3600 + 599)) == 0


def test_a_start_without_a_success_within_the_grace_time_is_down(apply, job, components):
    apply(FILE)
    monitor = backup()
    job(monitor)
    assert job(monitor, "/start", "post").status_code == 200
    started = timezone.now()
    assert heartbeat.record_missed(now=started + timedelta(seconds=590)) == 0
    assert backup().state == "up"
    assert heartbeat.record_missed(now=started + timedelta(seconds=700)) == 1
    monitor = backup()
    assert monitor.state == "down" and "no success within 600 s" in monitor.state_reason
    assert heartbeat.record_missed(now=started + timedelta(seconds=800)) == 0

    # A start followed by its success in time is fine.
    later = started + timedelta(seconds=900)
    heartbeat.receive(monitor.heartbeat_key, heartbeat.START, now=later)
    heartbeat.receive(monitor.heartbeat_key, heartbeat.SUCCESS, now=later + timedelta(seconds=30))
    assert backup().state == "up"
    assert heartbeat.record_missed(now=later + timedelta(seconds=700)) == 0


def test_a_reported_failure_or_a_non_zero_exit_status_is_down_and_zero_is_up(apply, job, components):
    apply(FILE)
    monitor = backup()
    assert job(monitor, "/fail", "post").status_code == 200
    monitor.refresh_from_db()
    assert (monitor.state, monitor.state_reason) == (
        "down", "monitor 'Nightly backup' down: the job reported a failure from 1 of 1 location")
    assert status_of(components["zh1"], timezone.now()) == "major_outage"
    assert job(monitor, "/0").status_code == 200
    assert backup().state == "up"
    assert job(monitor, "/3", "head").status_code == 200
    assert backup().state_reason == "monitor 'Nightly backup' down: the job exited with status 3 from 1 of 1 location"
    assert job(monitor, "/256").status_code == 400
    assert job(monitor, "/0", "put").status_code == 405
    assert backup().state == "down"


def test_unknown_uuids_and_floods_of_pings_are_cheap_refusals(apply, job, components, client):
    apply(FILE)
    monitor = backup()
    assert client.get("/ping/4c1f2a52-7d8e-4f43-9a55-0d7b46f1b2a1").status_code == 404
    assert client.get("/ping/not-a-uuid").status_code == 404
    answers = [job(monitor).status_code for _ in range(heartbeat.PINGS_PER_MINUTE + 1)]
    if answers[-1] == 200:  # the minute turned over meanwhile: the count started again
        answers = [job(monitor).status_code for _ in range(heartbeat.PINGS_PER_MINUTE + 1)]
    assert answers[-1] == 429
    assert CheckResult.objects.filter(monitor=monitor).count() <= 2 * heartbeat.PINGS_PER_MINUTE


def test_a_paused_heartbeat_records_nothing(apply, job, components):
    apply(FILE)
    apply(FILE.replace("    grace: 600\n", "    grace: 600\n    paused: true\n"))
    monitor = backup()
    response = job(monitor, "/fail")
    assert response.status_code == 200 and b"paused" in response.content
    assert not CheckResult.objects.filter(monitor=monitor).exists()
    assert heartbeat.record_missed(now=timezone.now() + timedelta(days=2)) == 0


def test_a_cron_schedule_is_read_in_its_time_zone(apply, components):
    apply("""\
monitors:
  - name: Nightly backup
    kind: heartbeat
    cron: "0 3 * * *"
    tz: Europe/Zurich
    grace: 600
""")
    monitor = backup()
    # Ran at 03:05 in Zurich on 1 July (summer time, UTC+2): expected next at 03:00 on 2 July, 01:00 UTC.
    assert heartbeat.receive(monitor.heartbeat_key, heartbeat.SUCCESS,
                             now=datetime(2026, 7, 1, 1, 5, tzinfo=UTC)).status == 200
    assert heartbeat.record_missed(now=datetime(2026, 7, 2, 1, 9, tzinfo=UTC)) == 0
    assert heartbeat.record_missed(now=datetime(2026, 7, 2, 1, 11, tzinfo=UTC)) == 1
    assert backup().state_reason.startswith(
        "monitor 'Nightly backup' down: no ping by 2026-07-02 03:00 CEST (cron '0 3 * * *' in Europe/Zurich, "
        "grace 600 s)")
    # In winter (UTC+1) the same 03:00 is 02:00 UTC.
    heartbeat.receive(monitor.heartbeat_key, heartbeat.SUCCESS, now=datetime(2026, 12, 1, 2, 5, tzinfo=UTC))
    assert backup().state == "up"
    assert heartbeat.record_missed(now=datetime(2026, 12, 2, 2, 9, tzinfo=UTC)) == 0
    assert heartbeat.record_missed(now=datetime(2026, 12, 2, 2, 11, tzinfo=UTC)) == 1
    assert "no ping by 2026-12-02 03:00 CET" in backup().state_reason


def test_the_worker_clock_job_notices_a_missing_ping_without_any_request(apply, components):
    from signalpost.jobs import jobs

    apply(FILE)
    monitor = backup()
    heartbeat.receive(monitor.heartbeat_key, heartbeat.SUCCESS, now=timezone.now() - timedelta(hours=2))
    assert backup().state == "up"
    [clock] = [j for j in jobs() if j.name == "clock"]
    assert "1 heartbeats missed" in clock.run_once(threading.Event())
    assert "heartbeats missed" not in clock.run_once(threading.Event())
    assert backup().state == "down"
    assert status_of(components["zh1"], timezone.now()) == "major_outage"


def test_after_a_long_stop_of_the_worker_at_most_a_few_missed_deadlines_are_recorded(apply, components):
    apply(FILE.replace("every: 3600", "every: 60").replace("grace: 600", "grace: 10"))
    monitor = backup()
    pinged = timezone.now()
    heartbeat.receive(monitor.heartbeat_key, heartbeat.SUCCESS, now=pinged)
    back = pinged + timedelta(days=30)
    assert heartbeat.record_missed(now=back) == heartbeat.MISSES_AT_ONCE
    assert heartbeat.record_missed(now=back + timedelta(seconds=69)) == 0  # the next deadline counts from then
    assert heartbeat.record_missed(now=back + timedelta(seconds=71)) == 1


def test_a_job_that_never_runs_is_noticed_and_the_audit_log_keeps_no_uuid(apply, components):
    from signalpost.accounts.models import AuditEvent

    apply(FILE)
    monitor = backup()
    assert heartbeat.record_missed(now=monitor.created_at + timedelta(seconds=3600 + 601)) == 1
    assert backup().state == "down"
    [entry] = AuditEvent.objects.filter(action="monitor.create")
    assert str(monitor.heartbeat_key) not in str(entry.after) and entry.after["uuid"].startswith("sha256:")
