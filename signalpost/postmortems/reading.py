"""A postmortem as a reader meets it, shared by the public page and the Markdown export: its parts in
order, its times in the document's own zone (named once: "All times PST"), its action items grouped
by kind. Built in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from signalpost.presentation.times import local_text, long_date, short_date
from signalpost.presentation.zone import page_zone, zone_named
from signalpost.status.models import Incident

from . import services
from .figures import Figures, compute
from .models import (
    SECTION_TITLES,
    ActionItem,
    ActionItemKind,
    ImpactFigure,
    Postmortem,
    TimelineEntry,
)

UTC = dt_timezone.utc
ITEM_STATE_LABELS = dict(ActionItem.State.choices)


def zone_of(postmortem: Postmortem) -> ZoneInfo:
    return zone_named(postmortem.timeline_zone)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Moment:
    """An instant as the document states it."""

    at: datetime
    iso: str  # for <time datetime>
    clock: str  # "09:17", or "09:17 PDT" when the timeline spans two abbreviations
    text: str  # "Feb 2, 2018 09:17 PST"


@dataclass
class EntryView:
    entry: TimelineEntry
    moment: Moment | None  # None: only the entry's date is known


@dataclass
class TimelineDay:
    day: date
    title: str  # "Friday, February 2, 2018"
    entries: list[EntryView]


@dataclass
class ItemView:
    item: ActionItem
    state_label: str
    due_text: str  # "Mar 31, 2018"


@dataclass
class DocumentView:
    postmortem: Postmortem
    label: str  # "Learning review"
    zone: ZoneInfo
    zone_note: str  # "All times PST"
    incidents: list[Incident]
    figures: Figures
    impact_figures: list[ImpactFigure]
    days: list[TimelineDay]
    action_groups: list[tuple[ActionItemKind, list[ItemView]]]
    moments: dict[str, Moment] = field(default_factory=dict)  # the computed figures' instants, by name
    posted_zone: ZoneInfo | None = None  # the page's: when it was published and revised, like every posted time
    titles: dict[str, str] = field(default_factory=lambda: dict(SECTION_TITLES))

    @property
    def has_figures(self) -> bool:
        f = self.figures
        return any([f.total_duration, f.time_to_detect, f.time_to_acknowledge, f.time_to_resolve, f.affected])


def _zone_note(zone: ZoneInfo, instants: list[datetime]) -> tuple[str, bool]:
    """("All times PST", False), or for a timeline across a daylight-saving change
    ("All times in America/Los_Angeles (PST, PDT)", True): then each time carries its abbreviation."""
    names = list(dict.fromkeys(moment.astimezone(zone).tzname() for moment in sorted(instants)))
    if len(names) <= 1:
        return f"All times {names[0] if names else zone.key}", False
    return f"All times in {zone.key} ({', '.join(names)})", True


def moment(value: datetime, zone: ZoneInfo, with_zone: bool) -> Moment:
    local = value.astimezone(zone)
    clock = f"{local:%H:%M}" + (f" {local.tzname()}" if with_zone else "")
    return Moment(value, iso_utc(value), clock, local_text(value, zone))


def build(postmortem: Postmortem) -> DocumentView:
    zone = zone_of(postmortem)
    incidents = services.incidents_of(postmortem)
    figures = compute(postmortem, incidents)
    entries = list(postmortem.readable_timeline())
    named = {"started_at": figures.started_at, "ended_at": figures.ended_at,
             "first_signal_at": figures.first_signal_at, "detected_at": figures.detected_at,
             "acknowledged_at": figures.acknowledged_at}
    instants = [e.at for e in entries if e.on is None] or [v for v in named.values() if v]
    note, with_zone = _zone_note(zone, instants)

    days: list[TimelineDay] = []
    for entry in entries:
        shown = moment(entry.at, zone, with_zone) if entry.on is None else None
        day = entry.on or entry.at.astimezone(zone).date()
        if not days or days[-1].day != day:
            days.append(TimelineDay(day, long_date(day), []))
        days[-1].entries.append(EntryView(entry, shown))

    groups = [
        (kind, [ItemView(item, ITEM_STATE_LABELS.get(item.state, item.state),
                         short_date(item.due_date) if item.due_date else "") for item in items])
        for kind, items in services.action_items_by_kind(postmortem)
    ]
    posted_zone = page_zone()
    moments = {name: moment(value, zone, True) for name, value in named.items() if value}
    moments.update({name: moment(value, posted_zone, True) for name, value in
                    [("published_at", postmortem.published_at), ("revised_at", postmortem.revised_at)] if value})
    return DocumentView(
        postmortem=postmortem,
        label=postmortem.document_label,
        zone=zone,
        zone_note=note,
        incidents=incidents,
        figures=figures,
        impact_figures=list(postmortem.figures.all()),
        days=days,
        action_groups=groups,
        moments=moments,
        posted_zone=posted_zone,
    )
