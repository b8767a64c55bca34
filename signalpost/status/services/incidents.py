"""Incidents: opening, updating, resolving, reopening, editing, and recording one after the fact."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .. import reminders as reminder_offsets
from ..changes import ComponentWatch, record_incident
from ..models import (
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Kind,
)
from ..validation import (
    choice,
    component_statuses,
    impact_window,
    incident_impact,
    moment,
    required_text,
    text,
)
from .common import (
    INCIDENT_FIELDS,
    ComponentStatuses,
    after_same_day,
    apply_components,
    components_audit,
    page_time_zone,
    touch_page,
)

# "Leave as it is", for the fields a caller may also set to None (clearing them).
UNSET = object()


def open_incident(
    *,
    name: str,
    status: str = IncidentStatus.INVESTIGATING,
    impact: str = Impact.MINOR,
    body: str = "",
    components: ComponentStatuses | None = None,
    display_at: datetime | date | None = None,
    deliver_notifications: bool = True,
    impact_started_at: datetime | None = None,
    impact_ended_at: datetime | None = None,
    now: datetime | None = None,
) -> Incident:
    """Open an incident. `display_at` may be a date alone when the time it began is unknown."""
    now = now or timezone.now()
    name = required_text("name", name, 300)
    choice("status", status, IncidentStatus)
    if status == IncidentStatus.RESOLVED:
        raise InvalidInput("status", "a new incident cannot start resolved; use backfill for a past incident")
    incident_impact(impact)
    statuses = component_statuses("components", components)
    text("body", body)
    display_at, display_on = moment("display_at", display_at, now, page_time_zone())
    display_at = display_at or now
    impact_window(impact_started_at, impact_ended_at, now)
    with transaction.atomic():
        watch = ComponentWatch(statuses, now)
        incident = Incident.objects.create(
            kind=Kind.INCIDENT, name=name, status=status, impact=impact, started_at=display_at,
            started_on=display_on, impact_started_at=impact_started_at, impact_ended_at=impact_ended_at,
            monitoring_at=display_at if status == IncidentStatus.MONITORING else None,
            created_at=now, updated_at=now,
        )
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, display_at=display_at, display_on=display_on,
            created_at=now, updated_at=now, deliver_notifications=deliver_notifications,
        )
        apply_components(incident, update, statuses)
        audit.record("incident.open", incident, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "body": body, "components": components_audit(statuses),
            "notify": deliver_notifications,
        })
        record_incident("incident.opened", incident, update=update, components=watch.changes(statuses),
                        notify=deliver_notifications)
        touch_page(now)
    return incident


def post_update(
    incident: Incident,
    *,
    status: str,
    body: str = "",
    components: ComponentStatuses | None = None,
    impact: str | None = None,
    display_at: datetime | date | None = None,
    reopen: bool = False,
    deliver_notifications: bool = True,
    now: datetime | None = None,
) -> IncidentUpdate:
    """Post an update to an incident. Resolving it returns its components to operational unless told
    otherwise; a resolved incident takes a new update only when explicitly reopened. `display_at` may be
    a date alone: the update is then shown on that day, after the updates already shown on it."""
    if incident.is_maintenance:
        from .maintenance import post_maintenance_update

        return post_maintenance_update(incident, status=status, body=body, components=components,
                                       display_at=display_at, deliver_notifications=deliver_notifications, now=now)
    now = now or timezone.now()
    choice("status", status, IncidentStatus)
    statuses = component_statuses("components", components)
    if impact is not None:
        incident_impact(impact)
    text("body", body)
    zone = page_time_zone()
    display_at, display_on = moment("display_at", display_at, now, zone)
    display_at = display_at or now
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        latest = incident.updates.order_by("-display_at").values_list("display_at", flat=True).first()
        display_at = after_same_day(display_at, display_on, latest or incident.started_at, zone)
        before = audit.snapshot(incident, INCIDENT_FIELDS)
        status_before, impact_before = incident.status, incident.impact
        reopening = incident.status == IncidentStatus.RESOLVED
        if incident.status == IncidentStatus.RESOLVED:
            if not reopen:
                raise InvalidInput("status", "the incident is resolved; reopen it to post a new update")
            if status == IncidentStatus.RESOLVED:
                raise InvalidInput("status", "reopening an incident needs a status other than resolved")
            # Shown before the resolution, the reopening would sort under it and its statuses would vanish.
            if incident.resolved_at is not None and display_at < incident.resolved_at:
                raise InvalidInput("display_at", "is before the incident was resolved; a reopening comes after it")
        if display_at < incident.started_at:
            raise InvalidInput("display_at", "is before the incident started")
        if status == IncidentStatus.RESOLVED:
            if latest and display_at < latest:
                raise InvalidInput("display_at", "is before the latest update; a resolution comes last")
            open_links = IncidentComponent.objects.filter(incident=incident).exclude(
                component__in=list(statuses)
            ).select_related("component__group")
            for link in open_links:
                statuses[link.component] = ComponentStatus.OPERATIONAL
        watch = ComponentWatch(statuses, now)
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, display_at=display_at, display_on=display_on,
            created_at=now, updated_at=now, deliver_notifications=deliver_notifications,
        )
        apply_components(incident, update, statuses)
        # The status is the latest update's as shown: one dated before others takes its place in the list.
        incident.status = incident.updates.order_by("-display_at", "-id").values_list("status", flat=True).first()
        if impact is not None:
            incident.impact = impact
        if status == IncidentStatus.MONITORING and (incident.monitoring_at is None or display_at < incident.monitoring_at):
            incident.monitoring_at = display_at
        if status == IncidentStatus.RESOLVED:
            incident.resolved_at, incident.resolved_on = display_at, display_on
        elif incident.resolved_at is not None:  # reopened
            incident.resolved_at, incident.resolved_on = None, None
        incident.updated_at = now
        incident.save()
        action = ("incident.reopen" if reopening else
                  "incident.resolve" if status == IncidentStatus.RESOLVED else "incident.update")
        audit.record(action, incident, before=before, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "update": update.public_id, "body": body,
            "components": components_audit(statuses), "notify": deliver_notifications,
        })
        kind = ("incident.reopened" if reopening else
                "incident.resolved" if status == IncidentStatus.RESOLVED else "incident.updated")
        record_incident(kind, incident, update=update, status_before=status_before, impact_before=impact_before,
                        components=watch.changes(statuses), notify=deliver_notifications)
        touch_page(now)
    return update


def resolve_incident(incident: Incident, *, body: str = "This incident has been resolved.", **kwargs) -> IncidentUpdate:
    return post_update(incident, status=IncidentStatus.RESOLVED, body=body, **kwargs)


def edit_incident(incident: Incident, *, name: str | None = None, impact: str | None = None,
                  impact_started_at=UNSET, impact_ended_at=UNSET, reminders=UNSET,
                  now: datetime | None = None) -> Incident:
    """Correct an incident's (or maintenance's) title, impact or impact window (None clears a bound), or
    a maintenance's reminders (None: the page's; an empty list: none): no update is posted, nobody is
    told. A reminder already sent is not sent again (its event's key is taken)."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        fields = INCIDENT_FIELDS + ("reminders",) if incident.is_maintenance else INCIDENT_FIELDS
        before = audit.snapshot(incident, fields)
        status_before, impact_before = incident.status, incident.impact
        if name is not None:
            incident.name = required_text("name", name, 300)
        if impact is not None:
            if incident.is_maintenance:
                choice("impact", impact, Impact)
            else:
                incident_impact(impact)
            incident.impact = impact
        if impact_started_at is not UNSET:
            incident.impact_started_at = impact_started_at
        if impact_ended_at is not UNSET:
            incident.impact_ended_at = impact_ended_at
        if impact_started_at is not UNSET or impact_ended_at is not UNSET:
            impact_window(incident.impact_started_at, incident.impact_ended_at, now)
        if reminders is not UNSET:
            if not incident.is_maintenance:
                raise InvalidInput("reminders", "are for maintenance; an incident has none")
            offsets = reminder_offsets.parse("reminders", reminders)
            if offsets != incident.reminders:
                incident.reminders, incident.reminders_changed_at = offsets, now
        incident.updated_at = now
        incident.save()
        audit.record(f"{incident.kind}.edit", incident, before=before, after=audit.snapshot(incident, fields))
        record_incident(f"{incident.kind}.edited", incident, status_before=status_before,
                        impact_before=impact_before, occurred_at=now,
                        extra={"name_before": before["name"]})
        touch_page(now)
    return incident


def edit_update(update: IncidentUpdate, *, body: str, now: datetime | None = None) -> IncidentUpdate:
    """Correct the text of a posted update. The edit is recorded (edited_at, and the audit entry keeps
    the old text); the public page says the update was edited. Nobody is told again."""
    now = now or timezone.now()
    with transaction.atomic():
        update = IncidentUpdate.objects.select_for_update().select_related("incident").get(pk=update.pk)
        if body == update.body:
            return update
        before = {"body": update.body}
        update.body = body
        update.edited_at = now
        update.updated_at = now
        update.save(update_fields=["body", "edited_at", "updated_at"])
        audit.record("update.edit", update, object_repr=f"update of {update.incident.name}"[:300],
                     before=before, after={"body": body})
        incident = update.incident
        record_incident(f"{incident.kind}.update_edited", incident, update=update, status_before=incident.status,
                        impact_before=incident.impact, occurred_at=now)
        touch_page(now)
    return update


def backfill_incident(
    *,
    name: str,
    started_at: datetime | date,
    resolved_at: datetime | date,
    impact: str = Impact.MINOR,
    status: str = IncidentStatus.INVESTIGATING,
    body: str = "",
    resolution_body: str = "This incident has been resolved.",
    components: ComponentStatuses | None = None,
    updates: Iterable[Mapping] = (),
    impact_started_at: datetime | None = None,
    impact_ended_at: datetime | None = None,
    now: datetime | None = None,
) -> Incident:
    """Record an incident after the fact: it started and ended in the past, is marked retroactive and
    never notifies. It holds exactly the updates given: an opening one at started_at (`status`, `body`),
    the `updates` between ({display_at, status, body, components}), and the resolution. Without a body
    there is no opening update, unless `components` (the statuses from started_at) need one to carry
    them: an update given at started_at carries them instead. Any of these times may be a date alone,
    when only the date is known."""
    now = now or timezone.now()
    name = required_text("name", name, 300)
    incident_impact(impact)
    choice("status", status, IncidentStatus)
    if status == IncidentStatus.RESOLVED:
        raise InvalidInput("status", "is the opening update's; the resolution comes last (resolution_body)")
    zone = page_time_zone()
    started_at, started_on = moment("started_at", started_at, now, zone)
    resolved_at, resolved_on = moment("resolved_at", resolved_at, now, zone)
    impact_window(impact_started_at, impact_ended_at, now)
    if started_at is None:
        raise InvalidInput("started_at", "is required for a past incident")
    if resolved_at is None:
        raise InvalidInput("resolved_at", "is required for a past incident")
    statuses = component_statuses("components", components)
    given = []
    for n, item in enumerate(updates):
        at, on = moment(f"updates[{n}].display_at", item.get("display_at"), now, zone)
        if at is None:
            raise InvalidInput(f"updates[{n}].display_at", "must lie between started_at and resolved_at")
        given.append((n, item, after_same_day(at, on, started_at, zone), on))
    # A resolution known by its date comes after the updates of that day.
    resolved_at = after_same_day(resolved_at, resolved_on,
                                 max([started_at] + [at for _, _, at, _ in given]), zone)
    if resolved_at < started_at:
        raise InvalidInput("resolved_at", "is before started_at")
    extra = []
    for n, item, at, on in given:
        if not (started_at <= at <= resolved_at):
            raise InvalidInput(f"updates[{n}].display_at", "must lie between started_at and resolved_at")
        st = choice(f"updates[{n}].status", item.get("status", IncidentStatus.IDENTIFIED), IncidentStatus)
        if st == IncidentStatus.RESOLVED:
            raise InvalidInput(f"updates[{n}].status", "the last update resolves it; use resolution_body")
        extra.append((at, st, item.get("body", ""),
                      component_statuses(f"updates[{n}].components", item.get("components")), on))
    extra.sort(key=lambda u: u[0])
    opening = bool(body.strip())
    if statuses and not opening:
        if extra and extra[0][0] == started_at:
            at, st, text, comp, on = extra[0]
            extra[0] = (at, st, text, {**statuses, **comp}, on)
        else:
            opening = True  # the statuses from started_at need an update at started_at
    with transaction.atomic():
        touched = dict(statuses)
        for _, _, _, comp, _ in extra:
            touched.update(comp)
        watch = ComponentWatch(touched, now)
        incident = Incident.objects.create(
            kind=Kind.INCIDENT, name=name, status=IncidentStatus.RESOLVED, impact=impact, retroactive=True,
            started_at=started_at, resolved_at=resolved_at, started_on=started_on, resolved_on=resolved_on,
            impact_started_at=impact_started_at, impact_ended_at=impact_ended_at, created_at=now, updated_at=now,
            monitoring_at=started_at if opening and status == IncidentStatus.MONITORING else None,
        )
        if opening:
            first = IncidentUpdate.objects.create(
                incident=incident, status=status, body=body, display_at=started_at,
                display_on=started_on, created_at=now, updated_at=now, deliver_notifications=False,
            )
            apply_components(incident, first, statuses)
        for at, st, text, comp, on in extra:
            update = IncidentUpdate.objects.create(
                incident=incident, status=st, body=text, display_at=at, display_on=on, created_at=now,
                updated_at=now, deliver_notifications=False,
            )
            apply_components(incident, update, comp)
            if st == IncidentStatus.MONITORING and incident.monitoring_at is None:
                incident.monitoring_at = at
        last = IncidentUpdate.objects.create(
            incident=incident, status=IncidentStatus.RESOLVED, body=resolution_body, display_at=resolved_at,
            display_on=resolved_on, created_at=now, updated_at=now, deliver_notifications=False,
        )
        restore = {link.component: ComponentStatus.OPERATIONAL
                   for link in IncidentComponent.objects.filter(incident=incident).select_related("component")}
        apply_components(incident, last, restore)
        incident.save()
        audit.record("incident.backfill", incident, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "body": body, "resolution_body": resolution_body,
            "components": components_audit(statuses), "updates": len(extra),
        })
        record_incident("incident.backfilled", incident, update=last, components=watch.changes(statuses),
                        occurred_at=started_at)
        touch_page(now)
    return incident
