"""The automatic incident of a monitor (`incident_mode`): when the monitor goes down, an incident from its
templates, affecting its linked components with each link's down status; when it comes back up, a
resolving update. A consumer of `monitor.state_changed` (the job "monitor_incidents").

- `publish`: the incident is opened at once, through the status core's verbs, as a responder's would be.
- `draft`: the status core has no unpublished incidents, so the draft is kept here, with its texts and
  components, until a responder publishes it (`signalpost monitors publish NAME`); the incident then
  opens as if at the moment the monitor went down. A monitor that recovers first drops its draft.
- A monitor going down again while its incident is open (or its draft waits) opens nothing more; an
  incident a responder resolved by hand is left as it is, and the next going down opens a new one.
- The event handled twice opens nothing twice: the draft or incident is keyed by the event.

Time to detect: the incident's impact starts at the first failed check of the run that made the monitor
down (`impact_started_at`) and the incident at the state change (`started_at`); the postmortem figures
read those two as the first signal and the detection.
"""

import logging
import re
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.events.consumers import Consumer
from signalpost.events.work import Work
from signalpost.presentation.zone import page_zone
from signalpost.status import services as status_services
from signalpost.status.layout import in_page_order
from signalpost.status.models import SEVERITY, Component, ComponentStatus, Impact, Incident, IncidentStatus

from .models import AutoIncident, AutoIncidentState, IncidentMode, Monitor, State

log = logging.getLogger("signalpost.monitors")

CONSUMER = Consumer(name="monitor_incidents", handler="signalpost.monitors.incidents.handle",
                    kinds=("monitor.state_changed",))

PLACEHOLDERS = ("monitor", "reason", "components", "since")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# The incident's impact from the worst status it gives a component.
IMPACT = {
    ComponentStatus.MAJOR_OUTAGE: Impact.MAJOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MINOR,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.UNDER_MAINTENANCE: Impact.MINOR,
}


def template_problem(text: str) -> str | None:
    """Why a template cannot be used (an unknown placeholder), or None."""
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            return f"{{{name}}} is not a placeholder; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
    return None


def render(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders replaced by plain text: no attribute lookups, no format
    specifications, nothing evaluated (str.format would reach into objects). An unknown one stays as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _when(at: datetime) -> str:
    local = at.astimezone(page_zone())
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def _components_text(components: list[Component]) -> str:
    return ", ".join(f"{c.group.name} / {c.name}" if c.group_id else c.name for c in components) or "our service"


def _reason(data: dict) -> str:
    """The reason without the monitor's own name in front ("monitor 'API' down: HTTP 503 ..." → "HTTP 503 ...")."""
    reason = data.get("reason") or ""
    return reason.split(": ", 1)[1] if reason.startswith("monitor '") and ": " in reason else reason or "it failed"


def handle(work: Work) -> None:
    event, data = work.event, work.event.data or {}
    before, after = (data.get("state") or [None, None])[:2]
    monitor = Monitor.objects.filter(public_id=data.get("monitor")).first()
    if monitor is None:
        return  # removed since
    with audit.acting(audit.SYSTEM), transaction.atomic():
        if after == State.DOWN:
            _went_down(monitor, event, data)
        elif after == State.UP and before in (State.DOWN, State.DEGRADED):
            _came_back(monitor, event, data)


def _open(monitor: Monitor) -> AutoIncident | None:
    """The monitor's draft or open incident, if any (one resolved by hand meanwhile is marked so)."""
    current = (AutoIncident.objects.select_for_update(of=("self",))
               .filter(monitor=monitor, state__in=[AutoIncidentState.DRAFT, AutoIncidentState.OPEN])
               .select_related("incident").first())
    if current is not None and current.state == AutoIncidentState.OPEN and (
            current.incident is None or not current.incident.is_open):
        current.state, current.updated_at = AutoIncidentState.RESOLVED, timezone.now()
        current.save(update_fields=["state", "updated_at"])
        return None
    return current


def _went_down(monitor: Monitor, event, data: dict) -> None:
    if monitor.incident_mode == IncidentMode.OFF:
        return
    if AutoIncident.objects.filter(down_event=event.pk).exists() or _open(monitor) is not None:
        return  # handled already, or its incident is still open
    statuses = data.get("components") or {}
    components = in_page_order(Component.objects.filter(public_id__in=statuses).select_related("group"))
    values = {"monitor": monitor.name, "reason": _reason(data), "components": _components_text(components),
              "since": _when(event.occurred_at)}
    first = parse_datetime(data["first_failure_at"]) if data.get("first_failure_at") else None
    draft = AutoIncident.objects.create(
        monitor=monitor, down_event=event.pk, state=AutoIncidentState.DRAFT,
        title=render(monitor.incident_title, values)[:300] or f"{monitor.name} is down",
        body=render(monitor.incident_body, values),
        components={c.public_id: statuses[c.public_id] for c in components}, notify=monitor.incident_notify,
        down_at=event.occurred_at, first_failure_at=first)
    if monitor.incident_mode == IncidentMode.PUBLISH:
        _publish(draft)
        log.info("monitor %s down: incident %s opened", monitor.name, draft.incident.public_id)
    else:
        log.info("monitor %s down: incident drafted, to be published by a responder", monitor.name)


def _publish(draft: AutoIncident, now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    components = Component.objects.in_bulk(list(draft.components), field_name="public_id")
    statuses = {components[pid]: status for pid, status in draft.components.items() if pid in components}
    worst = max(statuses.values(), key=lambda s: SEVERITY[s], default=None)
    impact = IMPACT.get(worst, Impact.MINOR)
    first = draft.first_failure_at if draft.first_failure_at and draft.first_failure_at <= draft.down_at else None
    incident = status_services.open_incident(
        name=draft.title, status=IncidentStatus.INVESTIGATING, impact=impact, body=draft.body,
        components=statuses, display_at=draft.down_at, impact_started_at=first,
        deliver_notifications=draft.notify, now=now)
    draft.incident, draft.state, draft.updated_at = incident, AutoIncidentState.OPEN, now
    draft.save(update_fields=["incident", "state", "updated_at"])
    return incident


def _came_back(monitor: Monitor, event, data: dict) -> None:
    current = _open(monitor)
    if current is None or current.down_at > event.occurred_at:
        return
    now = timezone.now()
    if current.state == AutoIncidentState.DRAFT:
        current.state, current.up_event, current.updated_at = AutoIncidentState.DROPPED, event.pk, now
        current.save(update_fields=["state", "up_event", "updated_at"])
        log.info("monitor %s up: its unpublished draft incident is dropped", monitor.name)
        return
    components = in_page_order(Component.objects.filter(public_id__in=current.components).select_related("group"))
    values = {"monitor": monitor.name, "reason": _reason(data), "components": _components_text(components),
              "since": _when(current.down_at)}
    # After every update shown: a responder's note posted since comes before the resolution.
    latest = current.incident.updates.aggregate(at=Max("display_at"))["at"] or current.incident.started_at
    status_services.resolve_incident(current.incident, body=render(monitor.incident_resolution, values),
                                     display_at=max(event.occurred_at, latest),
                                     deliver_notifications=current.notify, now=now)
    current.state, current.up_event, current.updated_at = AutoIncidentState.RESOLVED, event.pk, now
    current.save(update_fields=["state", "up_event", "updated_at"])
    log.info("monitor %s up: incident %s resolved", monitor.name, current.incident.public_id)


def drafts() -> list[AutoIncident]:
    return list(AutoIncident.objects.filter(state=AutoIncidentState.DRAFT).select_related("monitor")
                .order_by("down_at"))


def draft_of(monitor: Monitor) -> AutoIncident | None:
    """The monitor's draft incident waiting to be published, if any."""
    return AutoIncident.objects.filter(monitor=monitor, state=AutoIncidentState.DRAFT).first()


def publish_draft(monitor_name: str, now: datetime | None = None) -> Incident:
    """Publish the monitor's waiting draft: the incident opens as of the moment the monitor went down."""
    with transaction.atomic():
        monitor = Monitor.objects.filter(name=monitor_name).first()
        if monitor is None:
            raise InvalidInput("monitor", f"no monitor named '{monitor_name}'")
        draft = (AutoIncident.objects.select_for_update()
                 .filter(monitor=monitor, state=AutoIncidentState.DRAFT).first())
        if draft is None:
            raise InvalidInput("monitor", f"monitor '{monitor_name}' has no draft incident waiting")
        return _publish(draft, now)
