"""What the console and the management API show of a monitor: its state as a reader sees it (paused
counts as a state), its last check, its last failure or warning, and on its own page each location's
runs, its state changes and its latest raw results."""

from dataclasses import dataclass, field
from datetime import datetime

from .models import CheckResult, LocationState, Monitor, MonitorComponent, State, StateChange

STATE_CHANGES_SHOWN = 50
RESULTS_SHOWN = 40


@dataclass
class Problem:
    at: datetime | None
    reason: str
    location: str = ""


@dataclass
class Summary:
    monitor: Monitor
    state: str  # up, degraded, down, unknown, paused
    since: datetime | None
    last_check: CheckResult | None
    last_problem: Problem | None
    links: list[MonitorComponent] = field(default_factory=list)


@dataclass
class Detail(Summary):
    locations: list[LocationState] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)  # newest first
    results: list[CheckResult] = field(default_factory=list)  # newest first


def state_of(monitor: Monitor) -> str:
    return "paused" if monitor.paused else monitor.state


def summaries(monitors: list[Monitor]) -> list[Summary]:
    """Each monitor's summary: a few queries for the list, and one per monitor for its last check."""
    ids = [m.pk for m in monitors]
    links: dict[int, list[MonitorComponent]] = {pk: [] for pk in ids}
    for link in (MonitorComponent.objects.filter(monitor_id__in=ids).select_related("component", "component__group")
                 .order_by("component__name", "id")):
        links[link.monitor_id].append(link)
    current: dict[int, Problem] = {}  # a failure or warning at a location now: the latest
    for state in LocationState.objects.filter(monitor_id__in=ids).exclude(last_reason="").order_by("last_at"):
        current[state.monitor_id] = Problem(state.last_at, state.last_reason, state.location)
    past: dict[int, Problem] = {}  # else the reason of its latest change to down or degraded
    for change in StateChange.objects.filter(monitor_id__in=ids, to_state__in=[State.DOWN, State.DEGRADED]) \
            .order_by("at", "id"):
        past[change.monitor_id] = Problem(change.at, change.reason)
    found = []
    for monitor in monitors:
        last = CheckResult.objects.filter(monitor=monitor).order_by("-at", "-id").first()
        found.append(Summary(monitor, state_of(monitor), monitor.state_changed_at, last,
                             current.get(monitor.pk) or past.get(monitor.pk), links[monitor.pk]))
    return found


def detail(monitor: Monitor) -> Detail:
    summary = summaries([monitor])[0]
    return Detail(**vars(summary),
                  locations=list(LocationState.objects.filter(monitor=monitor).order_by("location")),
                  state_changes=list(StateChange.objects.filter(monitor=monitor)
                                     .order_by("-at", "-id")[:STATE_CHANGES_SHOWN]),
                  results=list(CheckResult.objects.filter(monitor=monitor).order_by("-at", "-id")[:RESULTS_SHOWN]))


def find(public_id: str) -> Monitor | None:
    return Monitor.objects.filter(public_id=public_id).first()
