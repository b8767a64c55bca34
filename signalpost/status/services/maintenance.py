"""Scheduled maintenance: announcing a window, its updates (an overrun extends it), and starting and
completing it, by hand or on time by the worker."""

import logging
from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .. import reminders as reminder_offsets
from ..changes import ComponentWatch, entered_in_the_past, record_incident
from ..models import (
    Component,
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    MAINTENANCE_FINISHED,
)
from ..validation import aware, choice, component_statuses, impact_window, moment, not_future, required_text, text
from .common import (
    MAINTENANCE_FIELDS,
    ComponentStatuses,
    after_same_day,
    apply_components,
    components_audit,
    page_time_zone,
    touch_page,
)

log = logging.getLogger("signalpost.status")

DEFAULT_BODIES = {
    MaintenanceStatus.SCHEDULED: "",
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    MaintenanceStatus.VERIFYING: "Verification is currently underway for the maintenance items.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
    MaintenanceStatus.CANCELLED: "The scheduled maintenance has been cancelled.",
}
ACTIVE = [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
OVERRUN_BODY = "The maintenance is taking longer than anticipated."


def schedule_maintenance(
    *,
    name: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    body: str = "",
    components: Iterable[Component] = (),
    impact: str = Impact.MAINTENANCE,
    auto_start: bool = True,
    auto_complete: bool = True,
    deliver_notifications: bool = True,
    display_at: datetime | None = None,
    impact_started_at: datetime | None = None,
    impact_ended_at: datetime | None = None,
    reminders: Iterable[str] | str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Announce a maintenance window. `display_at` dates the announcement, for one entered after the
    fact (it was announced weeks before, elsewhere). A window that has already ended when it is entered
    is a record: it starts and completes at its own times and tells nobody. The announcement comes
    before its window: one entered after the window began is shown at the window's start unless
    `display_at` says when it was announced (so it never sorts above the start and completion).
    `reminders` ("24h", "30m"...): the window's own reminders before it starts; None for the page's,
    an empty list for none."""
    now = now or timezone.now()
    name = required_text("name", name, 300)
    offsets = reminder_offsets.parse("reminders", reminders)
    choice("impact", impact, Impact)
    text("body", body)
    display_at = not_future("display_at", display_at, now)
    scheduled_for = aware("scheduled_for", scheduled_for)
    scheduled_until = aware("scheduled_until", scheduled_until)
    if scheduled_for is None:
        raise InvalidInput("scheduled_for", "is required")
    if scheduled_until is None:
        raise InvalidInput("scheduled_until", "is required")
    if scheduled_until <= scheduled_for:
        raise InvalidInput("scheduled_until", "must be after scheduled_for (the window ends before it starts)")
    if display_at is not None and display_at > scheduled_for:
        raise InvalidInput("display_at", "is after the window starts; an announcement comes before its window "
                                         "(leave it out to show it at the window's start)")
    display_at = display_at or min(now, scheduled_for)
    impact_window(impact_started_at, impact_ended_at, now)
    components = list(components)
    for component in components:
        if not isinstance(component, Component):
            raise InvalidInput("components", f'unknown component "{component}"')
    with transaction.atomic():
        maintenance = Incident.objects.create(
            kind=Kind.MAINTENANCE, name=name, status=MaintenanceStatus.SCHEDULED, impact=impact,
            scheduled_for=scheduled_for, scheduled_until=scheduled_until, auto_start=auto_start,
            auto_complete=auto_complete, impact_started_at=impact_started_at, impact_ended_at=impact_ended_at,
            reminders=offsets, created_at=now, updated_at=now,
        )
        notify = deliver_notifications and not entered_in_the_past(maintenance)
        IncidentComponent.objects.bulk_create(
            IncidentComponent(incident=maintenance, component=c, status=ComponentStatus.OPERATIONAL)
            for c in components
        )
        update = IncidentUpdate.objects.create(
            incident=maintenance, status=MaintenanceStatus.SCHEDULED, body=body, display_at=display_at, created_at=now,
            updated_at=now, deliver_notifications=notify, scheduled_until=scheduled_until,
        )
        audit.record("maintenance.schedule", maintenance, after={
            **audit.snapshot(maintenance, MAINTENANCE_FIELDS), "body": body,
            "components": [str(c) for c in components], "notify": notify,
        })
        record_incident("maintenance.scheduled", maintenance, update=update, notify=notify,
                        components={c.public_id: {"name": c.name, "group": c.group.public_id if c.group_id else None,
                                                  "before": None, "after": None, "given": None}
                                    for c in components})
        touch_page(now)
    return maintenance


def _event_kind(status_before: str, status: str, until_before: datetime | None,
                until_after: datetime | None, overrun: bool = False) -> str:
    if status != status_before and status == MaintenanceStatus.IN_PROGRESS and status_before == MaintenanceStatus.SCHEDULED:
        return "maintenance.started"
    if status != status_before and status == MaintenanceStatus.COMPLETED:
        return "maintenance.completed"
    if status == MaintenanceStatus.CANCELLED:
        return "maintenance.cancelled"
    if overrun or (until_before is not None and until_after is not None and until_after > until_before):
        return "maintenance.overran"
    return "maintenance.updated"


def _transition(maintenance: Incident, status: str, body: str, now: datetime, display_at: datetime,
                deliver_notifications: bool, components: dict[Component, str],
                scheduled_until: datetime | None = None, status_before: str | None = None,
                watch: ComponentWatch | None = None, overrun: bool = False,
                display_on: date | None = None) -> IncidentUpdate:
    """Write one update of a maintenance, its status and times, its audit entry and its event. The
    caller holds the row (select_for_update, or the claiming UPDATE of the worker). `display_on`: the
    update is known by its date alone (display_at is that day's first instant in the page's zone), and
    so are the start or end it sets."""
    status_before = status_before or maintenance.status
    before = {**audit.snapshot(maintenance, MAINTENANCE_FIELDS), "status": status_before}
    until_before = maintenance.scheduled_until
    # As Statuspage records it: starting puts every affected component under maintenance, completing
    # returns each to operational (derive ignores these rows; the window itself is the cause).
    window_status = {MaintenanceStatus.IN_PROGRESS: ComponentStatus.UNDER_MAINTENANCE,
                     MaintenanceStatus.COMPLETED: ComponentStatus.OPERATIONAL}.get(status)
    if window_status and status != status_before:
        for link in IncidentComponent.objects.filter(incident=maintenance).select_related("component"):
            components.setdefault(link.component, window_status)
    watch = watch or ComponentWatch(components, now)
    update = IncidentUpdate.objects.create(
        incident=maintenance, status=status, body=body, display_at=display_at, display_on=display_on,
        created_at=now, updated_at=now, deliver_notifications=deliver_notifications, scheduled_until=scheduled_until,
    )
    apply_components(maintenance, update, components)
    maintenance.status = status
    if status in ACTIVE + [MaintenanceStatus.COMPLETED] and maintenance.started_at is None:
        maintenance.started_at, maintenance.started_on = display_at, display_on
    if status == MaintenanceStatus.VERIFYING and maintenance.monitoring_at is None:
        maintenance.monitoring_at = display_at
    if status in (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED):  # cancelled: over, never started
        maintenance.resolved_at, maintenance.resolved_on = display_at, display_on
    if scheduled_until is not None:
        maintenance.scheduled_until = scheduled_until
    elif overrun:
        maintenance.auto_complete = False  # no new end: the window stays open until it is completed
    maintenance.updated_at = now
    maintenance.save()
    action = {MaintenanceStatus.IN_PROGRESS: "maintenance.start", MaintenanceStatus.COMPLETED: "maintenance.complete",
              MaintenanceStatus.CANCELLED: "maintenance.cancel"}
    audit.record(action.get(status, "maintenance.update") if status != status_before else "maintenance.update",
                 maintenance, before=before, after={
                     **audit.snapshot(maintenance, MAINTENANCE_FIELDS), "update": update.public_id, "body": body,
                     "components": components_audit(components), "notify": deliver_notifications,
                 })
    record_incident(_event_kind(status_before, status, until_before, maintenance.scheduled_until, overrun), maintenance,
                    update=update, status_before=status_before, impact_before=maintenance.impact,
                    components=watch.changes(components), notify=deliver_notifications)
    touch_page(now)
    return update


def post_maintenance_update(
    maintenance: Incident,
    *,
    status: str,
    body: str = "",
    components: ComponentStatuses | None = None,
    scheduled_until: datetime | None = None,
    display_at: datetime | date | None = None,
    deliver_notifications: bool = True,
    overrun: bool = False,
    now: datetime | None = None,
) -> IncidentUpdate:
    """An update to a maintenance: a status change, or news such as an overrun ("taking longer than
    anticipated"). An overrun may extend the window with a new scheduled_until; without one, the
    window stays open until it is completed (it no longer completes by itself at its old end).
    `display_at` may be a date alone: the update is then shown on that day, after the updates already
    shown on it."""
    now = now or timezone.now()
    choice("status", status, MaintenanceStatus)
    statuses = component_statuses("components", components)
    text("body", body)
    zone = page_time_zone()
    display_at, display_on = moment("display_at", display_at, now, zone)
    display_at = display_at or now
    scheduled_until = aware("scheduled_until", scheduled_until)
    with transaction.atomic():
        maintenance = Incident.objects.select_for_update().get(pk=maintenance.pk)
        latest = maintenance.updates.order_by("-display_at").values_list("display_at", flat=True).first()
        display_at = after_same_day(display_at, display_on, latest, zone)
        if maintenance.status in MAINTENANCE_FINISHED:
            raise InvalidInput("status", f"the maintenance is {maintenance.status}; it takes no more updates")
        if status == MaintenanceStatus.CANCELLED and maintenance.status != MaintenanceStatus.SCHEDULED:
            raise InvalidInput("status", f"the maintenance is already {maintenance.status.replace('_', ' ')}; "
                                         "one that has started is completed, not cancelled")
        order = list(MaintenanceStatus.values)
        if order.index(status) < order.index(maintenance.status):
            raise InvalidInput("status", f'the maintenance is already {maintenance.status}; it cannot go back to {status}')
        if scheduled_until is not None and scheduled_until <= maintenance.scheduled_for:
            raise InvalidInput("scheduled_until", "must be after scheduled_for (the window ends before it starts)")
        if status != maintenance.status:
            if latest is not None and display_at < latest:
                # Shown under the latest update, the new status would not be the one the list starts with.
                raise InvalidInput("display_at", "is before the latest update; a change of status comes after it")
        if overrun and (status not in ACTIVE or maintenance.status not in ACTIVE):
            raise InvalidInput("overrun", "is for a window that is running (in progress or verifying); "
                                          f"this one is {maintenance.status.replace('_', ' ')}"
                               if maintenance.status not in ACTIVE else
                               f"keeps the window running; it cannot be {status.replace('_', ' ')} too")
        if overrun and not body.strip():
            body = OVERRUN_BODY
        if status == maintenance.status and not body.strip() and scheduled_until is None and not statuses:
            # A second "start" (or any update that says nothing new) is refused, as the console refuses it.
            raise InvalidInput("status", f"the maintenance is already {status.replace('_', ' ')}; an update that "
                                         "keeps its status needs a message, a new end or component statuses")
        return _transition(
            maintenance, status, body or DEFAULT_BODIES.get(status, "") if status != maintenance.status else body,
            now, display_at, deliver_notifications and not entered_in_the_past(maintenance), statuses,
            scheduled_until, overrun=overrun, display_on=display_on,
        )


def start_maintenance(maintenance: Incident, *, body: str = "", now: datetime | None = None) -> IncidentUpdate:
    """Start a scheduled window now (before its time, or one that does not start by itself)."""
    with transaction.atomic():
        current = Incident.objects.select_for_update().get(pk=maintenance.pk)
        if current.status != MaintenanceStatus.SCHEDULED:
            raise InvalidInput("status", f"the maintenance is already {current.status.replace('_', ' ')}; "
                                         "it can start only once")
        return post_maintenance_update(current, status=MaintenanceStatus.IN_PROGRESS,
                                       body=body or DEFAULT_BODIES[MaintenanceStatus.IN_PROGRESS], now=now)


def complete_maintenance(maintenance: Incident, *, body: str = "", now: datetime | None = None) -> IncidentUpdate:
    return post_maintenance_update(maintenance, status=MaintenanceStatus.COMPLETED,
                                   body=body or DEFAULT_BODIES[MaintenanceStatus.COMPLETED], now=now)


def cancel_maintenance(maintenance: Incident, *, body: str = "", deliver_notifications: bool = True,
                       now: datetime | None = None) -> IncidentUpdate:
    """Call off a window that has not started: it stays in the history, marked cancelled, and never
    puts its components under maintenance."""
    return post_maintenance_update(maintenance, status=MaintenanceStatus.CANCELLED,
                                   body=body or DEFAULT_BODIES[MaintenanceStatus.CANCELLED],
                                   deliver_notifications=deliver_notifications, now=now)


def _announced_with_notifications(maintenance: Incident) -> bool:
    """The automatic updates tell subscribers what the announcement told them: whether to expect news."""
    first = maintenance.updates.order_by("created_at", "id").values_list("deliver_notifications", flat=True).first()
    return bool(first) and not entered_in_the_past(maintenance)


def _watch_window(pk: int, now: datetime) -> ComponentWatch:
    """The window's components as they are before its transition (measured before the claim changes it)."""
    return ComponentWatch(Component.objects.filter(pk__in=IncidentComponent.objects.filter(incident_id=pk)
                                                   .values("component_id")), now)


def run_due_transitions(now: datetime | None = None) -> list[IncidentUpdate]:
    """Start and complete maintenance whose time has come, at the times of its window (not when the
    worker happened to look). Safe with several workers: the UPDATE that changes the status is the
    claim, so only one worker makes each transition."""
    now = now or timezone.now()
    done = []
    due_start = Incident.objects.filter(
        kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED, auto_start=True, scheduled_for__lte=now
    ).values_list("pk", "scheduled_for")
    for pk, scheduled_for in due_start:
        with transaction.atomic():
            watch = _watch_window(pk, now)
            claimed = Incident.objects.filter(pk=pk, status=MaintenanceStatus.SCHEDULED, auto_start=True).update(
                status=MaintenanceStatus.IN_PROGRESS, started_at=scheduled_for, updated_at=now)
            if not claimed:
                continue
            maintenance = Incident.objects.get(pk=pk)
            done.append(_transition(
                maintenance, MaintenanceStatus.IN_PROGRESS, DEFAULT_BODIES[MaintenanceStatus.IN_PROGRESS], now,
                scheduled_for, _announced_with_notifications(maintenance), {},
                status_before=MaintenanceStatus.SCHEDULED, watch=watch,
            ))
            log.info("maintenance %s started on time", maintenance.public_id)
    due_end = Incident.objects.filter(
        kind=Kind.MAINTENANCE, status__in=ACTIVE, auto_complete=True, scheduled_until__lte=now,
    ).values_list("pk", "status", "scheduled_until")
    for pk, status, scheduled_until in due_end:
        with transaction.atomic():
            watch = _watch_window(pk, now)
            claimed = Incident.objects.filter(pk=pk, status=status, auto_complete=True,
                                              scheduled_until=scheduled_until).update(
                status=MaintenanceStatus.COMPLETED, resolved_at=scheduled_until, updated_at=now)
            if not claimed:
                continue
            maintenance = Incident.objects.get(pk=pk)
            done.append(_transition(
                maintenance, MaintenanceStatus.COMPLETED, DEFAULT_BODIES[MaintenanceStatus.COMPLETED], now,
                max(scheduled_until, maintenance.started_at or scheduled_until),
                _announced_with_notifications(maintenance), {}, status_before=status, watch=watch,
            ))
            log.info("maintenance %s completed on time", maintenance.public_id)
    return done
