"""What the public pages say, built from the status core in a fixed number of queries.

The pages are rendered once per change into the published snapshot, so everything here depends only
on the database and `now` (the render time): nothing about the request or the reader.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from html import escape
from zoneinfo import ZoneInfo

from django.http import Http404
from django.db.models import Case, F, Max, Min, Prefetch, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString, mark_safe

from signalpost.monitors import uptime as monitor_uptime
from signalpost.presentation.components import affected_text
from signalpost.presentation.times import long_date, month_title, short_date, uptime_text
from signalpost.presentation.zone import midnight, page_zone
from signalpost.status import derive, readable, services
from signalpost.status.derive import Segment
from signalpost.status.layout import component_key, layout

from . import charts
from signalpost.status.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Kind,
    MAINTENANCE_FINISHED,
    MaintenanceStatus,
    Page,
)

UPTIME_DAYS = 90
UTC = dt_timezone.utc
OPERATIONAL = ComponentStatus.OPERATIONAL.value
NO_DATA = "no_data"  # a day before the component's start date, or one no monitor of a watched component watched
STATUS_LABELS = dict(ComponentStatus.choices)
INCIDENT_STATUS_LABELS = dict(IncidentStatus.choices)
MAINTENANCE_STATUS_LABELS = dict(MaintenanceStatus.choices)
IMPACT_LABELS = {
    Impact.NONE: "No impact",
    Impact.MINOR: "Minor impact",
    Impact.MAJOR: "Major impact",
    Impact.CRITICAL: "Critical impact",
    Impact.MAINTENANCE: "Maintenance",
}
# A maintenance running past its window by less than this is on time, as far as readers care.
OVERRUN_TOLERANCE = timedelta(minutes=1)


def _base_context(page: Page, now: datetime) -> dict:
    return {"page": page, "page_tz": page_zone(page), "now": now}


def not_found_context(now: datetime) -> dict:
    return _base_context(services.get_page(), now)


# --- incidents and maintenance as readers see them ----------------------------------------------


@dataclass
class UpdateView:
    update: IncidentUpdate
    status_label: str
    changes: list[str]  # "zh1.single: Major outage", for visible components only
    posted_late: bool
    window_until: datetime | None = None  # maintenance: the window's end, when this update moved it


@dataclass
class EventView:
    incident: Incident
    status_label: str
    impact_label: str
    affected: str  # "Switzerland (zh1.single, zh2.cluster), Mail delivery"
    updates: list[UpdateView]  # newest first
    started_at: datetime | None
    resolved_at: datetime | None
    duration: timedelta | None
    overrun: timedelta | None  # maintenance only: how far past its scheduled end it ran
    originally_until: datetime | None = None  # maintenance only: the first scheduled end, if moved since
    started_on: date | None = None  # the start is known by its date alone
    resolved_on: date | None = None
    impact_duration: timedelta | None = None  # customers' time, when the incident gives its impact window

    @property
    def latest(self) -> UpdateView | None:
        return self.updates[0] if self.updates else None


def with_details(incidents: QuerySet[Incident], changes: bool = False) -> QuerySet[Incident]:
    """Updates (newest first) and affected components in two more queries, however many incidents."""
    updates = IncidentUpdate.objects.filter(readable.updates()).order_by("-display_at", "-id")
    if changes:
        updates = updates.prefetch_related(
            Prefetch("component_changes", AffectedComponent.objects.select_related("component__group").order_by("id"))
        )
    return incidents.prefetch_related(
        Prefetch("updates", queryset=updates),
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")),
    )


def event_view(incident: Incident, now: datetime, changes: bool = False) -> EventView:
    labels = MAINTENANCE_STATUS_LABELS if incident.is_maintenance else INCIDENT_STATUS_LABELS
    updates = []
    for update in incident.updates.all():
        changed = []
        if changes:
            changed = [
                f"{change.component.name}: {STATUS_LABELS.get(change.new_status, change.new_status)}"
                for change in sorted(update.component_changes.all(), key=lambda ch: component_key(ch.component))
                if change.component.is_visible
            ]
        updates.append(UpdateView(
            update=update,
            status_label=labels.get(update.status, update.status.replace("_", " ").capitalize()),
            changes=changed,
            posted_late=update.posted_late,
            window_until=update.scheduled_until if update.status != MaintenanceStatus.SCHEDULED else None,
        ))
    first_until = next((u.update.scheduled_until for u in reversed(updates) if u.update.scheduled_until), None)
    originally_until = first_until if first_until and first_until != incident.scheduled_until else None
    started_at = incident.started_at if incident.is_maintenance else incident.begins_at
    duration = overrun = impact_duration = None
    if incident.impact_started_at is not None:
        impact_duration = (incident.impact_ended_at or incident.resolved_at or now) - incident.impact_started_at
    if started_at is not None:
        # A bound known by its date alone: no duration is stated rather than one counted from midnight.
        if not (incident.started_on or incident.resolved_on):
            duration = (incident.resolved_at or now) - started_at
        planned_end = originally_until or incident.scheduled_until
        if incident.is_maintenance and planned_end is not None:
            late = (incident.resolved_at or now) - planned_end
            overrun = late if late > OVERRUN_TOLERANCE else None
    return EventView(
        incident=incident,
        status_label=labels.get(incident.status, incident.status),
        impact_label=IMPACT_LABELS.get(incident.impact, incident.impact),
        affected=affected_text([link.component for link in incident.affected.all()]),
        updates=updates,
        started_at=started_at,
        resolved_at=incident.resolved_at,
        duration=duration,
        overrun=overrun,
        originally_until=originally_until,
        started_on=incident.started_on,
        resolved_on=incident.resolved_on,
        impact_duration=impact_duration,
    )


# --- the front page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UptimeDays:
    """The days the bars stand for, oldest first, with their bounds as UTC instants (days[i] is
    [bounds[i], bounds[i + 1])) and their labels: computed once, shared by every component."""

    days: list[date]
    bounds: list[datetime]
    labels: list[str]

    @classmethod
    def ending(cls, today: date, tz: ZoneInfo, count: int = UPTIME_DAYS) -> "UptimeDays":
        days = [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
        bounds = [midnight(d, tz).astimezone(UTC) for d in days + [today + timedelta(days=1)]]
        return cls(days, bounds, [short_date(d) for d in days])


@dataclass
class ComponentRow:
    component: Component
    status: str
    status_label: str
    bars: SafeString  # one <li> per day, built here: a template loop over 4,500 bars costs too much
    uptime: float | None  # over the days with data
    watched: bool = False  # monitors watch it: its uptime comes from their checks
    chart: SafeString | None = None  # its response times over the last 24 hours
    chart_text: str = ""  # the chart's figures, written beside it


@dataclass
class ComponentBlock:
    group: ComponentGroup | None  # None: the ungrouped components
    status: str
    status_label: str
    rows: list[ComponentRow] = field(default_factory=list)


CALM_BAR = '<li class="bar"></li>'


def _bar(status: str, lines: list[str]) -> str:
    return f'<li class="bar bar--{status}" title="{escape(chr(10).join(lines))}"></li>'


def uptime_bars(segments: list[Segment], window: UptimeDays, now: datetime, first_day: date | None,
                names_by_day: dict[date, list[str]],
                watched: list[Segment] | None = None) -> tuple[SafeString, float | None]:
    """A component's timeline cut into days: each day coloured by its worst status, titled with its date,
    uptime and incidents; and the uptime over the days with data.

    A component monitors watch (`watched`: the time they watched it, with the status they gave it) takes
    its uptime from their checks, and a day nothing watched it is "No data" whatever incidents say. One
    without monitors keeps the uptime of its status timeline (incidents, maintenance, overrides)."""
    bars = []
    i = 0
    w = 0
    for k, day in enumerate(window.days):
        if first_day is not None and day < first_day:
            bars.append(_bar(NO_DATA, [window.labels[k], "No data"]))
            continue
        start, end = window.bounds[k], min(window.bounds[k + 1], now)
        day_watched = None
        if watched is not None:
            while w < len(watched) and watched[w].end <= start:
                w += 1
            day_watched = []
            for segment in watched[w:]:
                if segment.start >= end:
                    break
                day_watched.append(Segment(max(segment.start, start), min(segment.end, end), segment.status))
            if not day_watched:
                bars.append(_bar(NO_DATA, [window.labels[k], "No data"] + names_by_day.get(day, [])))
                continue
        while i < len(segments) - 1 and segments[i].end <= start:
            i += 1
        full = day_watched is None or (monitor_uptime.uptime_of(day_watched).percent == 100.0)
        if segments[i].end >= end and segments[i].status == OPERATIONAL and day not in names_by_day and full:
            # The usual day: nothing happened. A bare bar keeps the page small (50 components × 90 days);
            # public.js writes its tooltip (date, 100% uptime) from its position.
            bars.append(CALM_BAR)
            continue
        else:
            day_segments = []
            for segment in segments[i:]:
                if segment.start >= end:
                    break
                day_segments.append(Segment(max(segment.start, start), min(segment.end, end), segment.status))
            status = derive.worst([s.status for s in day_segments] + [s.status for s in day_watched or []])
            percent = (derive.uptime_percent(day_segments) if day_watched is None
                       else monitor_uptime.uptime_of(day_watched).percent)
            lines = [window.labels[k], f"{uptime_text(percent)} uptime"]
            if status != OPERATIONAL:
                lines.append(STATUS_LABELS[status])
        bars.append(_bar(status, lines + names_by_day.get(day, [])))
    if watched is not None:
        since = window.bounds[0]
        if first_day is not None and first_day > window.days[0]:
            since = window.bounds[window.days.index(first_day)] if first_day <= window.days[-1] else now
        return mark_safe("".join(bars)), monitor_uptime.uptime_of(monitor_uptime.clip(watched, since, now)).percent
    tracked = segments
    if first_day is not None and first_day > window.days[0]:
        if first_day > window.days[-1]:
            tracked = []
        else:
            since = window.bounds[window.days.index(first_day)]
            tracked = [Segment(max(s.start, since), s.end, s.status) for s in segments if s.end > since]
    return mark_safe("".join(bars)), (derive.uptime_percent(tracked) if tracked else None)


def _event_names_by_day(component_ids: list[int], days: list[date], tz: ZoneInfo, now: datetime) -> dict[int, dict[date, list[str]]]:
    """Which incidents and maintenance touched each component on each day: one query for all of them."""
    window_start = midnight(days[0], tz)
    links = (
        IncidentComponent.objects.filter(component_id__in=component_ids, incident__started_at__lt=now)
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=window_start))
        .order_by("incident__started_at", "incident_id")
        .values_list("component_id", "incident__kind", "incident__name", "incident__started_at", "incident__resolved_at",
                     "incident__impact_started_at", "incident__impact_ended_at")
    )
    result: dict[int, dict[date, list[str]]] = {cid: {} for cid in component_ids}
    for component_id, kind, name, started_at, resolved_at, impact_start, impact_end in links:
        label = f"Maintenance: {name}" if kind == Kind.MAINTENANCE else name
        # The days it touched, its customer impact included (which may begin before the first post).
        first = min(started_at, impact_start) if impact_start else started_at
        end = resolved_at or now
        end = max(end, impact_end) if impact_end else end
        day = max(first.astimezone(tz).date(), days[0])
        last = min(end.astimezone(tz).date(), days[-1])
        while day <= last:
            names = result[component_id].setdefault(day, [])
            if label not in names:
                names.append(label)
            day += timedelta(days=1)
    return result


def index_context(now: datetime) -> dict:
    page = services.get_page()
    context = _base_context(page, now)
    tz = context["page_tz"]
    shown = layout(visible_only=True)
    components = [c for block in shown for c in block.components]

    window = UptimeDays.ending(now.astimezone(tz).date(), tz)
    # One bulk timeline for every component; its last instant is the current status.
    timelines = derive.component_timelines(
        [c.pk for c in components], window.bounds[0], now + timedelta(microseconds=1)
    )
    current = {cid: segments[-1].status for cid, segments in timelines.items()}
    names = _event_names_by_day([c.pk for c in components], window.days, tz, now)
    # What monitors watched: the uptime of the components they watch, and their response times.
    watched = monitor_uptime.component_segments([c.pk for c in components], window.bounds[0], now)
    day_ago = now - timedelta(hours=24)
    latency = monitor_uptime.component_latency(list(watched), day_ago.replace(minute=0, second=0, microsecond=0), now)

    # One block per group and per ungrouped component, in the page's order (the same as /api/v2).
    blocks: list[ComponentBlock] = []
    for item in shown:
        block = ComponentBlock(item.group, ComponentStatus.OPERATIONAL, "")
        blocks.append(block)
        for component in item.components:
            status = current[component.pk]
            block.status = derive.worst([block.status, status])
            if component.only_show_if_degraded and status == ComponentStatus.OPERATIONAL:
                continue
            bars, uptime = uptime_bars(timelines[component.pk], window, now, component.start_date,
                                       names[component.pk], watched.get(component.pk))
            chart, chart_text = None, ""
            if component.pk in watched:
                points = latency.get(component.pk, [])
                chart = charts.response_times(f"rt-{component.public_id}", component.name, points, day_ago, now, tz)
                chart_text = charts.figures_text(points)
            block.rows.append(ComponentRow(component, status, STATUS_LABELS[status], bars, uptime,
                                           component.pk in watched, chart, chart_text))
    for block in blocks:
        block.status_label = STATUS_LABELS[block.status]

    indicator, indicator_text = derive.page_indicator(current, at=now)
    open_incidents = with_details(
        Incident.objects.filter(readable.incidents(), kind=Kind.INCIDENT, resolved_at__isnull=True)
        .order_by("-started_at", "-id")
    )
    maintenance = [
        event_view(m, now) for m in with_details(
            Incident.objects.filter(readable.incidents(), kind=Kind.MAINTENANCE).exclude(status__in=MAINTENANCE_FINISHED)
            .order_by("scheduled_for", "id")
        )
    ]
    context.update(
        indicator=indicator,
        indicator_text=indicator_text,
        incidents=[event_view(i, now) for i in open_incidents],
        maintenance_active=[m for m in maintenance if m.incident.status != MaintenanceStatus.SCHEDULED],
        maintenance_upcoming=[m for m in maintenance if m.incident.status == MaintenanceStatus.SCHEDULED],
        blocks=[b for b in blocks if b.rows],
        uptime_days=UPTIME_DAYS,
        uptime_first_day=window.days[0].isoformat(),
    )
    return context


# --- history ------------------------------------------------------------------------------------

# When an event began for the reader, as SQL (the same rule as Incident.begins_at).
BEGINS_AT = Case(
    When(kind=Kind.MAINTENANCE, then=Coalesce(F("started_at"), F("scheduled_for"))),
    default=Coalesce(F("started_at"), F("created_at")),
)


def parse_month(text: str) -> tuple[int, int] | None:
    """ "2026-05" -> (2026, 5); None for anything that is not a real month."""
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        return None
    if not (1 <= month <= 12 and 1970 <= year <= 9998):
        return None
    return year, month


def _month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


@dataclass
class HistoryDay:
    day: date
    title: str
    events: list[EventView]


def history_context(now: datetime, year: int | None = None, month: int | None = None) -> dict:
    page = services.get_page()
    context = _base_context(page, now)
    tz = context["page_tz"]
    today = now.astimezone(tz).date()
    if year is None or month is None:
        year, month = today.year, today.month
    first = date(year, month, 1)
    following = date(*_shift(year, month, 1), 1)
    start, end = midnight(first, tz), midnight(following, tz)

    events = with_details(
        Incident.objects.filter(readable.incidents()).annotate(begins=BEGINS_AT)
        .filter(begins__gte=start, begins__lt=end).order_by("-begins", "-id")
    )
    by_day: dict[date, list[EventView]] = {}
    for incident in events:
        by_day.setdefault(incident.begins.astimezone(tz).date(), []).append(event_view(incident, now))

    # Every day of the month up to today; later days only when something is scheduled on them.
    last_listed = min(following - timedelta(days=1), today)
    listed = {first + timedelta(days=n) for n in range((last_listed - first).days + 1)} | set(by_day)
    days = [HistoryDay(day, long_date(day), by_day.get(day, [])) for day in sorted(listed, reverse=True)]

    bounds = Incident.objects.filter(readable.incidents()).annotate(begins=BEGINS_AT).aggregate(earliest=Min("begins"), latest=Max("begins"))
    earliest = min(filter(None, [bounds["earliest"], page.created_at]))
    has_newer = following <= today or (bounds["latest"] is not None and bounds["latest"] >= end)
    context.update(
        month_title=month_title(year, month),
        days=days,
        previous_month=_month_key(*_shift(year, month, -1)) if earliest < start else None,
        next_month=_month_key(*_shift(year, month, 1)) if has_newer else None,
    )
    return context


# --- one incident or maintenance ----------------------------------------------------------------


def event_context(incident: Incident, now: datetime) -> dict:
    page = services.get_page()
    context = _base_context(page, now)
    incident = with_details(Incident.objects.filter(readable.incidents(), pk=incident.pk), changes=True).first()
    if incident is None:
        raise Http404("this event's times are outside the accepted range")
    context["event"] = event_view(incident, now, changes=True)
    return context
