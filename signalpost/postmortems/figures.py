"""The figures a postmortem states about its incidents, derived from the record, never typed in.

- total duration: from the first incident's start to the last one's resolution, or over their customer
  impact windows where those are given; omitted when a bound is known by its date alone;
- time to detect: from when the problem first showed (first_signal_at, which only the team knows, or
  else the earliest impact start) to when it was detected: detected_at, or else when the first incident
  began;
- time to acknowledge: from detection to acknowledged_at, or else to the first update after the
  opening one (or the opening itself, when the incident opened already "identified");
- time to resolve: from detection to the last resolution;
- the components and the groups (regions) the incidents affected.

Every instant is compared in UTC: subtracting two datetimes that share one ZoneInfo compares their
wall clocks, which is an hour off across a daylight-saving change. The document shows the instants
in its own zone; the durations do not depend on it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Prefetch

from signalpost.presentation.components import affected_text  # the reader's wording of components
from signalpost.status.layout import in_page_order
from signalpost.status.models import Component, Incident, IncidentComponent, IncidentStatus, IncidentUpdate

from .models import Postmortem

UTC = dt_timezone.utc


@dataclass
class Figures:
    started_at: datetime | None = None
    ended_at: datetime | None = None  # None while any of the incidents is open
    first_signal_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    total_duration: timedelta | None = None
    time_to_detect: timedelta | None = None
    time_to_acknowledge: timedelta | None = None
    time_to_resolve: timedelta | None = None
    components: list[str] = field(default_factory=list)  # "Switzerland / zh1.single", in page order
    groups: list[str] = field(default_factory=list)  # "Switzerland"
    affected: str = ""  # as incident pages say it: "Switzerland (zh1.single, zh2.cluster), Mail delivery"


def utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def span(start: datetime | None, end: datetime | None) -> timedelta | None:
    """end - start in real elapsed time; None when either is unknown or they are in the wrong order."""
    if start is None or end is None:
        return None
    elapsed = utc(end) - utc(start)
    return elapsed if elapsed >= timedelta(0) else None


def began_at(incident: Incident) -> datetime | None:
    """When an incident began; a maintenance, when its work started (its window, if it never did)."""
    if incident.is_maintenance:
        return incident.started_at or incident.scheduled_for
    return incident.started_at or incident.created_at


def impact_began(incident: Incident) -> datetime | None:
    """When customers were first affected: the impact window's start where given."""
    return incident.impact_started_at or began_at(incident)


def impact_ended(incident: Incident) -> datetime | None:
    return incident.impact_ended_at or incident.resolved_at


def default_detected_at(incidents: Iterable[Incident]) -> datetime | None:
    """Detection is when the team opened the first incident. A maintenance is opened by the calendar,
    not by anyone noticing a problem, so it gives no detection time of its own."""
    starts = [began_at(i) for i in incidents if not i.is_maintenance]
    return min((utc(s) for s in starts if s), default=None)


def default_acknowledged_at(incidents: Iterable[Incident]) -> datetime | None:
    """The first incident's first update after the one that opened it, not counting its resolution;
    or the opening itself when the incident opened already past investigating."""
    regular = sorted((i for i in incidents if not i.is_maintenance), key=lambda i: utc(began_at(i)))
    if not regular:
        return None
    updates = sorted(regular[0].updates.all(), key=lambda u: (utc(u.display_at), u.pk))
    if not updates:
        return None
    opening, later = updates[0], updates[1:]
    if opening.status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING):
        return utc(opening.display_at)
    for update in later:
        if update.status != IncidentStatus.RESOLVED:
            return utc(update.display_at)
    return None


def _component_label(component: Component) -> str:
    return f"{component.group.name} / {component.name}" if component.group_id else component.name


def incidents_of(postmortem: Postmortem) -> list[Incident]:
    """The incidents it covers, first begun first, with what the figures and the page need prefetched."""
    incidents = postmortem.incidents.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("display_at", "id")),
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")),
    )
    return sorted(incidents, key=lambda i: (utc(began_at(i)) or i.created_at, i.pk))


def compute(postmortem: Postmortem, incidents: list[Incident] | None = None) -> Figures:
    """The figures of a postmortem. `incidents` may be given with their updates and affected components
    prefetched (see services.incidents_of); otherwise they are read here."""
    if incidents is None:
        incidents = incidents_of(postmortem)
    figures = Figures(first_signal_at=utc(postmortem.first_signal_at))
    if not incidents:
        return figures
    starts = [utc(impact_began(i)) for i in incidents if impact_began(i)]
    figures.started_at = min(starts) if starts else None
    if all(i.resolved_at for i in incidents):
        figures.ended_at = max(utc(impact_ended(i)) for i in incidents)
    if figures.first_signal_at is None:
        figures.first_signal_at = min((utc(i.impact_started_at) for i in incidents if i.impact_started_at),
                                      default=None)
    figures.detected_at = utc(postmortem.detected_at) or default_detected_at(incidents)
    figures.acknowledged_at = utc(postmortem.acknowledged_at) or default_acknowledged_at(incidents)
    # A bound known by its date alone gives no duration worth stating.
    precise = all(i.impact_known for i in incidents)
    figures.total_duration = span(figures.started_at, figures.ended_at) if precise else None
    figures.time_to_detect = span(figures.first_signal_at, figures.detected_at)
    figures.time_to_acknowledge = span(figures.detected_at, figures.acknowledged_at)
    figures.time_to_resolve = span(figures.detected_at, figures.ended_at) if precise else None

    seen: dict[int, Component] = {}
    for incident in incidents:
        for link in incident.affected.all():
            if link.component.is_visible:
                seen.setdefault(link.component.pk, link.component)
    ordered = in_page_order(seen.values())
    figures.components = [_component_label(c) for c in ordered]
    figures.groups = list(dict.fromkeys(c.group.name for c in ordered if c.group_id))
    figures.affected = affected_text(ordered)
    return figures
