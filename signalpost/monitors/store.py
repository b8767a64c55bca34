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
from django.db import connection, transaction
from django.utils import timezone

from signalpost.events.record import record_all as record_events
from signalpost.status import services as status_services
from signalpost.status.models import ComponentStatus

from . import hourly, verdict
from .models import (CheckResult, HourlyRollup, LocationState, MinuteRollup, Monitor, MonitorComponent, State,
                     StateChange)


@dataclass(frozen=True, slots=True)  # slots: up to 200,000 wait in memory while the database is away
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
    their monitor are stored but move no verdict. Returns the state changes made.

    A few queries per batch whatever its size, the rows read as tuples and written with one statement
    run over many rows: a probe of 50,000 monitors writes hundreds of results a second, and building a
    model instance (or a CASE expression) per row would cost more CPU than the checks themselves."""
    if not outcomes:
        return []
    with transaction.atomic():
        # A monitor paused or removed since its check began: its results no longer count.
        rules = {row[0]: row[1:] for row in Monitor.objects.filter(
            paused=False, pk__in={o.monitor_id for o in outcomes}).values_list(
            "pk", "failures_to_down", "successes_to_up", "state", "state_changed_at", "interval_seconds",
            "timeout_seconds", "locations_needed", "kind")}
        outcomes = sorted((o for o in outcomes if o.monitor_id in rules), key=lambda o: o.at)
        if not outcomes:
            return []
        _insert(CheckResult, ("monitor_id", "location", "at", "verdict", "latency_ms", "status_code", "reason"),
                [(o.monitor_id, location, o.at, o.verdict, o.latency_ms, o.status_code, o.reason[:300])
                 for o in outcomes])
        runs = _location_runs(location, {o.monitor_id for o in outcomes})
        latest: dict[int, Outcome] = {}
        for outcome in outcomes:
            pk, before, last_at = runs[outcome.monitor_id]
            if last_at is not None and outcome.at < last_at:
                # A backlog older than what this location already reported (a remote probe's buffer
                # arriving after newer results): kept as raw results and in the roll-ups, but the runs
                # and the verdict, which describe the location's latest checks, do not go back in time.
                continue
            failures_to_down, successes_to_up = rules[outcome.monitor_id][:2]
            runs[outcome.monitor_id] = (pk, verdict.step(before, outcome.verdict, failures_to_down, successes_to_up),
                                        last_at)
            latest[outcome.monitor_id] = outcome
        _update(LocationState, ("state", "down_run", "bad_run", "up_run", "ok_run", "last_at", "last_verdict",
                                "last_reason", "last_status_code"),
                [(r.state, r.down_run, r.bad_run, r.up_run, r.ok_run, o.at, o.verdict, o.reason[:300], o.status_code, pk)
                 for o in latest.values() for pk, r, _ in [runs[o.monitor_id]]])
        others = defaultdict(list)  # the other locations' states: one query for the batch
        for monitor_id, *view in LocationState.objects.filter(monitor_id__in=latest).exclude(
                location=location).values_list("monitor_id", "location", "state", "last_reason", "last_at"):
            others[monitor_id].append(view)
        due = []  # (monitor id, its new verdict, when)
        for monitor_id, outcome in latest.items():
            state, changed_at, interval, timeout, locations_needed, kind = rules[monitor_id][2:]
            here = (location, runs[monitor_id][1].state, outcome.reason[:300], outcome.at)
            combined = verdict.combine(_fresh([here, *others[monitor_id]], outcome.at, interval, timeout),
                                       locations_needed)
            if combined.state == state or combined.state == State.UNKNOWN:
                continue  # nearly every result: nothing more to read or write
            # A heartbeat's ping is a report its job chose to make, not a sample: it is never damped.
            if verdict.damped(state, changed_at, combined.state, outcome.at, 0 if kind == "heartbeat" else interval):
                continue
            due.append((monitor_id, combined, outcome.at))
        changing = Monitor.objects.in_bulk([monitor_id for monitor_id, _, _ in due]) if due else {}
        changes = change_states([(changing[m], combined.state, verdict.describe(changing[m].name, combined), at)
                                 for m, combined, at in due])
        _roll_up(location, outcomes)
        _roll_up_hours(location, outcomes)
    return changes


def _location_runs(location: str, monitor_ids: set[int]) -> dict[int, tuple[int, verdict.Runs, datetime | None]]:
    """Each monitor's LocationState at this location (its pk, runs and last result's time), locked; made for
    a monitor's first."""
    fields = ("monitor_id", "pk", "last_at", "state", "down_run", "bad_run", "up_run", "ok_run")

    def read(ids) -> dict[int, tuple[int, verdict.Runs, datetime | None]]:
        return {m: (pk, verdict.Runs(*counts), last_at) for m, pk, last_at, *counts in
                LocationState.objects.select_for_update().filter(monitor_id__in=ids, location=location)
                .values_list(*fields)}

    runs = read(monitor_ids)
    missing = monitor_ids - runs.keys()
    if missing:
        LocationState.objects.bulk_create(LocationState(monitor_id=m, location=location) for m in missing)
        runs.update(read(missing))
    return runs


def _fresh(locations: list, now: datetime, interval: float, timeout: float) -> list[verdict.LocationView]:
    """The views of the locations still reporting: (location, state, last reason, last result's time)."""
    fresh = now - timedelta(seconds=STALE_INTERVALS * interval + timeout)
    return [verdict.LocationView(name, state, reason) for name, state, reason, last_at in locations
            if last_at is not None and last_at >= fresh]


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT the rows (values in the order of `columns`), one statement run over all of them."""
    if not rows:
        return
    rows = _adapted(rows)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "
                           f"VALUES ({marks})", rows)


def _update(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """UPDATE rows by pk: each row is the values of `columns` followed by the pk."""
    if not rows:
        return
    rows = _adapted(rows)
    assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} "
                           f"WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s", rows)


def _adapted(rows: list[tuple]) -> list[tuple]:
    """Times as the database stores them (on SQLite: text in UTC), as the ORM would write them."""
    adapt = connection.ops.adapt_datetimefield_value
    return [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows]


def evaluate(monitor: Monitor, now: datetime, locations: list[LocationState] | None = None) -> StateChange | None:
    """The monitor's state from its locations' now; a change is recorded and reported. Inside a transaction."""
    if locations is None:
        locations = list(LocationState.objects.filter(monitor=monitor))
    views = _fresh([(s.location, s.state, s.last_reason, s.last_at) for s in locations], now,
                   monitor.interval_seconds, monitor.timeout_seconds)
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


def first_failure(monitor: Monitor, state: str, now: datetime) -> datetime | None:
    """Going down (or degraded): the first failed check of the run that made it so, the earliest among
    the locations saying so. Read from the raw results, which are written before the verdict moves."""
    if state not in (State.DOWN, State.DEGRADED):
        return None
    failed = [verdict.DOWN] if state == State.DOWN else [verdict.DOWN, verdict.DEGRADED]
    found = []
    agreeing = LocationState.objects.filter(monitor=monitor, state__in=[state, State.DOWN])
    for location in agreeing.values_list("location", flat=True):
        results = CheckResult.objects.filter(monitor=monitor, location=location, at__lte=now)
        last_good = results.exclude(verdict__in=failed).order_by("-at").values_list("at", flat=True).first()
        run = results.filter(verdict__in=failed)
        if last_good is not None:
            run = run.filter(at__gt=last_good)
        start = run.order_by("at").values_list("at", flat=True).first()
        if start is not None:
            found.append(start)
    return min(found, default=None)


def change_state(monitor: Monitor, state: str, reason: str, now: datetime) -> StateChange:
    """Record a monitor's new state: its StateChange, the signal on each linked component, the event."""
    return change_states([(monitor, state, reason, now)])[0]


def change_states(items: list[tuple[Monitor, str, str, datetime]]) -> list[StateChange]:
    """change_state for several monitors (monitor, new state, reason, when), their rows written together:
    a probe's first results give every monitor its first verdict at once."""
    if not items:
        return []
    began = [first_failure(monitor, state, now) for monitor, state, _, now in items]
    changes = StateChange.objects.bulk_create(
        StateChange(monitor=monitor, at=now, from_state=monitor.state, to_state=state, reason=reason[:500],
                    first_failure_at=start)
        for (monitor, state, reason, now), start in zip(items, began))
    _update(Monitor, ("state", "state_changed_at", "state_reason"),
            [(state, now, reason[:500], monitor.pk) for monitor, state, reason, now in items])
    links = defaultdict(list)
    for link in MonitorComponent.objects.filter(monitor__in=[m.pk for m, _, _, _ in items]).select_related(
            "component").order_by("pk"):
        links[link.monitor_id].append(link)
    events = []
    for (monitor, state, reason, now), change, start in zip(items, changes, began):
        previous = monitor.state
        monitor.state, monitor.state_changed_at, monitor.state_reason = state, now, reason[:500]
        components = {}
        for link in links[monitor.pk]:
            status = component_status(link, state)
            status_services.set_signal(link.component, monitor.source, status, reason, now=now)
            components[link.component.public_id] = status
        events.append((f"monitor:{monitor.public_id}", now, {
            "monitor": monitor.public_id, "name": monitor.name, "state": [previous, state], "reason": reason,
            "components": components, "state_change": change.pk,
            "first_failure_at": start.isoformat() if start else None,
        }))
    record_events("monitor.state_changed", events)
    return changes


def _percentile(values: list[int], share: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _roll_up(location: str, outcomes: list[Outcome]) -> None:
    """The minutes these results fall in. A minute an earlier batch wrote results of (its roll-up exists)
    is computed again from its raw results, for exact percentiles; a minute new to this batch, from the
    batch alone (at an interval of a minute, nearly all of them)."""
    found: dict[tuple[int, datetime], list[tuple[str, int | None]]] = defaultdict(list)
    for o in outcomes:
        found[(o.monitor_id, o.at.replace(second=0, microsecond=0))].append((o.verdict, o.latency_ms))
    if not found:
        return
    existing = _rollups_between(location, found)
    seen = [key for key in found if key in existing]
    if seen:
        again = defaultdict(list)
        for monitor_id, at, result, latency in _results_between(location, seen):
            key = (monitor_id, at.replace(second=0, microsecond=0))
            if key in existing:
                again[key].append((result, latency))
        found.update(again)
    create, update = [], []
    for key, checks in found.items():
        latencies = [latency for _, latency in checks if latency is not None]
        figures = (len(checks), sum(r == verdict.DOWN for r, _ in checks), sum(r == verdict.DEGRADED for r, _ in checks),
                   _percentile(latencies, 0.5), _percentile(latencies, 0.95), max(latencies) if latencies else None)
        if key in existing:
            update.append((*figures, existing[key]))
        else:
            create.append((key[0], location, key[1], *figures))
    figure_columns = ("checks", "failures", "degraded", "latency_p50_ms", "latency_p95_ms", "latency_max_ms")
    _insert(MinuteRollup, ("monitor_id", "location", "minute", *figure_columns), create)
    _update(MinuteRollup, figure_columns, update)


def _rollups_between(location: str, keys) -> dict[tuple[int, datetime], int]:
    """The pks of the roll-ups there are for these (monitor, minute) keys."""
    low, high = min(m for _, m in keys), max(m for _, m in keys) + timedelta(minutes=1)
    rows = MinuteRollup.objects.filter(monitor_id__in={m for m, _ in keys}, location=location, minute__gte=low,
                                       minute__lt=high).values_list("pk", "monitor_id", "minute")
    return {(monitor_id, minute): pk for pk, monitor_id, minute in rows if (monitor_id, minute) in keys}


def _results_between(location: str, keys: list[tuple[int, datetime]]):
    low, high = min(m for _, m in keys), max(m for _, m in keys) + timedelta(minutes=1)
    return CheckResult.objects.filter(monitor_id__in={m for m, _ in keys}, location=location, at__gte=low,
                                      at__lt=high).values_list("monitor_id", "at", "verdict", "latency_ms")


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
    """The hours these results fall in, kept up batch by batch without reading back: counts added, the
    highest latency kept, and p50/p95 of a running hour taken from its first batch. Percentiles cannot be
    merged, so once an hour is over `finish_hours` computes it again from its raw results (the probe's
    housekeeping, within 10 minutes of the hour's end): one read of each raw result, where computing the
    hour again at every batch read 30 of them a result on average."""
    batch: dict[tuple[int, datetime], list[tuple[str, int | None]]] = defaultdict(list)
    for o in outcomes:
        batch[(o.monitor_id, o.at.replace(minute=0, second=0, microsecond=0))].append((o.verdict, o.latency_ms))
    if not batch:
        return
    low, high = min(h for _, h in batch), max(h for _, h in batch) + timedelta(hours=1)
    existing = {(h.monitor_id, h.hour): h for h in hourly.read({m for m, _ in batch}, low, high, location)}
    hours = []
    for key, checks in batch.items():
        figures = _figures(checks)
        before = existing.get(key) or hourly.Hour(key[0], location, key[1], 0)
        highest = max((v for v in (before.latency_max_ms, figures["latency_max_ms"]) if v is not None), default=None)
        hours.append(hourly.Hour(
            key[0], location, key[1], before.checks + figures["checks"], before.failures + figures["failures"],
            before.degraded + figures["degraded"],
            before.latency_p50_ms if before.latency_p50_ms is not None else figures["latency_p50_ms"],
            before.latency_p95_ms if before.latency_p95_ms is not None else figures["latency_p95_ms"],
            highest))
    hourly.write(hours)


FINISH_CHUNK = 500  # monitors whose hours are computed again at once


def finish_hours(start: datetime, end: datetime) -> int:
    """The hours that begin within [start, end), computed again from their raw results (exact p50 and p95),
    every monitor and location, a few hundred monitors at a time. Hours whose raw results are pruned
    already keep what they have. Returns how many hours were written."""
    start = start.replace(minute=0, second=0, microsecond=0)
    written = 0
    ids = list(CheckResult.objects.filter(at__gte=start, at__lt=end).order_by().values_list(
        "monitor_id", flat=True).distinct())
    for first in range(0, len(ids), FINISH_CHUNK):
        chunk = ids[first:first + FINISH_CHUNK]
        found: dict[tuple[int, str, datetime], list[tuple[str, int | None]]] = defaultdict(list)
        rows = CheckResult.objects.filter(monitor_id__in=chunk, at__gte=start, at__lt=end).values_list(
            "monitor_id", "location", "at", "verdict", "latency_ms")
        for monitor_id, location, at, result, latency in rows.iterator(chunk_size=5000):
            found[(monitor_id, location, at.replace(minute=0, second=0, microsecond=0))].append((result, latency))
        with transaction.atomic():
            hourly.write(hourly.Hour(m, loc, hour, **_figures(checks)) for (m, loc, hour), checks in found.items())
        written += len(found)
    return written


_finished_until: datetime | None = None  # this process's last finish_hours: the hours before it are exact


def finish_ended_hours(now: datetime | None = None) -> int:
    """The hours that ended since the last call (after a start: the last two) computed again exactly."""
    global _finished_until
    now = now or timezone.now()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    since = _finished_until or this_hour - timedelta(hours=2)
    if since >= this_hour:
        return 0
    written = finish_hours(since, this_hour)
    _finished_until = this_hour
    return written


PRUNE_BATCH = 5000
PRUNE_MONITORS = 500  # monitors whose old raw results are looked for in one query


def prune(now: datetime | None = None, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """The probe's housekeeping: the hours that ended made exact (finish_ended_hours), then raw results,
    minute roll-ups and hour roll-ups past their retention deleted in batches (each its own short transaction); state changes stay. Returns how many of each."""
    now = now or timezone.now()
    return {
        "hours finished": finish_ended_hours(now),
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
    old = HourlyRollup.objects.filter(day__lt=day).order_by().values_list("monitor_id", flat=True).distinct()
    for monitor_id in sorted(old):  # only the monitors that have such days: one query, not one per monitor
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
    (monitor, at) index a few hundred monitors at a time: there is no index on the time alone."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MONITOR_RAW_DAYS)
    deleted = 0
    pending: list[int] = []

    def flush() -> int:
        with transaction.atomic():
            count = CheckResult.objects.filter(pk__in=pending).delete()[0]
        pending.clear()
        return count

    monitors = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    for first in range(0, len(monitors), PRUNE_MONITORS):  # a few hundred monitors a query, on the index
        chunk = monitors[first:first + PRUNE_MONITORS]
        while True:
            wanted = batch - len(pending)
            ids = list(CheckResult.objects.filter(monitor_id__in=chunk, at__lt=cutoff)
                       .values_list("pk", flat=True)[:wanted])
            pending += ids
            if len(pending) >= batch:
                deleted += flush()
            if len(ids) < wanted:
                break
    if pending:
        deleted += flush()
    return deleted
