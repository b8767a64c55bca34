"""The reliability report: how often things broke, for how long, and how fast the team noticed and fixed
them, month by month over a chosen period. Plain functions of the record, no stored numbers.

- Months are calendar months in the page's zone: an incident that began at 00:30 on April 1 in Zurich
  (22:30 UTC on March 31) counts in April, as the team lived it. One with a customer impact window
  counts where the impact began.
- Every duration is real elapsed time, compared in UTC: a night whose clocks went forward is an hour
  shorter on the wall than it looks (see figures.py).
- Downtime is read from the derived component timelines (status.derive), the same history that the
  public uptime bars show: time in major outage and in partial outage, each on its own.
- Time to detect and to resolve come from postmortems where one exists (figures.py: the team's own
  first signal and detection), otherwise from the incident itself (resolve: start to resolution;
  detect: unknown). A postmortem covering several incidents counts once, in the month it began.
"""

import itertools
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q

from signalpost.status import derive
from signalpost.errors import InvalidInput
from signalpost.status.models import (
    Component,
    ComponentStatus,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Kind,
)
from signalpost.status.layout import components_in_page_order

from .figures import Figures, began_at, compute, impact_began, utc
from .models import Postmortem

MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
MAJOR = ComponentStatus.MAJOR_OUTAGE.value
PARTIAL = ComponentStatus.PARTIAL_OUTAGE.value


# --- the period -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    start: datetime  # its first instant (local midnight on the 1st), in UTC
    end: datetime  # the first instant of the next month, in UTC

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{MONTH_ABBR[self.month - 1]} {self.year}"

    @property
    def short_label(self) -> str:
        return MONTH_ABBR[self.month - 1]


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_start(year: int, month: int, zone: ZoneInfo) -> datetime:
    # Local midnight is never in a daylight-saving gap in the zones that have one at 02:00 or later;
    # in a zone whose gap is at midnight, fold=0 reads it with the offset before the change.
    return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def month_of(moment: datetime, zone: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(zone)
    return local.year, local.month


def months_between(first: tuple[int, int], last: tuple[int, int], zone: ZoneInfo) -> list[Month]:
    """Every month from `first` to `last` (year, month), both included."""
    months = []
    year, month = first
    while (year, month) <= last:
        following = _next(year, month)
        months.append(Month(year, month, _month_start(year, month, zone), _month_start(*following, zone)))
        year, month = following
    return months


def default_period(now: datetime, zone: ZoneInfo, count: int = DEFAULT_MONTHS) -> tuple[tuple[int, int], tuple[int, int]]:
    """The last `count` months, this one included."""
    last = month_of(now, zone)
    index = last[0] * 12 + last[1] - 1 - (count - 1)
    return (index // 12, index % 12 + 1), last


MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(field_name: str, value: str) -> tuple[int, int]:
    """"2026-03" as (2026, 3); anything else is refused naming the field."""
    found = MONTH_PATTERN.match((value or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        raise InvalidInput(field_name, "must be a month such as 2026-03")
    return int(found.group(1)), int(found.group(2))


def period(first: tuple[int, int], last: tuple[int, int], zone: ZoneInfo) -> list[Month]:
    """The months of a period the reader chose, checked: in order, and not absurdly long."""
    if last < first:
        raise InvalidInput("end", "is before the first month")
    span = (last[0] * 12 + last[1]) - (first[0] * 12 + first[1]) + 1
    if span > MAX_MONTHS:
        raise InvalidInput("end", f"a report covers at most {MAX_MONTHS} months")
    return months_between(first, last, zone)


def _month_index(months: list[Month], moment: datetime | None) -> int | None:
    if moment is None:
        return None
    moment = utc(moment)
    for index, month in enumerate(months):
        if month.start <= moment < month.end:
            return index
    return None


# --- incidents per month ---------------------------------------------------------------------------


@dataclass
class MonthCount:
    month: Month
    incidents: int = 0
    by_impact: dict[str, int] = field(default_factory=dict)


def _began_between(start: datetime, end: datetime) -> Q:
    """Incidents and maintenance windows that began in [start, end) (figures.began_at, as a query)."""
    return (Q(started_at__gte=start, started_at__lt=end)
            | Q(started_at__isnull=True, kind=Kind.INCIDENT, created_at__gte=start, created_at__lt=end)
            | Q(started_at__isnull=True, kind=Kind.MAINTENANCE, scheduled_for__gte=start, scheduled_for__lt=end))


def _began_or_impact_began(start: datetime, end: datetime) -> Q:
    return _began_between(start, end) | Q(impact_started_at__gte=start, impact_started_at__lt=end)


def _incidents_in(months: list[Month]) -> list[Incident]:
    """Incidents that began, or whose customer impact began, in the months (a superset: each is then
    counted where its impact began)."""
    if not months:
        return []
    began = _began_or_impact_began(months[0].start, months[-1].end)
    return list(Incident.objects.filter(began, kind=Kind.INCIDENT).order_by("started_at", "id"))


def incidents_per_month(months: list[Month], incidents: list[Incident] | None = None) -> list[MonthCount]:
    """How many incidents began in each month: when customers were first affected, where the impact
    window says so (an outage found at the start of a month counts in the month it began). Maintenance
    windows are planned, not counted."""
    counts = [MonthCount(month) for month in months]
    for incident in _incidents_in(months) if incidents is None else incidents:
        index = _month_index(months, impact_began(incident))
        if index is not None:
            counts[index].incidents += 1
            counts[index].by_impact[incident.impact] = counts[index].by_impact.get(incident.impact, 0) + 1
    return counts


# --- downtime ---------------------------------------------------------------------------------------


@dataclass
class ComponentDowntime:
    component: Component
    label: str  # "Switzerland / zh1.single"
    major: timedelta = timedelta(0)
    partial: timedelta = timedelta(0)

    @property
    def total(self) -> timedelta:
        return self.major + self.partial


@dataclass
class Downtime:
    start: datetime
    end: datetime  # the end of the period, or now when the period has not ended
    major: timedelta = timedelta(0)  # time during which at least one component was in major outage
    partial: timedelta = timedelta(0)  # ... in partial outage, and none in major outage
    components: list[ComponentDowntime] = field(default_factory=list)  # page order

    @property
    def total(self) -> timedelta:
        return self.major + self.partial


def downtime(start: datetime, end: datetime, components: Iterable[Component] | None = None) -> Downtime:
    """Time in major and in partial outage over [start, end), per component and for the page as a whole
    (the page counts an instant once, however many components were down then, at its worst status)."""
    components = components_in_page_order(visible_only=False) if components is None else list(components)
    result = Downtime(start=start, end=end)
    if end <= start or not components:
        return result
    timelines = derive.component_timelines(components, start, end)
    bounds: set[datetime] = {start, end}
    for component in components:
        row = ComponentDowntime(component, f"{component.group.name} / {component.name}" if component.group_id
                                else component.name)
        for segment in timelines[component.pk]:
            if segment.status == MAJOR:
                row.major += segment.duration
            elif segment.status == PARTIAL:
                row.partial += segment.duration
            if segment.status in (MAJOR, PARTIAL):
                bounds.update((segment.start, segment.end))
        result.components.append(row)
    # The page as a whole: between two consecutive boundaries every component holds one status.
    down = [s for segments in timelines.values() for s in segments if s.status in (MAJOR, PARTIAL)]
    points = sorted(bounds)
    for seg_start, seg_end in itertools.pairwise(points):
        statuses = {s.status for s in down if s.start <= seg_start and s.end >= seg_end}
        if MAJOR in statuses:
            result.major += seg_end - seg_start
        elif PARTIAL in statuses:
            result.partial += seg_end - seg_start
    return result


# --- time to detect and to resolve -------------------------------------------------------------------


@dataclass
class Case:
    """One thing that went wrong: a postmortem's incidents together, or an incident without one."""

    title: str
    began_at: datetime
    time_to_detect: timedelta | None
    time_to_resolve: timedelta | None
    postmortem: Postmortem | None = None
    incidents: list[Incident] = field(default_factory=list)


def cases(months: list[Month]) -> list[Case]:
    """The cases that began in the period, oldest first."""
    if not months:
        return []
    start, end = months[0].start, months[-1].end
    found: list[Case] = []
    lone = _incidents_in(months)
    covered = set(Postmortem.incidents.through.objects.filter(incident__in=lone).values_list("incident_id", flat=True))
    # A postmortem begins with its first incident: one of them began in the period, or it does not count.
    postmortems = Postmortem.objects.filter(incidents__in=Incident.objects.filter(_began_or_impact_began(start, end)))
    postmortems = postmortems.distinct().prefetch_related(Prefetch("incidents", queryset=Incident.objects.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("display_at", "id")),
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")),
    )))
    for postmortem in postmortems:
        incidents = sorted(postmortem.incidents.all(), key=lambda i: (utc(began_at(i)) or i.created_at, i.pk))
        figures: Figures = compute(postmortem, incidents)
        if figures.started_at is None or not start <= figures.started_at < end:
            continue
        found.append(Case(postmortem.title, figures.started_at, figures.time_to_detect, figures.time_to_resolve,
                          postmortem, incidents))
    for incident in lone:
        if incident.pk in covered:
            continue
        began = utc(impact_began(incident))
        # Customers' time: from the impact's start to its end, where the incident gives that window.
        impact_start, impact_end = (utc(t) for t in incident.impact_window)
        resolve = impact_end - impact_start if incident.resolved_at and incident.impact_known else None
        found.append(Case(incident.name, began, None, resolve if resolve is None or resolve >= timedelta(0) else None,
                          None, [incident]))
    found.sort(key=lambda case: case.began_at)
    return found


@dataclass
class Spread:
    """The median and the worst of some durations, and how many there were."""

    count: int = 0
    median: timedelta | None = None
    worst: timedelta | None = None


def spread(durations: Iterable[timedelta | None]) -> Spread:
    known = [d for d in durations if d is not None]
    if not known:
        return Spread()
    seconds = statistics.median(d.total_seconds() for d in known)
    return Spread(len(known), timedelta(seconds=seconds), max(known))


@dataclass
class MonthTimes:
    month: Month
    detect: Spread
    resolve: Spread


def response_times(months: list[Month], found: list[Case] | None = None) -> list[MonthTimes]:
    """Per month: the median and worst time to detect and time to resolve of the cases begun in it."""
    found = cases(months) if found is None else found
    per_month: list[list[Case]] = [[] for _ in months]
    for case in found:
        index = _month_index(months, case.began_at)
        if index is not None:
            per_month[index].append(case)
    return [MonthTimes(month, spread(c.time_to_detect for c in group), spread(c.time_to_resolve for c in group))
            for month, group in zip(months, per_month, strict=True)]


# --- the whole report ---------------------------------------------------------------------------------


@dataclass
class Report:
    months: list[Month]
    zone: ZoneInfo
    counts: list[MonthCount]
    downtime: Downtime
    times: list[MonthTimes]
    cases: list[Case]
    detect: Spread  # over the whole period
    resolve: Spread

    @property
    def incidents(self) -> int:
        return sum(c.incidents for c in self.counts)


def build(months: list[Month], zone: ZoneInfo, now: datetime, components: Iterable[Component] | None = None) -> Report:
    """The report over these months; downtime of these components (all of them unless told: the public
    page leaves the hidden ones out)."""
    start, end = months[0].start, months[-1].end
    incidents = _incidents_in(months)
    found = cases(months)
    return Report(
        months=months,
        zone=zone,
        counts=incidents_per_month(months, incidents),
        downtime=downtime(start, min(end, max(start, now)), components),
        times=response_times(months, found),
        cases=found,
        detect=spread(c.time_to_detect for c in found),
        resolve=spread(c.time_to_resolve for c in found),
    )
