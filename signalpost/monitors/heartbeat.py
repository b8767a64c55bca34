"""Heartbeat monitors: nothing is checked, a job reports in. It calls `/ping/<uuid>` when it succeeds
(`/ping/<uuid>/0` too), `/ping/<uuid>/fail` or `/ping/<uuid>/<exit status 1-255>` when it fails, and
`/ping/<uuid>/start` when it begins. A ping is a result at the location "heartbeat", written by the same
`store.record` as the probe's checks, so verdicts, state changes, component status and events follow.

The job is expected on its schedule, a period (`every` seconds after its last ping) or a cron expression
in a time zone, and may be late by the grace time. A ping missing beyond that, or a start not followed
by a success within the grace time, is a failure: `record_missed`, a pass of the worker's clock job,
records it once per missed deadline however many workers run it (each deadline is claimed by a
conditional UPDATE of the row that holds it).
"""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import store, verdict
from .models import Monitor, MonitorKind

LOCATION = "heartbeat"
PINGS_PER_MINUTE = 30  # per monitor: more in one minute are refused (429), not written
MISSES_AT_ONCE = 10  # deadlines recorded in one pass after a long pause of the worker; the rest are skipped

SUCCESS, START, FAIL = "success", "start", "fail"


def new_key() -> uuid.UUID:
    return uuid.uuid4()


def ping_path(monitor: Monitor) -> str:
    return f"/ping/{monitor.heartbeat_key}" if monitor.heartbeat_key else ""


def _zone(monitor: Monitor) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(monitor.cron_zone or "UTC")


def expected_after(monitor: Monitor, moment: datetime) -> datetime:
    """When the job is expected next after `moment` (UTC): a period after it, or the cron's next time."""
    if not monitor.cron:
        return moment + timedelta(seconds=monitor.interval_seconds)
    from cronsim import CronSim

    local = moment.astimezone(_zone(monitor))
    return next(CronSim(monitor.cron, local)).astimezone(dt_timezone.utc)


def deadline_after(monitor: Monitor, moment: datetime) -> datetime:
    return expected_after(monitor, moment) + timedelta(seconds=monitor.grace_seconds)


def typical_interval(cron: str, zone: str, now: datetime) -> int:
    """The seconds between the cron's next two times: what a cron heartbeat counts as its interval."""
    from cronsim import CronSim

    times = CronSim(cron, now.astimezone(zoneinfo.ZoneInfo(zone)))
    first, second = next(times), next(times)
    return max(1, int((second - first).total_seconds()))


def schedule_problem(cron: str, zone: str) -> tuple[str, str] | None:
    """(field, message) when the cron expression or the time zone cannot be used, else None."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "tz", f"{zone!r} is not a time zone (e.g. UTC, Europe/Zurich)"
    from cronsim import CronSim, CronSimError

    try:
        next(CronSim(cron, datetime.now(dt_timezone.utc)))
    except (CronSimError, StopIteration, ValueError) as error:
        return "cron", f"{cron!r} is not a cron expression: {error}"
    return None


def reschedule(monitor: Monitor, now: datetime) -> None:
    """The monitor's next deadline from its last ping (or from now, for a new or resumed monitor, or one
    whose schedule changed): its clock starts when it is created, not at its first ping."""
    monitor.ping_due_at = deadline_after(monitor, now)
    monitor.start_due_at = None
    Monitor.objects.filter(pk=monitor.pk).update(ping_due_at=monitor.ping_due_at, start_due_at=None)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def _take_turn(monitor: Monitor, now: datetime) -> bool:
    """One of the minute's PINGS_PER_MINUTE, claimed in the UPDATE itself (several web processes agree)."""
    minute = now.replace(second=0, microsecond=0)
    if monitor.ping_minute == minute and monitor.pings_in_minute >= PINGS_PER_MINUTE:
        return False  # known from the read already made: a flood costs no write
    if Monitor.objects.filter(pk=monitor.pk, ping_minute=minute, pings_in_minute__lt=PINGS_PER_MINUTE).update(
            pings_in_minute=F("pings_in_minute") + 1):
        return True
    return bool(Monitor.objects.filter(pk=monitor.pk).exclude(ping_minute=minute).update(
        ping_minute=minute, pings_in_minute=1))


def receive(key: str, signal: str, exit_status: int | None = None, now: datetime | None = None) -> Answer:
    """A ping from the monitor's job: SUCCESS, START, FAIL, or an exit status (0 success, else failure)."""
    now = now or timezone.now()
    try:
        key = uuid.UUID(str(key))
    except ValueError:
        return Answer(404, "not found")
    monitor = Monitor.objects.filter(heartbeat_key=key, kind=MonitorKind.HEARTBEAT).first()
    if monitor is None:
        return Answer(404, "not found")
    if monitor.paused:
        return Answer(200, "OK (the monitor is paused: not recorded)")
    if not _take_turn(monitor, now):
        return Answer(429, f"too many pings: at most {PINGS_PER_MINUTE} a minute")
    if exit_status is not None:
        signal = SUCCESS if exit_status == 0 else FAIL
    with transaction.atomic():
        if signal == START:
            Monitor.objects.filter(pk=monitor.pk).update(
                start_due_at=now + timedelta(seconds=monitor.grace_seconds))
            return Answer(200, "OK")
        if signal == SUCCESS:
            result, reason = verdict.UP, ""
        elif exit_status is not None:
            result, reason = verdict.DOWN, f"the job exited with status {exit_status}"
        else:
            result, reason = verdict.DOWN, "the job reported a failure"
        Monitor.objects.filter(pk=monitor.pk).update(last_ping_at=now, ping_due_at=deadline_after(monitor, now),
                                                     start_due_at=None)
        store.record(LOCATION, [store.Outcome(monitor.pk, now, result, None, None, reason)])
    return Answer(200, "OK")


def _when(monitor: Monitor, moment: datetime) -> str:
    zone = _zone(monitor) if monitor.cron else dt_timezone.utc
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() if monitor.cron else 'UTC'}"


def _missed_reason(monitor: Monitor, expected: datetime) -> str:
    if monitor.cron:
        schedule = f"cron '{monitor.cron}' in {monitor.cron_zone}"
    else:
        schedule = f"every {monitor.interval_seconds} s"
    return f"no ping by {_when(monitor, expected)} ({schedule}, grace {monitor.grace_seconds} s)"


def record_missed(now: datetime | None = None) -> int:
    """Record a failure for each deadline passed without a ping, and for each start not followed by a
    success in time: once each, whichever worker and however many passes. Returns the failures recorded."""
    now = now or timezone.now()
    recorded = 0
    overdue = Monitor.objects.filter(kind=MonitorKind.HEARTBEAT, paused=False).filter(
        Q(ping_due_at__lte=now) | Q(start_due_at__lte=now))
    for monitor in overdue:
        outcomes = []
        with transaction.atomic():
            if monitor.start_due_at is not None and monitor.start_due_at <= now:
                if Monitor.objects.filter(pk=monitor.pk, start_due_at=monitor.start_due_at).update(start_due_at=None):
                    started = monitor.start_due_at - timedelta(seconds=monitor.grace_seconds)
                    outcomes.append(store.Outcome(
                        monitor.pk, monitor.start_due_at, verdict.DOWN,
                        reason=f"started at {_when(monitor, started)}, no success within {monitor.grace_seconds} s"))
            if monitor.ping_due_at is not None and monitor.ping_due_at <= now:
                deadline, missed = monitor.ping_due_at, []
                while deadline <= now and len(missed) < MISSES_AT_ONCE:
                    missed.append(deadline)
                    deadline = deadline_after(monitor, deadline - timedelta(seconds=monitor.grace_seconds))
                if deadline <= now:  # the worker was away a long time: the next deadline counts from now
                    deadline = deadline_after(monitor, now)
                if Monitor.objects.filter(pk=monitor.pk, ping_due_at=monitor.ping_due_at).update(ping_due_at=deadline):
                    grace = timedelta(seconds=monitor.grace_seconds)
                    outcomes += [store.Outcome(monitor.pk, at, verdict.DOWN,
                                               reason=_missed_reason(monitor, at - grace)) for at in missed]
            if outcomes:
                store.record(LOCATION, outcomes)
                recorded += len(outcomes)
    return recorded
