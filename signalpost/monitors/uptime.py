"""Uptime from what the monitors saw: time-weighted from state changes, over the time something watched.

A monitor watched an instant when it had a verdict then (its state changes say up, degraded or down,
not unknown: never checked yet, or paused) and its probe was running (the hour has checks in the
hourly roll-ups, at any location). Time nobody watched is "no data", never up. Neither raw results
nor the probe's interval enter: a 10 s and a 5 min monitor down for the same 20 minutes give the same
figure.

A component watched by monitors has, at each watched instant, the worst status its watching monitors
give it (their links' rule: down → major outage, by default); uptime weighs it as the status core does
(derive.uptime_percent: a major outage counts in full, a partial outage for 30% of its time).
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max

from signalpost.presentation.zone import midnight
from signalpost.status import derive
from signalpost.status.derive import Segment
from signalpost.status.models import ComponentStatus

from . import hourly
from .models import MonitorComponent, State, StateChange

HOUR = timedelta(hours=1)
OPERATIONAL = ComponentStatus.OPERATIONAL.value
WATCHING = (State.UP, State.DEGRADED, State.DOWN)
MONITOR_STATUS = {State.UP: OPERATIONAL, State.DEGRADED: ComponentStatus.DEGRADED_PERFORMANCE.value,
                  State.DOWN: ComponentStatus.MAJOR_OUTAGE.value}


@dataclass(frozen=True)
class Uptime:
    watched: timedelta
    down: timedelta  # a partial outage's time weighed at 30%

    @property
    def percent(self) -> float | None:
        """None when nothing watched; rounded down, and never 100 when there was any down time."""
        if not self.watched:
            return None
        if not self.down:
            return 100.0
        return min(99.99, math.floor(10000 * (1 - self.down / self.watched)) / 100)


def _down(segments: list[Segment]) -> timedelta:
    down = timedelta()
    for s in segments:
        if s.status == ComponentStatus.MAJOR_OUTAGE:
            down += s.duration
        elif s.status == ComponentStatus.PARTIAL_OUTAGE:
            down += s.duration * 0.3
    return down


def uptime_of(segments: list[Segment]) -> Uptime:
    return Uptime(sum((s.duration for s in segments), timedelta()), _down(segments))


def _coverage(monitor_ids: list[int], start: datetime, end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """The hours each monitor's probe ran (had checks, at any location), merged into spans, within [start, end)."""
    spans: dict[int, list[tuple[datetime, datetime]]] = {m: [] for m in monitor_ids}
    for found in hourly.read(monitor_ids, start - HOUR, end):
        low, high = max(found.hour, start), min(found.hour + HOUR, end)
        if low >= high:
            continue
        merged = spans[found.monitor_id]
        if merged and merged[-1][1] >= low:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return spans


def _states(monitor_ids: list[int], start: datetime, end: datetime) -> dict[int, list[tuple[datetime, datetime, str]]]:
    """Each monitor's states over [start, end) from its state changes (unknown before the first one)."""
    before = dict(StateChange.objects.filter(monitor_id__in=monitor_ids, at__lte=start).values("monitor_id")
                  .annotate(last=Max("at")).values_list("monitor_id", "last"))
    result: dict[int, list[tuple[datetime, datetime, str]]] = {}
    changes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    rows = StateChange.objects.filter(monitor_id__in=monitor_ids, at__lt=end).filter(
        at__gte=min(before.values(), default=start)).order_by("monitor_id", "at", "id")
    for monitor_id, at, to_state in rows.values_list("monitor_id", "at", "to_state"):
        if monitor_id in before and at < before[monitor_id]:
            continue
        changes[monitor_id].append((at, to_state))
    for monitor_id in monitor_ids:
        spans, state, since = [], State.UNKNOWN.value, start
        for at, to_state in changes[monitor_id]:
            at = max(at, start)
            if at > since:
                spans.append((since, at, state))
            state, since = to_state, at
        if end > since:
            spans.append((since, end, state))
        result[monitor_id] = spans
    return result


def monitor_segments(monitor_ids: list[int], start: datetime, end: datetime) -> dict[int, list[Segment]]:
    """Each monitor's watched time within [start, end), as segments of the monitor's own status
    (operational, degraded_performance, major_outage); the gaps between them are "no data"."""
    coverage = _coverage(monitor_ids, start, end)
    states = _states(monitor_ids, start, end)
    result = {}
    for monitor_id in monitor_ids:
        segments = []
        for low, high, state in states[monitor_id]:
            if state not in WATCHING:
                continue
            for c_low, c_high in coverage[monitor_id]:
                a, b = max(low, c_low), min(high, c_high)
                if a < b:
                    segments.append(Segment(a, b, MONITOR_STATUS[state]))
        result[monitor_id] = segments
    return result


def monitor_uptime(monitor_id: int, start: datetime, end: datetime) -> Uptime:
    return uptime_of(monitor_segments([monitor_id], start, end)[monitor_id])


def watched_components(component_ids: list[int]) -> dict[int, list[MonitorComponent]]:
    """The monitors linked to each component (none: the component is not watched)."""
    links: dict[int, list[MonitorComponent]] = defaultdict(list)
    for link in MonitorComponent.objects.filter(component_id__in=component_ids).order_by("monitor_id"):
        links[link.component_id].append(link)
    return dict(links)


def component_segments(component_ids: list[int], start: datetime, end: datetime) -> dict[int, list[Segment]]:
    """Each watched component's watched time within [start, end), as segments of the worst status its
    watching monitors gave it. A component no monitor is linked to is left out; one whose monitors
    watched nothing in the period has an empty list."""
    links = watched_components(component_ids)
    monitors = sorted({link.monitor_id for found in links.values() for link in found})
    by_monitor = monitor_segments(monitors, start, end)
    result = {}
    for component_id, found in links.items():
        causes = []
        for link in found:
            for s in by_monitor[link.monitor_id]:
                status = {OPERATIONAL: OPERATIONAL, ComponentStatus.DEGRADED_PERFORMANCE: link.degraded_status,
                          ComponentStatus.MAJOR_OUTAGE: link.down_status}[s.status]
                causes.append(Segment(s.start, s.end, status))
        # A sweep over the segments' ends: the statuses active between two consecutive bounds.
        edges: dict[datetime, list[tuple[int, str]]] = defaultdict(list)
        for c in causes:
            edges[c.start].append((1, c.status))
            edges[c.end].append((-1, c.status))
        active: dict[str, int] = defaultdict(int)
        points = sorted(edges)
        segments: list[Segment] = []
        for low, high in zip(points, points[1:]):
            for step, status in edges[low]:
                active[status] += step
            present = [status for status, count in active.items() if count > 0]
            if not present:
                continue
            status = derive.worst(present)
            if segments and segments[-1].end == low and segments[-1].status == status:
                segments[-1] = Segment(segments[-1].start, high, status)
            else:
                segments.append(Segment(low, high, status))
        result[component_id] = segments
    return result


def component_uptime(component_ids: list[int], start: datetime, end: datetime) -> dict[int, Uptime]:
    """Each watched component's uptime over [start, end) (any period, a year and more)."""
    return {cid: uptime_of(segments) for cid, segments in component_segments(component_ids, start, end).items()}


def clip(segments: list[Segment], start: datetime, end: datetime) -> list[Segment]:
    return [Segment(max(s.start, start), min(s.end, end), s.status) for s in segments
            if s.start < end and s.end > start]


def _minus(segments: list[Segment], windows: list[tuple[datetime, datetime]]) -> list[Segment]:
    """The segments with the windows cut out of them."""
    for low, high in windows:
        kept = []
        for s in segments:
            if s.end <= low or s.start >= high:
                kept.append(s)
                continue
            if s.start < low:
                kept.append(Segment(s.start, low, s.status))
            if s.end > high:
                kept.append(Segment(high, s.end, s.status))
        segments = kept
    return segments


# --- the monthly SLA report -------------------------------------------------------------------------

SLA_FORMULA = ("uptime = (minutes watched − minutes in maintenance − minutes down outside maintenance) "
               "÷ (minutes watched − minutes in maintenance)")


@dataclass(frozen=True)
class SlaMonth:
    month: date  # its first day, in the page's zone
    watched: timedelta
    maintenance: timedelta  # watched time inside maintenance windows, left out
    down: timedelta  # outside maintenance; a partial outage weighed at 30%

    @property
    def counted(self) -> timedelta:
        return self.watched - self.maintenance

    @property
    def percent(self) -> float | None:
        return Uptime(self.counted, self.down).percent


def sla_months(component_id: int, months: list[date], tz: ZoneInfo, now: datetime) -> list[SlaMonth]:
    """One row per month (first days, in the page's zone), up to `now`, maintenance windows excluded."""
    if not months:
        return []
    bounds = [midnight(m, tz) for m in months]
    following = months[-1].replace(day=28) + timedelta(days=4)
    bounds.append(midnight(following.replace(day=1), tz))
    start, end = bounds[0], min(bounds[-1], now)
    if end <= start:
        return [SlaMonth(m, timedelta(), timedelta(), timedelta()) for m in months]
    segments = component_segments([component_id], start, end).get(component_id, [])
    windows = derive.maintenance_windows([component_id], start, end)[component_id]
    rows = []
    for month, low, high in zip(months, bounds, bounds[1:]):
        inside = clip(segments, low, min(high, end)) if low < end else []
        outside = _minus(inside, windows)
        watched = sum((s.duration for s in inside), timedelta())
        counted = sum((s.duration for s in outside), timedelta())
        rows.append(SlaMonth(month, watched, watched - counted, _down(outside)))
    return rows


# --- response times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyPoint:
    hour: datetime
    p50_ms: int
    p95_ms: int


def component_latency(component_ids: list[int], start: datetime, end: datetime) -> dict[int, list[LatencyPoint]]:
    """Each watched component's response times per hour within [start, end), from the hourly roll-ups.
    When several monitors or locations watch it, an hour shows the highest p50 and p95 among them."""
    links = watched_components(component_ids)
    by_monitor: dict[int, list[int]] = defaultdict(list)
    for component_id, found in links.items():
        for link in found:
            by_monitor[link.monitor_id].append(component_id)
    points: dict[int, dict[datetime, tuple[int, int]]] = {cid: {} for cid in links}
    for found in hourly.read(list(by_monitor), start, end):
        if found.latency_p50_ms is None:
            continue
        p50, p95 = found.latency_p50_ms, found.latency_p95_ms or found.latency_p50_ms
        for component_id in by_monitor[found.monitor_id]:
            old = points[component_id].get(found.hour, (0, 0))
            points[component_id][found.hour] = (max(old[0], p50), max(old[1], p95))
    return {cid: [LatencyPoint(h, p50, p95) for h, (p50, p95) in sorted(found.items())]
            for cid, found in points.items()}
