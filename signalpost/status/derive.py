"""Component status and the page indicator, derived from their causes.

Every status shown anywhere comes from `component_timelines`: incidents' per-component statuses as of
each update, running maintenance windows, manual overrides and what monitors report (ComponentSignal),
each an interval. The current status
is the same timeline read at one instant, so the page and the uptime bars can never disagree.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Iterable

from django.db.models import Q, Value
from django.utils import timezone

from . import readable
from .models import (
    SEVERITY,
    AffectedComponent,
    Component,
    ComponentSignal,
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    Kind,
    StatusOverride,
    visible_q,
)

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=dt_timezone.utc)
OPERATIONAL = ComponentStatus.OPERATIONAL.value


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    status: str

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class _Cause:
    start: datetime
    end: datetime
    status: str
    forced: bool = False  # a manual override wins over every other cause
    incident_id: int | None = None  # the incident or maintenance behind it, if any
    reason: str = ""  # an override's or a monitor's reason
    kind: str = ""  # "monitor" for a reported signal; otherwise told by forced and incident_id


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OPERATIONAL)


def _causes(component_ids: list[int], start: datetime, end: datetime) -> dict[int, list[_Cause]]:
    causes: dict[int, list[_Cause]] = {cid: [] for cid in component_ids}
    if not component_ids:
        return causes
    # An impact window may begin before the incident was opened and end after it was resolved.
    overlapping = (
        ((Q(resolved_at__isnull=True) | Q(resolved_at__gt=start)) & Q(started_at__lt=end))
        | (Q(impact_started_at__lt=end) & (Q(impact_ended_at__isnull=True) | Q(impact_ended_at__gt=start)))
    )

    # Incidents (and maintenance updates that report a component's state): each update's status for a
    # component holds until that incident's next update naming it, or until the incident is resolved.
    rows = (
        AffectedComponent.objects.filter(component_id__in=component_ids)
        .filter(update__incident__in=Incident.objects.filter(overlapping).filter(readable.incidents()))
        .filter(readable.updates("update__"))
        .values_list(
            "component_id", "new_status", "update__display_at", "update__id",
            "update__incident_id", "update__incident__resolved_at", "update__incident__kind",
            "update__incident__impact_started_at", "update__incident__impact_ended_at",
        )
        .order_by("update__incident_id", "component_id", "update__display_at", "update__id")
    )
    timelines: dict[tuple[int, int], list[tuple[datetime, str]]] = {}
    resolved: dict[int, datetime | None] = {}
    windows: dict[int, tuple[datetime | None, datetime | None]] = {}
    for component_id, status, display_at, _uid, incident_id, resolved_at, kind, imp_start, imp_end in rows:
        timelines.setdefault((incident_id, component_id), []).append((display_at, status))
        resolved[incident_id] = resolved_at
        windows[incident_id] = (imp_start, imp_end) if kind == Kind.INCIDENT else (None, None)
    for (incident_id, component_id), changes in timelines.items():
        ends = [at for at, _ in changes[1:]] + [resolved[incident_id] or FAR_FUTURE]
        spans = [(at, until, status) for (at, status), until in zip(changes, ends)
                 if status not in (OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE)]
        for at, until, status in _within_impact(spans, *windows[incident_id]):
            causes[component_id].append(_Cause(at, until, status, incident_id=incident_id))

    # Running maintenance: its components are under maintenance from its start until it completes. During
    # its customer impact window they take the status its impact stands for (the work around it counts as
    # maintenance).
    running = Q(incident__started_at__isnull=False, incident__started_at__lt=end) & (
        Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=start))
    impacted = Q(incident__impact__in=list(IMPACT_STATUS), incident__impact_started_at__lt=end) & (
        Q(incident__impact_ended_at__isnull=True) | Q(incident__impact_ended_at__gt=start))
    maintenance = IncidentComponent.objects.filter(
        running | impacted, component_id__in=component_ids, incident__kind=Kind.MAINTENANCE,
    ).filter(readable.incidents("incident__"))
    for component_id, started_at, resolved_at, incident_id, impact, imp_start, imp_end in maintenance.values_list(
        "component_id", "incident__started_at", "incident__resolved_at", "incident_id", "incident__impact",
        "incident__impact_started_at", "incident__impact_ended_at",
    ):
        if started_at is not None:
            causes[component_id].append(_Cause(started_at, resolved_at or FAR_FUTURE,
                                               ComponentStatus.UNDER_MAINTENANCE, incident_id=incident_id))
        if impact in IMPACT_STATUS and imp_start is not None:
            causes[component_id].append(_Cause(imp_start, imp_end or resolved_at or FAR_FUTURE,
                                               IMPACT_STATUS[impact], incident_id=incident_id))

    # Manual overrides (they win over every other cause) and what monitors report (a cause like an
    # incident's), read in one query.
    overrides = StatusOverride.objects.filter(component_id__in=component_ids, set_at__lt=end).filter(
        Q(cleared_at__isnull=True) | Q(cleared_at__gt=start)
    ).filter(readable.overrides()).order_by().annotate(forced=Value(True)).values_list("component_id", "status", "set_at", "cleared_at", "reason", "forced")
    signals = ComponentSignal.objects.filter(component_id__in=component_ids, start__lt=end).filter(
        Q(end__isnull=True) | Q(end__gt=start)
    ).order_by().annotate(forced=Value(False)).values_list("component_id", "status", "start", "end", "reason", "forced")
    for component_id, status, cause_start, cause_end, reason, forced in overrides.union(signals, all=True):
        causes[component_id].append(_Cause(cause_start, cause_end or FAR_FUTURE, status, forced=bool(forced),
                                           reason=reason, kind="" if forced else "monitor"))
    return causes


def maintenance_windows(component_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """When each component was under a running maintenance within [start, end): from its start until it
    completed (a scheduled window that never started is not maintenance). What an SLA leaves out."""
    ids = list(component_ids)
    windows: dict[int, list[tuple[datetime, datetime]]] = {cid: [] for cid in ids}
    running = IncidentComponent.objects.filter(
        component_id__in=ids, incident__kind=Kind.MAINTENANCE, incident__started_at__isnull=False,
        incident__started_at__lt=end,
    ).filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=start)).filter(
        readable.incidents("incident__"))
    for component_id, started_at, resolved_at in running.values_list(
            "component_id", "incident__started_at", "incident__resolved_at").order_by("incident__started_at"):
        windows[component_id].append((max(started_at, start), min(resolved_at or end, end)))
    return windows


# The component status a maintenance's impact stands for while customers are affected.
IMPACT_STATUS = {
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
}


def _within_impact(spans: list[tuple[datetime, datetime, str]], impact_start: datetime | None,
                   impact_end: datetime | None) -> list[tuple[datetime, datetime, str]]:
    """An incident's statuses for one component, held to its impact window when it has one: the first
    status counts from the impact's start (customers were affected before the first post), the last
    until the impact's end, and nothing counts outside the window."""
    if not spans or (impact_start is None and impact_end is None):
        return spans
    spans = list(spans)
    if impact_start is not None and impact_start < spans[0][0]:
        spans[0] = (impact_start, spans[0][1], spans[0][2])
    if impact_end is not None and impact_end > spans[-1][1]:
        spans[-1] = (spans[-1][0], impact_end, spans[-1][2])
    low = impact_start or spans[0][0]
    high = impact_end or FAR_FUTURE
    return [(max(at, low), min(until, high), status) for at, until, status in spans
            if max(at, low) < min(until, high)]


def _flatten(causes: list[_Cause], start: datetime, end: datetime) -> list[Segment]:
    bounds = {start, end}
    for cause in causes:
        if cause.start < end and cause.end > start:
            bounds.add(max(cause.start, start))
            bounds.add(min(cause.end, end))
    points = sorted(bounds)
    segments: list[Segment] = []
    for seg_start, seg_end in zip(points, points[1:]):
        active = [c for c in causes if c.start <= seg_start and c.end >= seg_end and c.start < c.end]
        forced = [c for c in active if c.forced]
        if forced:
            status = max(forced, key=lambda c: c.start).status  # the newest override holds
        else:
            status = worst(c.status for c in active)
        if segments and segments[-1].status == status:
            segments[-1] = Segment(segments[-1].start, seg_end, status)
        else:
            segments.append(Segment(seg_start, seg_end, status))
    return segments


def component_timelines(
    components: Iterable[Component | int], start: datetime, end: datetime
) -> dict[int, list[Segment]]:
    """Each component's status over [start, end), as contiguous segments covering the interval."""
    if end <= start:
        raise ValueError("the interval ends before it starts")
    ids = [c if isinstance(c, int) else c.pk for c in components]
    causes = _causes(ids, start, end)
    return {cid: _flatten(causes[cid], start, end) for cid in ids}


def component_status_timeline(component: Component | int, start: datetime, end: datetime) -> list[Segment]:
    cid = component if isinstance(component, int) else component.pk
    return component_timelines([cid], start, end)[cid]


def current_statuses(components: Iterable[Component | int], at: datetime | None = None) -> dict[int, str]:
    at = at or timezone.now()
    timelines = component_timelines(components, at, at + timedelta(microseconds=1))
    return {cid: segments[0].status for cid, segments in timelines.items()}


@dataclass(frozen=True)
class Reason:
    """Why a component has a status now: an incident, a running maintenance, a manual override, or a
    monitor's verdict."""

    status: str
    kind: str  # incident, maintenance, override, monitor
    incident: Incident | None = None
    reason: str = ""  # an override's, or a monitor's ("monitor 'API' down: HTTP 503 from 2 of 2 locations")
    wins: bool = False  # the cause that decides the status shown


def status_reasons(components: Iterable[Component | int], at: datetime | None = None) -> dict[int, list[Reason]]:
    """Each component's causes at one instant, the deciding one first; none for an operational one."""
    at = at or timezone.now()
    ids = [c if isinstance(c, int) else c.pk for c in components]
    end = at + timedelta(microseconds=1)
    causes = _causes(ids, at, end)
    incident_ids = {c.incident_id for cs in causes.values() for c in cs if c.incident_id}
    incidents = Incident.objects.filter(readable.incidents()).in_bulk(incident_ids)
    reasons: dict[int, list[Reason]] = {}
    for cid, found in causes.items():
        active = [c for c in found if c.start <= at < c.end]
        forced = [c for c in active if c.forced]
        decider = max(forced, key=lambda c: c.start) if forced else (
            max(active, key=lambda c: SEVERITY[c.status]) if active else None)
        rows = []
        for cause in sorted(active, key=lambda c: (c is not decider, -SEVERITY[c.status])):
            incident = incidents.get(cause.incident_id) if cause.incident_id else None
            kind = "override" if cause.forced else cause.kind or (incident.kind if incident else "incident")
            rows.append(Reason(cause.status, kind, incident, cause.reason, cause is decider))
        reasons[cid] = rows
    return reasons


def component_status(component: Component, at: datetime | None = None) -> str:
    return current_statuses([component], at)[component.pk]


# The page indicator, in Statuspage's vocabulary.
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
_INDICATOR_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
_STATUS_INDICATOR = {
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}


def page_indicator(statuses: dict[int, str] | None = None, at: datetime | None = None) -> tuple[str, str]:
    """(indicator, description) for the page: the worst of open incidents' impact and visible components."""
    at = at or timezone.now()
    if statuses is None:
        statuses = current_statuses(list(Component.objects.visible().values_list("pk", flat=True)), at)
    levels = [_STATUS_INDICATOR.get(s, "none") for s in statuses.values()]
    # Open at `at`, not merely open now: the indicator of a past moment must be reconstructible too.
    open_at = Q(started_at__lte=at) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=at))
    open_impacts = Incident.objects.filter(open_at, readable.incidents(), kind=Kind.INCIDENT)
    levels += [i if i in _INDICATOR_RANK else "none" for i in open_impacts.values_list("impact", flat=True)]
    indicator = max(levels, key=_INDICATOR_RANK.__getitem__, default="none")
    if indicator == "none":
        visible = visible_q("affected__component__")
        in_maintenance = ComponentStatus.UNDER_MAINTENANCE in statuses.values() or Incident.objects.filter(
            open_at, readable.incidents(), Q(affected__isnull=True) | visible, kind=Kind.MAINTENANCE,
        ).exists()
        if in_maintenance:
            indicator = "maintenance"
    return indicator, INDICATOR_DESCRIPTIONS[indicator]


def uptime_percent(segments: list[Segment]) -> float:
    """Share of time not in an outage. Degraded performance and maintenance count as up; a partial
    outage counts for 30% of its time, as Statuspage weighs it."""
    total = sum((s.duration for s in segments), timedelta())
    if not total:
        return 100.0
    down = timedelta()
    for s in segments:
        if s.status == ComponentStatus.MAJOR_OUTAGE:
            down += s.duration
        elif s.status == ComponentStatus.PARTIAL_OUTAGE:
            down += s.duration * 0.3
    if not down:
        return 100.0
    # Rounded down, and never to 100: three minutes of outage in 90 days must not read "100%".
    return min(99.99, math.floor(10000 * (1 - down / total)) / 100)


__all__ = [
    "Segment", "component_timelines", "component_status_timeline", "current_statuses",
    "component_status", "page_indicator", "uptime_percent", "worst", "maintenance_windows", "IncidentStatus", "Impact",
]
