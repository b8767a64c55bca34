"""Writing what the checks found, a batch at a time: the raw results, each location's runs, the monitor's
state and its changes (reported to its components through the status core's signals, and recorded as a
`monitor.state_changed` event), and the per-minute and per-hour roll-ups. One transaction per batch, not per
check. Old rows are pruned in batches by the probe's housekeeping (`prune`)."""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from signalpost.events.record import record as record_event
from signalpost.status import services as status_services
from signalpost.status.models import ComponentStatus

from . import hourly, verdict
from .models import (CheckResult, HourlyRollup, LocationState, MinuteRollup, Monitor, MonitorComponent, State,
                     StateChange)


@dataclass(frozen=True)
class Outcome:
    """One check's result, as the engine (or a remote location) reports it."""

    monitor_id: int
    at: datetime
    verdict: str
    latency_ms: int | None = None
    status_code: int | None = None
    reason: str = ""


# A location whose last result is older than this many intervals no longer counts as reporting.
STALE_INTERVALS = 3


def record(location: str, outcomes: list[Outcome]) -> list[StateChange]:
    """Store a batch of results from one location and move the verdicts they change. Results of a
    monitor removed or paused meanwhile are dropped; results older than the location's last result of
    their monitor are stored but move no verdict. Returns the state changes made."""
    if not outcomes:
        return []
    with transaction.atomic():
        # A monitor paused or removed since its check began: its results no longer count.
        monitors = Monitor.objects.filter(paused=False).in_bulk({o.monitor_id for o in outcomes})
        outcomes = sorted((o for o in outcomes if o.monitor_id in monitors), key=lambda o: o.at)
        CheckResult.objects.bulk_create(
            CheckResult(monitor_id=o.monitor_id, location=location, at=o.at, verdict=o.verdict,
                        latency_ms=o.latency_ms, status_code=o.status_code, reason=o.reason[:300])
            for o in outcomes)
        states = {s.monitor_id: s for s in LocationState.objects.select_for_update().filter(
            monitor_id__in=monitors, location=location)}
        current = []  # the results that move the runs: none older than the location's last one
        for outcome in outcomes:
            monitor = monitors[outcome.monitor_id]
            state = states.get(monitor.pk)
            if state is None:
                state = states[monitor.pk] = LocationState.objects.create(monitor=monitor, location=location)
            if state.last_at is not None and outcome.at < state.last_at:
                # A backlog older than what this location already reported (a remote probe's buffer
                # arriving after newer results): kept as raw results and in the roll-ups, but the runs
                # and the verdict, which describe the location's latest checks, do not go back in time.
                continue
            current.append(outcome)
            runs = verdict.step(
                verdict.Runs(state.state, state.down_run, state.bad_run, state.up_run, state.ok_run),
                outcome.verdict, monitor.failures_to_down, monitor.successes_to_up)
            state.state, state.down_run, state.bad_run, state.up_run, state.ok_run = (
                runs.state, runs.down_run, runs.bad_run, runs.up_run, runs.ok_run)
            state.last_at, state.last_verdict, state.last_reason = outcome.at, outcome.verdict, outcome.reason[:300]
            state.last_status_code = outcome.status_code
        LocationState.objects.bulk_update(
            states.values(), ["state", "down_run", "bad_run", "up_run", "ok_run", "last_at", "last_verdict",
                              "last_reason", "last_status_code"])
        latest = {}
        for outcome in current:
            latest[outcome.monitor_id] = outcome.at
        every_location = defaultdict(list)  # the other locations' states too: one query for the batch
        for state in LocationState.objects.filter(monitor_id__in=latest):
            every_location[state.monitor_id].append(state)
        changes = [change for monitor_id, at in latest.items()
                   if (change := evaluate(monitors[monitor_id], at, every_location[monitor_id])) is not None]
        _roll_up(location, outcomes)
        _roll_up_hours(location, outcomes)
    return changes


def evaluate(monitor: Monitor, now: datetime, locations: list[LocationState] | None = None) -> StateChange | None:
    """The monitor's state from its locations' now; a change is recorded and reported. Inside a transaction."""
    if locations is None:
        locations = list(LocationState.objects.filter(monitor=monitor))
    fresh = now - timedelta(seconds=STALE_INTERVALS * monitor.interval_seconds + monitor.timeout_seconds)
    views = [verdict.LocationView(s.location, s.state, s.last_reason)
             for s in locations if s.last_at is not None and s.last_at >= fresh]
    combined = verdict.combine(views, monitor.locations_needed)
    if combined.state == monitor.state or combined.state == State.UNKNOWN:
        return None
    # A heartbeat's ping is a report its job chose to make, not a sample: it is never damped.
    damping = 0 if monitor.kind == "heartbeat" else monitor.interval_seconds
    if verdict.damped(monitor.state, monitor.state_changed_at, combined.state, now, damping):
        return None
    return change_state(monitor, combined.state, verdict.describe(monitor.name, combined), now)


def component_status(link: MonitorComponent, state: str) -> str:
    if state == State.DOWN:
        return link.down_status
    if state == State.DEGRADED:
        return link.degraded_status
    return ComponentStatus.OPERATIONAL


def change_state(monitor: Monitor, state: str, reason: str, now: datetime) -> StateChange:
    """Record a monitor's new state: its StateChange, the signal on each linked component, the event."""
    previous = monitor.state
    change = StateChange.objects.create(monitor=monitor, at=now, from_state=previous, to_state=state,
                                        reason=reason[:500])
    Monitor.objects.filter(pk=monitor.pk).update(state=state, state_changed_at=now, state_reason=reason[:500])
    monitor.state, monitor.state_changed_at, monitor.state_reason = state, now, reason[:500]
    components = {}
    for link in MonitorComponent.objects.filter(monitor=monitor).select_related("component"):
        status = component_status(link, state)
        status_services.set_signal(link.component, monitor.source, status, reason, now=now)
        components[link.component.public_id] = status
    record_event("monitor.state_changed", f"monitor:{monitor.public_id}", occurred_at=now, data={
        "monitor": monitor.public_id, "name": monitor.name, "state": [previous, state], "reason": reason,
        "components": components,
    })
    return change


def _percentile(values: list[int], share: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _roll_up(location: str, outcomes: list[Outcome]) -> None:
    """The minutes these results fall in, computed again from their raw results (exact percentiles)."""
    keys = {(o.monitor_id, o.at.replace(second=0, microsecond=0)) for o in outcomes}
    if not keys:
        return
    low = min(minute for _, minute in keys)
    high = max(minute for _, minute in keys) + timedelta(minutes=1)
    rows = CheckResult.objects.filter(monitor_id__in={m for m, _ in keys}, location=location,
                                      at__gte=low, at__lt=high).values_list("monitor_id", "at", "verdict", "latency_ms")
    found: dict[tuple[int, datetime], list[tuple[str, int | None]]] = defaultdict(list)
    for monitor_id, at, result, latency in rows:
        key = (monitor_id, at.replace(second=0, microsecond=0))
        if key in keys:
            found[key].append((result, latency))
    existing = {(r.monitor_id, r.minute): r for r in MinuteRollup.objects.filter(
        monitor_id__in={m for m, _ in keys}, location=location, minute__gte=low, minute__lt=high)}
    create, update = [], []
    for key, checks in found.items():
        latencies = [latency for _, latency in checks if latency is not None]
        rollup = existing.get(key) or MinuteRollup(monitor_id=key[0], location=location, minute=key[1])
        rollup.checks = len(checks)
        rollup.failures = sum(r == verdict.DOWN for r, _ in checks)
        rollup.degraded = sum(r == verdict.DEGRADED for r, _ in checks)
        rollup.latency_p50_ms = _percentile(latencies, 0.5)
        rollup.latency_p95_ms = _percentile(latencies, 0.95)
        rollup.latency_max_ms = max(latencies) if latencies else None
        (update if rollup.pk else create).append(rollup)
    MinuteRollup.objects.bulk_create(create)
    MinuteRollup.objects.bulk_update(update, ["checks", "failures", "degraded", "latency_p50_ms", "latency_p95_ms",
                                              "latency_max_ms"])


def _figures(checks: list[tuple[str, int | None]]) -> dict:
    latencies = [latency for _, latency in checks if latency is not None]
    return {
        "checks": len(checks),
        "failures": sum(r == verdict.DOWN for r, _ in checks),
        "degraded": sum(r == verdict.DEGRADED for r, _ in checks),
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
        "latency_max_ms": max(latencies) if latencies else None,
    }


def _roll_up_hours(location: str, outcomes: list[Outcome]) -> None:
    """The hours these results fall in, computed again from the hour's raw results, so that p50 and p95
    are exact (percentiles of minutes cannot be merged into an hour's). It reads the hour so far once per
    monitor and batch: at a 60 s interval, 30 rows on average. A result older than the raw retention
    (a remote location's buffer sent days late) has no raw neighbours left: its counts are added to the
    hour, whose percentiles stay as they were."""
    keys = {(o.monitor_id, o.at.replace(minute=0, second=0, microsecond=0)) for o in outcomes}
    if not keys:
        return
    cutoff = timezone.now() - timedelta(days=settings.MONITOR_RAW_DAYS)
    recent = {key for key in keys if key[1] >= cutoff}
    high = max(hour for _, hour in keys) + timedelta(hours=1)
    found: dict[tuple[int, datetime], list[tuple[str, int | None]]] = defaultdict(list)
    if recent:
        rows = CheckResult.objects.filter(monitor_id__in={m for m, _ in recent}, location=location,
                                          at__gte=min(h for _, h in recent), at__lt=high)
        for monitor_id, at, result, latency in rows.values_list("monitor_id", "at", "verdict", "latency_ms"):
            key = (monitor_id, at.replace(minute=0, second=0, microsecond=0))
            if key in recent:
                found[key].append((result, latency))
    hours = [hourly.Hour(key[0], location, key[1], **_figures(checks)) for key, checks in found.items()]
    late: dict[tuple[int, datetime], list[tuple[str, int | None]]] = defaultdict(list)
    for o in outcomes:
        key = (o.monitor_id, o.at.replace(minute=0, second=0, microsecond=0))
        if key not in recent:
            late[key].append((o.verdict, o.latency_ms))
    if late:
        low = min(hour for _, hour in late)
        existing = {(h.monitor_id, h.hour): h for h in hourly.read(
            {m for m, _ in late}, low, max(hour for _, hour in late) + timedelta(hours=1), location)}
        for key, checks in late.items():
            figures = _figures(checks)
            before = existing.get(key) or hourly.Hour(key[0], location, key[1], 0)
            highest = max((v for v in (before.latency_max_ms, figures["latency_max_ms"]) if v is not None),
                          default=None)
            hours.append(hourly.Hour(
                key[0], location, key[1], before.checks + figures["checks"], before.failures + figures["failures"],
                before.degraded + figures["degraded"],
                before.latency_p50_ms if before.latency_p50_ms is not None else figures["latency_p50_ms"],
                before.latency_p95_ms if before.latency_p95_ms is not None else figures["latency_p95_ms"],
                highest))
    hourly.write(hours)


PRUNE_BATCH = 5000


def prune(now: datetime | None = None, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """The probe's housekeeping: raw results, minute roll-ups and hour roll-ups past their retention
    deleted in batches (each its own short transaction); state changes stay. Returns how many of each."""
    now = now or timezone.now()
    return {
        "raw": prune_raw(now, batch),
        "minutes": _prune_rows(MinuteRollup.objects.filter(
            minute__lt=now - timedelta(days=settings.MONITOR_MINUTE_DAYS)), batch),
        "hours": _prune_hours(now - timedelta(days=settings.MONITOR_HOURLY_DAYS), batch),
    }


def _prune_rows(old, batch: int) -> int:
    deleted = 0
    while True:
        ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += old.model.objects.filter(pk__in=ids).delete()[0]


def _prune_hours(cutoff: datetime, batch: int) -> int:
    """Whole days of hours, older than the cutoff's day, monitor by monitor (the key starts with it)."""
    deleted = 0
    day = cutoff.astimezone(dt_timezone.utc).date()
    for monitor_id in Monitor.objects.order_by("pk").values_list("pk", flat=True):
        while True:
            with transaction.atomic():
                days = list(HourlyRollup.objects.filter(monitor_id=monitor_id, day__lt=day)
                            .order_by("day").values_list("day", flat=True)[:batch])
                if not days:
                    break
                deleted += HourlyRollup.objects.filter(monitor_id=monitor_id, day__lte=days[-1]).delete()[0]
    return deleted


def prune_raw(now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete raw results older than SIGNALPOST_MONITOR_RAW_DAYS, a batch per transaction. It walks the
    (monitor, at) index monitor by monitor: there is no index on the time alone."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MONITOR_RAW_DAYS)
    deleted = 0
    pending: list[int] = []

    def flush() -> int:
        with transaction.atomic():
            count = CheckResult.objects.filter(pk__in=pending).delete()[0]
        pending.clear()
        return count

    for monitor_id in Monitor.objects.order_by("pk").values_list("pk", flat=True):
        while True:
            wanted = batch - len(pending)
            ids = list(CheckResult.objects.filter(monitor_id=monitor_id, at__lt=cutoff)
                       .order_by("at").values_list("pk", flat=True)[:wanted])
            pending += ids
            if len(pending) >= batch:
                deleted += flush()
            if len(ids) < wanted:
                break
    if pending:
        deleted += flush()
    return deleted
