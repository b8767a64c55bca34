"""The verbs of the status page. The API, the CLI, the worker and the admin all call these, so each
rule is written once. Every write bumps the page's change sequence and republishes the public pages
once the transaction commits."""

import logging
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from signalpost.accounts import audit

from signalpost.errors import InvalidInput, NotFound
from .models import (
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
    MaintenanceStatus,
    Page,
    PageLogo,
    StatusOverride,
)
from .validation import (
    aware,
    choice,
    component_statuses,
    incident_impact,
    not_future,
    required_text,
    validate_time_zone,
)

log = logging.getLogger("signalpost.status")

ComponentStatuses = Mapping[Component, str]

DEFAULT_BODIES = {
    MaintenanceStatus.SCHEDULED: "",
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    MaintenanceStatus.VERIFYING: "Verification is currently underway for the maintenance items.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
}


PAGE_FIELDS = ("name", "url", "time_zone", "accent_color", "header_color", "custom_css", "footer_links", "logo_type",
               "logo_digest")
GROUP_FIELDS = ("name", "description", "position", "hidden")
COMPONENT_FIELDS = ("name", "group", "description", "position", "hidden", "third_party", "only_show_if_degraded",
                    "start_date")
INCIDENT_FIELDS = ("name", "status", "impact", "started_at", "resolved_at")
MAINTENANCE_FIELDS = ("name", "status", "impact", "scheduled_for", "scheduled_until", "auto_start", "auto_complete")


def _components_audit(statuses: Mapping[Component, str]) -> dict[str, str]:
    return {str(component): status for component, status in statuses.items()}


# --- the page ---------------------------------------------------------------------------------


def get_page() -> Page:
    """The page, created on first use with the installation's defaults (TIME_ZONE, SIGNALPOST_URL)."""
    from django.conf import settings

    page, _ = Page.objects.get_or_create(
        pk=1, defaults={"time_zone": settings.TIME_ZONE, "url": settings.SITE_URL, "name": settings.PAGE_NAME}
    )
    return page


def update_page(
    *,
    name: str | None = None,
    url: str | None = None,
    time_zone: str | None = None,
    accent_color: str | None = None,
    header_color: str | None = None,
    custom_css: str | None = None,
    footer_links: Iterable | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Page:
    """Change the page's settings and branding; a field left None stays as it is. Custom CSS is stored
    sanitized (see branding.py); the logo is kept only if it really is a PNG, JPEG or WebP."""
    from . import branding  # the rules for what branding may contain

    # Everything is checked before anything is written: one bad field saves nothing.
    changes: dict = {}
    if name is not None:
        changes["name"] = required_text("name", name, 200)
    if url is not None:
        url = url.strip()
        if url and not branding.is_web_address(url):
            raise InvalidInput("url", f'"{url}" is not a web address: it must start with https:// or http://')
        changes["url"] = url
    if time_zone is not None:
        changes["time_zone"] = validate_time_zone(time_zone)
    if accent_color is not None:
        changes["accent_color"] = branding.check_accent_color(accent_color)
    if header_color is not None:
        changes["header_color"] = branding.check_header_color(header_color)
    if custom_css is not None:
        changes["custom_css"] = branding.sanitize_css(custom_css).css
    if footer_links is not None:
        changes["footer_links"] = branding.check_footer_links(footer_links)
    if logo is not None and remove_logo:
        raise InvalidInput("logo", "upload a new logo or remove the current one, not both")
    if logo is not None:
        changes["logo_type"] = branding.logo_type(logo)
        changes["logo_digest"] = branding.logo_digest(logo)
    elif remove_logo:
        changes["logo_type"] = changes["logo_digest"] = ""
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=get_page().pk)
        before = audit.snapshot(page, PAGE_FIELDS)
        for field, value in changes.items():
            setattr(page, field, value)
        after = audit.snapshot(page, PAGE_FIELDS)
        if after == before:
            return page
        page.updated_at = timezone.now()
        page.save()
        if logo is not None:
            PageLogo.objects.update_or_create(page=page, defaults={
                "content_type": page.logo_type, "body": logo, "uploaded_at": page.updated_at})
        elif remove_logo:
            PageLogo.objects.filter(page=page).delete()
        audit.record("page.update", page, before=before, after=after)
        _changed(everything=True)
    return page


def _changed(*, incidents: Iterable[Incident] = (), everything: bool = False) -> None:
    """Record that what the page says changed, and republish once the transaction commits."""
    Page.objects.filter(pk=get_page().pk).update(change_seq=F("change_seq") + 1, updated_at=timezone.now())
    incident_ids = [i.pk for i in incidents]

    def publish() -> None:
        from signalpost.public import snapshot  # the public package owns rendering

        try:
            snapshot.publish(incident_ids=incident_ids, everything=everything)
        except Exception:  # a failed render must never undo or block the write itself
            log.exception("publishing the public pages failed; the previous snapshot stays")

    transaction.on_commit(publish)


def page_changed(*, incidents: Iterable[Incident] = (), everything: bool = False) -> None:
    """For another package whose write changes what the public pages say (a postmortem published next
    to its incidents): republish them on commit, exactly as a status write does."""
    _changed(incidents=incidents, everything=everything)


def _incidents_of(components) -> Iterable[Incident]:
    """The incidents and maintenance whose pages name these components."""
    return Incident.objects.filter(affected__component__in=components).distinct()


def find_components(refs: Iterable[str], field: str = "components") -> list[Component]:
    """Components by public id or exact name ("Group/Name" for a grouped one); unknown ones are refused."""
    found = []
    for ref in refs:
        component = Component.objects.filter(public_id=ref).first()
        if component is None:
            by_name = Component.objects.filter(name=ref)
            if "/" in ref and not by_name.exists():
                group_name, _, name = ref.partition("/")
                by_name = Component.objects.filter(group__name=group_name.strip(), name=name.strip())
            if by_name.count() == 1:
                component = by_name.get()
            elif by_name.count() > 1:
                raise InvalidInput(field, f'"{ref}" names several components; use its id or "Group/Name"')
        if component is None:
            raise InvalidInput(field, f'unknown component "{ref}"')
        found.append(component)
    return found


def find_group(ref: str, field: str = "group") -> ComponentGroup:
    """A group by public id or exact name; an unknown one is refused."""
    group = ComponentGroup.objects.filter(public_id=ref).first() or ComponentGroup.objects.filter(name=ref).first()
    if group is None:
        raise InvalidInput(field, f'unknown group "{ref}"')
    return group


def find_incident(public_id: str, kind: str | None = None) -> Incident:
    qs = Incident.objects.all() if kind is None else Incident.objects.filter(kind=kind)
    try:
        return qs.get(public_id=public_id)
    except Incident.DoesNotExist:
        raise NotFound(f'no {kind or "incident"} with id "{public_id}"') from None


# --- components and groups ----------------------------------------------------------------------


def _next_top_level_position() -> int:
    """Groups and ungrouped components share one order on the page: a new one goes last."""
    last_group = ComponentGroup.objects.order_by("-position").values_list("position", flat=True).first() or 0
    last_component = (
        Component.objects.filter(group__isnull=True).order_by("-position").values_list("position", flat=True).first() or 0
    )
    return max(last_group, last_component) + 1


def create_group(*, name: str, description: str = "", position: int | None = None, hidden: bool = False) -> ComponentGroup:
    name = required_text("name", name, 200)
    with transaction.atomic():
        if ComponentGroup.objects.filter(name=name).exists():
            raise InvalidInput("name", f'a group named "{name}" already exists')
        if position is None:
            position = _next_top_level_position()
        group = ComponentGroup.objects.create(name=name, description=description, position=position, hidden=hidden)
        audit.record("group.create", group, after=audit.snapshot(group, GROUP_FIELDS))
        _changed()  # a new group appears on no incident page yet
    return group


def update_group(group: ComponentGroup, **fields) -> ComponentGroup:
    with transaction.atomic():
        before = audit.snapshot(ComponentGroup.objects.get(pk=group.pk), GROUP_FIELDS)
        if "name" in fields:
            name = required_text("name", fields.pop("name"), 200)
            if ComponentGroup.objects.filter(name=name).exclude(pk=group.pk).exists():
                raise InvalidInput("name", f'a group named "{name}" already exists')
            group.name = name
        for key in ("description", "position", "hidden"):
            if key in fields:
                setattr(group, key, fields.pop(key))
        if fields:
            raise InvalidInput(next(iter(fields)), "is not a field of a group")
        after = audit.snapshot(group, GROUP_FIELDS)
        if after == before:
            return group  # nothing changed: nothing to record or republish
        group.updated_at = timezone.now()
        group.save()
        audit.record("group.update", group, before=before, after=after)
        _changed(incidents=_incidents_of(Component.objects.filter(group=group)))
    return group


def create_component(
    *,
    name: str,
    group: ComponentGroup | None = None,
    description: str = "",
    position: int | None = None,
    hidden: bool = False,
    third_party: bool = False,
    only_show_if_degraded: bool = False,
    start_date=None,
) -> Component:
    name = required_text("name", name, 200)
    with transaction.atomic():
        if Component.objects.filter(group=group, name=name).exists():
            raise InvalidInput("name", f'a component named "{name}" already exists{" in " + group.name if group else ""}')
        if position is None and group is None:
            position = _next_top_level_position()
        elif position is None:
            siblings = Component.objects.filter(group=group).order_by("-position")
            position = (siblings.values_list("position", flat=True).first() or 0) + 1
        component = Component.objects.create(
            name=name, group=group, description=description, position=position, hidden=hidden,
            third_party=third_party, only_show_if_degraded=only_show_if_degraded, start_date=start_date,
        )
        audit.record("component.create", component, after=audit.snapshot(component, COMPONENT_FIELDS))
        _changed()
    return component


def update_component(component: Component, **fields) -> Component:
    with transaction.atomic():
        before = audit.snapshot(Component.objects.select_related("group").get(pk=component.pk), COMPONENT_FIELDS)
        group = fields.pop("group", component.group) if "group" in fields else component.group
        name = required_text("name", fields.pop("name"), 200) if "name" in fields else component.name
        if Component.objects.filter(group=group, name=name).exclude(pk=component.pk).exists():
            raise InvalidInput("name", f'a component named "{name}" already exists in that group')
        if group != component.group and "position" not in fields:
            fields["position"] = _next_position_in(group)  # a component moved elsewhere goes last there
        component.group, component.name = group, name
        for key in ("description", "position", "hidden", "third_party", "only_show_if_degraded", "start_date"):
            if key in fields:
                setattr(component, key, fields.pop(key))
        if fields:
            raise InvalidInput(next(iter(fields)), "is not a field of a component")
        after = audit.snapshot(component, COMPONENT_FIELDS)
        if after == before:
            return component  # nothing changed: nothing to record or republish
        component.updated_at = timezone.now()
        component.save()
        audit.record("component.update", component, before=before, after=after)
        _changed(incidents=_incidents_of([component]))
    return component


def _next_position_in(group: ComponentGroup | None) -> int:
    if group is None:
        return _next_top_level_position()
    last = Component.objects.filter(group=group).order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def set_override(component: Component, status: str, reason: str = "", now: datetime | None = None) -> StatusOverride:
    """Force a component's status by hand until cleared; history is kept as rows."""
    choice("status", status, ComponentStatus)
    now = now or timezone.now()
    with transaction.atomic():
        previous = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).first()
        StatusOverride.objects.filter(component=component, cleared_at__isnull=True).update(cleared_at=now)
        override = StatusOverride.objects.create(component=component, status=status, reason=reason, set_at=now)
        audit.record("component.override", component,
                     before={"override": previous.status if previous else None},
                     after={"override": status, "reason": reason}, diff=False)
        Component.objects.filter(pk=component.pk).update(updated_at=now)
        _changed()
    return override


def clear_override(component: Component, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        previous = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).first()
        cleared = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).update(cleared_at=now)
        if cleared:
            audit.record("component.override_clear", component, before={"override": previous.status},
                         after={"override": None})
            Component.objects.filter(pk=component.pk).update(updated_at=now)
            _changed()
    return bool(cleared)


# --- incidents ----------------------------------------------------------------------------------


def _apply_components(incident: Incident, update: IncidentUpdate, statuses: dict[Component, str]) -> None:
    current = {ic.component_id: ic for ic in IncidentComponent.objects.filter(incident=incident)}
    for component, new_status in statuses.items():
        link = current.get(component.pk)
        old_status = link.status if link else ComponentStatus.OPERATIONAL
        if link:
            if link.status != new_status:
                link.status = new_status
                link.save(update_fields=["status"])
        else:
            IncidentComponent.objects.create(incident=incident, component=component, status=new_status)
        AffectedComponent.objects.create(update=update, component=component, old_status=old_status, new_status=new_status)
        Component.objects.filter(pk=component.pk).update(updated_at=update.created_at)


def open_incident(
    *,
    name: str,
    status: str = IncidentStatus.INVESTIGATING,
    impact: str = Impact.MINOR,
    body: str = "",
    components: ComponentStatuses | None = None,
    display_at: datetime | None = None,
    deliver_notifications: bool = True,
    now: datetime | None = None,
) -> Incident:
    now = now or timezone.now()
    name = required_text("name", name, 300)
    choice("status", status, IncidentStatus)
    if status == IncidentStatus.RESOLVED:
        raise InvalidInput("status", "a new incident cannot start resolved; use backfill for a past incident")
    incident_impact(impact)
    statuses = component_statuses("components", components)
    display_at = not_future("display_at", display_at, now) or now
    with transaction.atomic():
        incident = Incident.objects.create(
            kind=Kind.INCIDENT, name=name, status=status, impact=impact, started_at=display_at,
            monitoring_at=display_at if status == IncidentStatus.MONITORING else None,
            created_at=now, updated_at=now,
        )
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, display_at=display_at, created_at=now, updated_at=now,
            deliver_notifications=deliver_notifications,
        )
        _apply_components(incident, update, statuses)
        audit.record("incident.open", incident, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "body": body, "components": _components_audit(statuses),
            "notify": deliver_notifications,
        })
        _changed(incidents=[incident])
    return incident


def post_update(
    incident: Incident,
    *,
    status: str,
    body: str = "",
    components: ComponentStatuses | None = None,
    impact: str | None = None,
    display_at: datetime | None = None,
    reopen: bool = False,
    deliver_notifications: bool = True,
    now: datetime | None = None,
) -> IncidentUpdate:
    """Post an update to an incident. Resolving it returns its components to operational unless told
    otherwise; a resolved incident takes a new update only when explicitly reopened."""
    if incident.is_maintenance:
        return post_maintenance_update(incident, status=status, body=body, components=components,
                                       display_at=display_at, deliver_notifications=deliver_notifications, now=now)
    now = now or timezone.now()
    choice("status", status, IncidentStatus)
    statuses = component_statuses("components", components)
    if impact is not None:
        incident_impact(impact)
    display_at = not_future("display_at", display_at, now) or now
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        before = audit.snapshot(incident, INCIDENT_FIELDS)
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
            latest = incident.updates.order_by("-display_at").values_list("display_at", flat=True).first()
            if latest and display_at < latest:
                raise InvalidInput("display_at", "is before the latest update; a resolution comes last")
            open_links = IncidentComponent.objects.filter(incident=incident).exclude(
                component__in=list(statuses)
            ).select_related("component")
            for link in open_links:
                statuses[link.component] = ComponentStatus.OPERATIONAL
        update = IncidentUpdate.objects.create(
            incident=incident, status=status, body=body, display_at=display_at, created_at=now, updated_at=now,
            deliver_notifications=deliver_notifications,
        )
        _apply_components(incident, update, statuses)
        incident.status = status
        if impact is not None:
            incident.impact = impact
        if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
            incident.monitoring_at = display_at
        if status == IncidentStatus.RESOLVED:
            incident.resolved_at = display_at
        elif incident.resolved_at is not None:  # reopened
            incident.resolved_at = None
        incident.updated_at = now
        incident.save()
        action = ("incident.reopen" if reopening else
                  "incident.resolve" if status == IncidentStatus.RESOLVED else "incident.update")
        audit.record(action, incident, before=before, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "update": update.public_id, "body": body,
            "components": _components_audit(statuses), "notify": deliver_notifications,
        })
        _changed(incidents=[incident])
    return update


def resolve_incident(incident: Incident, *, body: str = "This incident has been resolved.", **kwargs) -> IncidentUpdate:
    return post_update(incident, status=IncidentStatus.RESOLVED, body=body, **kwargs)


def edit_incident(incident: Incident, *, name: str | None = None, impact: str | None = None,
                  now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        before = audit.snapshot(incident, INCIDENT_FIELDS)
        if name is not None:
            incident.name = required_text("name", name, 300)
        if impact is not None:
            if incident.is_maintenance:
                choice("impact", impact, Impact)
            else:
                incident_impact(impact)
            incident.impact = impact
        incident.updated_at = now
        incident.save()
        audit.record(f"{incident.kind}.edit", incident, before=before, after=audit.snapshot(incident, INCIDENT_FIELDS))
        _changed(incidents=[incident])
    return incident


def edit_update(update: IncidentUpdate, *, body: str, now: datetime | None = None) -> IncidentUpdate:
    """Correct the text of a posted update. The edit is recorded (edited_at, and the audit entry keeps
    the old text); the public page says the update was edited."""
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
        _changed(incidents=[update.incident])
    return update


def backfill_incident(
    *,
    name: str,
    started_at: datetime,
    resolved_at: datetime,
    impact: str = Impact.MINOR,
    body: str = "",
    resolution_body: str = "This incident has been resolved.",
    components: ComponentStatuses | None = None,
    updates: Iterable[Mapping] = (),
    now: datetime | None = None,
) -> Incident:
    """Record an incident after the fact: it started and ended in the past, is marked retroactive and
    never notifies. `updates` are extra {display_at, status, body, components} between the two."""
    now = now or timezone.now()
    name = required_text("name", name, 300)
    incident_impact(impact)
    started_at = not_future("started_at", started_at, now)
    resolved_at = not_future("resolved_at", resolved_at, now)
    if started_at is None:
        raise InvalidInput("started_at", "is required for a past incident")
    if resolved_at is None:
        raise InvalidInput("resolved_at", "is required for a past incident")
    if resolved_at < started_at:
        raise InvalidInput("resolved_at", "is before started_at")
    statuses = component_statuses("components", components)
    extra = []
    for n, item in enumerate(updates):
        at = aware(f"updates[{n}].display_at", item.get("display_at"))
        if at is None or not (started_at <= at <= resolved_at):
            raise InvalidInput(f"updates[{n}].display_at", "must lie between started_at and resolved_at")
        st = choice(f"updates[{n}].status", item.get("status", IncidentStatus.IDENTIFIED), IncidentStatus)
        if st == IncidentStatus.RESOLVED:
            raise InvalidInput(f"updates[{n}].status", "the last update resolves it; use resolution_body")
        extra.append((at, st, item.get("body", ""), component_statuses(f"updates[{n}].components", item.get("components"))))
    extra.sort(key=lambda u: u[0])
    with transaction.atomic():
        incident = Incident.objects.create(
            kind=Kind.INCIDENT, name=name, status=IncidentStatus.RESOLVED, impact=impact, retroactive=True,
            started_at=started_at, resolved_at=resolved_at, created_at=now, updated_at=now,
        )
        first = IncidentUpdate.objects.create(
            incident=incident, status=IncidentStatus.INVESTIGATING, body=body, display_at=started_at,
            created_at=now, updated_at=now, deliver_notifications=False,
        )
        _apply_components(incident, first, statuses)
        for at, st, text, comp in extra:
            update = IncidentUpdate.objects.create(
                incident=incident, status=st, body=text, display_at=at, created_at=now, updated_at=now,
                deliver_notifications=False,
            )
            _apply_components(incident, update, comp)
            if st == IncidentStatus.MONITORING and incident.monitoring_at is None:
                incident.monitoring_at = at
        last = IncidentUpdate.objects.create(
            incident=incident, status=IncidentStatus.RESOLVED, body=resolution_body, display_at=resolved_at,
            created_at=now, updated_at=now, deliver_notifications=False,
        )
        restore = {link.component: ComponentStatus.OPERATIONAL
                   for link in IncidentComponent.objects.filter(incident=incident).select_related("component")}
        _apply_components(incident, last, restore)
        incident.save()
        audit.record("incident.backfill", incident, after={
            **audit.snapshot(incident, INCIDENT_FIELDS), "body": body, "resolution_body": resolution_body,
            "components": _components_audit(statuses), "updates": len(extra),
        })
        _changed(incidents=[incident])
    return incident


# --- scheduled maintenance ----------------------------------------------------------------------


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
    now: datetime | None = None,
) -> Incident:
    """Announce a maintenance window. `display_at` dates the announcement, for one entered after the
    fact (it was announced weeks before, elsewhere)."""
    now = now or timezone.now()
    name = required_text("name", name, 300)
    choice("impact", impact, Impact)
    display_at = not_future("display_at", display_at, now) or now
    scheduled_for = aware("scheduled_for", scheduled_for)
    scheduled_until = aware("scheduled_until", scheduled_until)
    if scheduled_for is None:
        raise InvalidInput("scheduled_for", "is required")
    if scheduled_until is None:
        raise InvalidInput("scheduled_until", "is required")
    if scheduled_until <= scheduled_for:
        raise InvalidInput("scheduled_until", "must be after scheduled_for (the window ends before it starts)")
    components = list(components)
    for component in components:
        if not isinstance(component, Component):
            raise InvalidInput("components", f'unknown component "{component}"')
    with transaction.atomic():
        maintenance = Incident.objects.create(
            kind=Kind.MAINTENANCE, name=name, status=MaintenanceStatus.SCHEDULED, impact=impact,
            scheduled_for=scheduled_for, scheduled_until=scheduled_until, auto_start=auto_start,
            auto_complete=auto_complete, created_at=now, updated_at=now,
        )
        IncidentComponent.objects.bulk_create(
            IncidentComponent(incident=maintenance, component=c, status=ComponentStatus.OPERATIONAL)
            for c in components
        )
        IncidentUpdate.objects.create(
            incident=maintenance, status=MaintenanceStatus.SCHEDULED, body=body, display_at=display_at, created_at=now,
            updated_at=now, deliver_notifications=deliver_notifications, scheduled_until=scheduled_until,
        )
        audit.record("maintenance.schedule", maintenance, after={
            **audit.snapshot(maintenance, MAINTENANCE_FIELDS), "body": body,
            "components": [str(c) for c in components], "notify": deliver_notifications,
        })
        _changed(incidents=[maintenance])
    return maintenance


def _maintenance_transition(maintenance: Incident, status: str, body: str, now: datetime, display_at: datetime,
                            deliver_notifications: bool, components: dict[Component, str],
                            scheduled_until: datetime | None = None) -> IncidentUpdate:
    before = audit.snapshot(maintenance, MAINTENANCE_FIELDS)
    previous_status = maintenance.status
    update = IncidentUpdate.objects.create(
        incident=maintenance, status=status, body=body, display_at=display_at, created_at=now, updated_at=now,
        deliver_notifications=deliver_notifications, scheduled_until=scheduled_until,
    )
    # As Statuspage records it: starting puts every affected component under maintenance, completing
    # returns each to operational (derive ignores these rows; the window itself is the cause).
    window_status = {MaintenanceStatus.IN_PROGRESS: ComponentStatus.UNDER_MAINTENANCE,
                     MaintenanceStatus.COMPLETED: ComponentStatus.OPERATIONAL}.get(status)
    if window_status and status != maintenance.status:
        for link in IncidentComponent.objects.filter(incident=maintenance).select_related("component"):
            components.setdefault(link.component, window_status)
    _apply_components(maintenance, update, components)
    maintenance.status = status
    if status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING) and maintenance.started_at is None:
        maintenance.started_at = display_at
    if status == MaintenanceStatus.VERIFYING and maintenance.monitoring_at is None:
        maintenance.monitoring_at = display_at
    if status == MaintenanceStatus.COMPLETED:
        maintenance.started_at = maintenance.started_at or display_at
        maintenance.resolved_at = display_at
    if scheduled_until is not None:
        maintenance.scheduled_until = scheduled_until
    maintenance.updated_at = now
    maintenance.save()
    action = {MaintenanceStatus.IN_PROGRESS: "maintenance.start", MaintenanceStatus.COMPLETED: "maintenance.complete"}
    audit.record(action.get(status, "maintenance.update") if status != previous_status else "maintenance.update",
                 maintenance, before=before, after={
                     **audit.snapshot(maintenance, MAINTENANCE_FIELDS), "update": update.public_id, "body": body,
                     "components": _components_audit(components), "notify": deliver_notifications,
                 })
    _changed(incidents=[maintenance])
    return update


def post_maintenance_update(
    maintenance: Incident,
    *,
    status: str,
    body: str = "",
    components: ComponentStatuses | None = None,
    scheduled_until: datetime | None = None,
    display_at: datetime | None = None,
    deliver_notifications: bool = True,
    now: datetime | None = None,
) -> IncidentUpdate:
    """An update to a maintenance: a status change, or news such as an overrun ("taking longer than
    anticipated"), which may extend the window with a new scheduled_until."""
    now = now or timezone.now()
    choice("status", status, MaintenanceStatus)
    statuses = component_statuses("components", components)
    display_at = not_future("display_at", display_at, now) or now
    scheduled_until = aware("scheduled_until", scheduled_until)
    with transaction.atomic():
        maintenance = Incident.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.status == MaintenanceStatus.COMPLETED:
            raise InvalidInput("status", "the maintenance is completed; it takes no more updates")
        order = list(MaintenanceStatus.values)
        if order.index(status) < order.index(maintenance.status):
            raise InvalidInput("status", f'the maintenance is already {maintenance.status}; it cannot go back to {status}')
        if scheduled_until is not None and scheduled_until <= maintenance.scheduled_for:
            raise InvalidInput("scheduled_until", "must be after scheduled_for (the window ends before it starts)")
        return _maintenance_transition(
            maintenance, status, body or DEFAULT_BODIES.get(status, "") if status != maintenance.status else body,
            now, display_at, deliver_notifications, statuses, scheduled_until,
        )


def start_maintenance(maintenance: Incident, *, body: str = "", now: datetime | None = None) -> IncidentUpdate:
    return post_maintenance_update(maintenance, status=MaintenanceStatus.IN_PROGRESS,
                                   body=body or DEFAULT_BODIES[MaintenanceStatus.IN_PROGRESS], now=now)


def complete_maintenance(maintenance: Incident, *, body: str = "", now: datetime | None = None) -> IncidentUpdate:
    return post_maintenance_update(maintenance, status=MaintenanceStatus.COMPLETED,
                                   body=body or DEFAULT_BODIES[MaintenanceStatus.COMPLETED], now=now)


def run_due_transitions(now: datetime | None = None) -> list[IncidentUpdate]:
    """Start and complete maintenance whose time has come. Safe with several workers: each transition
    is claimed by a conditional UPDATE, so only one worker performs it."""
    now = now or timezone.now()
    done = []
    due_start = Incident.objects.filter(
        kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED, auto_start=True, scheduled_for__lte=now
    )
    for maintenance in due_start:
        with transaction.atomic():
            claimed = Incident.objects.filter(pk=maintenance.pk, status=MaintenanceStatus.SCHEDULED).update(updated_at=now)
            if not claimed:
                continue
            maintenance.refresh_from_db()
            display_at = min(now, max(maintenance.scheduled_for, now - timedelta(seconds=30)))
            done.append(_maintenance_transition(
                maintenance, MaintenanceStatus.IN_PROGRESS, DEFAULT_BODIES[MaintenanceStatus.IN_PROGRESS],
                now, display_at, True, {},
            ))
            log.info("maintenance %s started automatically", maintenance.public_id)
    due_end = Incident.objects.filter(
        kind=Kind.MAINTENANCE,
        status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING],
        auto_complete=True,
        scheduled_until__lte=now,
    )
    for maintenance in due_end:
        with transaction.atomic():
            claimed = Incident.objects.filter(
                pk=maintenance.pk, status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING],
                scheduled_until__lte=now,
            ).update(updated_at=now)
            if not claimed:
                continue
            maintenance.refresh_from_db()
            display_at = min(now, max(maintenance.scheduled_until, now - timedelta(seconds=30)))
            done.append(_maintenance_transition(
                maintenance, MaintenanceStatus.COMPLETED, DEFAULT_BODIES[MaintenanceStatus.COMPLETED],
                now, display_at, True, {},
            ))
            log.info("maintenance %s completed automatically", maintenance.public_id)
    return done
