"""What each management API operation does, apart from HTTP: from a validated request body (the API's
schemas) to a status verb, and from its result to the response body. The API's routes (views.py) and
the CLI's local backend both call these, so a command behaves the same against the local database as
against a server, and the mapping is written once."""

from collections.abc import Callable, Iterable, Mapping

from django.db.models import Prefetch, Q, QuerySet

from signalpost.errors import InvalidInput, NotFound
from signalpost.status import derive, readable, services
from signalpost.status.layout import page_order_sql
from signalpost.status.models import (
    Component,
    ComponentGroup,
    Incident,
    Kind,
    MaintenanceStatus,
    StatusOverride,
)

from .schemas import (
    ComponentFilters,
    ComponentIn,
    ComponentPatch,
    GroupIn,
    GroupPatch,
    IncidentFilters,
    IncidentIn,
    IncidentPatch,
    IncidentUpdateIn,
    MaintenanceFilters,
    MaintenanceIn,
    MaintenancePatch,
    MaintenanceUpdateIn,
    OverrideIn,
    PageParams,
    PagePatch,
    component_out,
    group_out,
    incident_out,
    page_out,
    update_out,
    updates_with_changes,
    with_details,
)

# --- helpers ----------------------------------------------------------------------------------------


def paged(queryset: QuerySet, params: PageParams, render: Callable[[list], list[dict]]) -> dict:
    start = (params.page - 1) * params.per_page
    items = list(queryset[start : start + params.per_page])
    return {"items": render(items), "count": queryset.count(), "page": params.page, "per_page": params.per_page}


def component_statuses(refs: Mapping[str, str] | None, field: str = "components") -> dict[Component, str] | None:
    if refs is None:
        return None
    return dict(zip(services.find_components(refs, field=field), refs.values(), strict=True))


def _components() -> QuerySet:
    open_overrides = Prefetch(
        "overrides", queryset=StatusOverride.objects.filter(readable.overrides(), cleared_at__isnull=True),
        to_attr="open_overrides",
    )
    return Component.objects.select_related("group").prefetch_related(open_overrides).order_by(*page_order_sql())


def _render_components(components: list[Component]) -> list[dict]:
    statuses = derive.current_statuses([c.pk for c in components])
    return [component_out(c, statuses[c.pk]) for c in components]


def _component(public_id: str) -> Component:
    component = _components().filter(public_id=public_id).first()
    if component is None:
        raise NotFound(f'no component with id "{public_id}"')
    return component


def _incident(public_id: str, kind: str) -> Incident:
    incident = with_details(Incident.objects.filter(readable.incidents(), kind=kind, public_id=public_id)).first()
    if incident is None:
        raise NotFound(f'no {kind} with id "{public_id}"')
    return incident


def _render_incidents(incidents: Iterable[Incident]) -> list[dict]:
    return [incident_out(i) for i in incidents]


def _set_fields(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


def _find_group(public_id: str) -> ComponentGroup:
    group = ComponentGroup.objects.filter(public_id=public_id).first()
    if group is None:
        raise NotFound(f'no group with id "{public_id}"')
    return group


# --- page and overall status --------------------------------------------------------------------------


def get_page() -> dict:
    return page_out(services.get_page())


def patch_page(payload: PagePatch) -> dict:
    return page_out(services.update_page(**_set_fields(payload)))


def get_status() -> dict:
    components = list(Component.objects.select_related("group").order_by(*page_order_sql()))
    statuses = derive.current_statuses([c.pk for c in components])
    visible = {c.pk: statuses[c.pk] for c in components if c.is_visible}
    indicator, description = derive.page_indicator(visible)
    return {
        "indicator": indicator,
        "description": description,
        "components": [
            {"id": c.public_id, "name": c.name, "group": c.group.name if c.group else None,
             "hidden": c.pk not in visible, "status": statuses[c.pk]}
            for c in components
        ],
    }


# --- groups ---------------------------------------------------------------------------------------------


def list_groups(params: PageParams) -> dict:
    return paged(ComponentGroup.objects.order_by("position", "name"), params, lambda gs: [group_out(g) for g in gs])


def create_group(payload: GroupIn) -> dict:
    return group_out(services.create_group(**payload.model_dump()))


def get_group(group_id: str) -> dict:
    return group_out(_find_group(group_id))


def patch_group(group_id: str, payload: GroupPatch) -> dict:
    return group_out(services.update_group(_find_group(group_id), **_set_fields(payload)))


def delete_group(group_id: str) -> None:
    services.remove_group(_find_group(group_id))


# --- components -------------------------------------------------------------------------------------


def list_components(filters: ComponentFilters) -> dict:
    components = _components()
    if filters.group is not None:
        components = components.filter(group=services.find_group(filters.group))
    if filters.hidden is not None:
        components = components.filter(hidden=filters.hidden)
    return paged(components, filters, _render_components)


def all_components() -> list[dict]:
    return _render_components(list(_components()))


def create_component(payload: ComponentIn) -> dict:
    fields = payload.model_dump()
    fields["group"] = services.find_group(fields["group"]) if fields["group"] is not None else None
    component = services.create_component(**fields)
    return _render_components([_component(component.public_id)])[0]


def get_component(component_id: str) -> dict:
    return _render_components([_component(component_id)])[0]


def patch_component(component_id: str, payload: ComponentPatch) -> dict:
    fields = _set_fields(payload)
    if "group" in fields:
        fields["group"] = services.find_group(fields["group"]) if fields["group"] is not None else None
    services.update_component(_component(component_id), **fields)
    return _render_components([_component(component_id)])[0]


def delete_component(component_id: str) -> None:
    services.remove_component(_component(component_id))


def set_override(component_id: str, payload: OverrideIn) -> dict:
    services.set_override(_component(component_id), payload.status, payload.reason)
    return _render_components([_component(component_id)])[0]


def clear_override(component_id: str) -> dict:
    services.clear_override(_component(component_id))
    return _render_components([_component(component_id)])[0]


# --- incidents ------------------------------------------------------------------------------------------


def list_incidents(filters: IncidentFilters) -> dict:
    incidents = Incident.objects.filter(readable.incidents(), kind=Kind.INCIDENT)
    if filters.status is not None:
        incidents = incidents.filter(status=filters.status)
    if filters.open is not None:
        incidents = incidents.filter(resolved_at__isnull=filters.open)
    if filters.since is not None:
        incidents = incidents.filter(started_at__gte=filters.since)
    if filters.until is not None:
        incidents = incidents.filter(started_at__lt=filters.until)
    return paged(with_details(incidents.order_by("-started_at", "-id")), filters, _render_incidents)


def create_incident(payload: IncidentIn) -> dict:
    """Open an incident, or record a past one when resolved_at is given."""
    components = component_statuses(payload.components)
    if payload.resolved_at is not None:
        if payload.display_at is not None:
            raise InvalidInput("display_at", "does not apply to a past incident; give started_at")
        updates = [
            {"display_at": u.display_at, "status": u.status, "body": u.body,
             "components": component_statuses(u.components, f"updates[{n}].components")}
            for n, u in enumerate(payload.updates)
        ]
        extra = {"resolution_body": payload.resolution_body} if payload.resolution_body is not None else {}
        incident = services.backfill_incident(
            name=payload.name, started_at=payload.started_at, resolved_at=payload.resolved_at,
            impact=payload.impact, status=payload.status, body=payload.body, components=components,
            updates=updates, impact_started_at=payload.impact_started_at,
            impact_ended_at=payload.impact_ended_at, **extra,
        )
    else:
        if payload.started_at is not None or payload.updates or payload.resolution_body is not None:
            raise InvalidInput("resolved_at", "is required for a past incident (an open incident takes display_at)")
        incident = services.open_incident(
            name=payload.name, status=payload.status, impact=payload.impact, body=payload.body,
            components=components, display_at=payload.display_at,
            deliver_notifications=payload.deliver_notifications,
            impact_started_at=payload.impact_started_at, impact_ended_at=payload.impact_ended_at,
        )
    return incident_out(_incident(incident.public_id, Kind.INCIDENT))


def get_incident(incident_id: str) -> dict:
    return incident_out(_incident(incident_id, Kind.INCIDENT))


def patch_incident(incident_id: str, payload: IncidentPatch) -> dict:
    services.edit_incident(services.find_incident(incident_id, Kind.INCIDENT), **_set_fields(payload))
    return incident_out(_incident(incident_id, Kind.INCIDENT))


def create_incident_update(incident_id: str, payload: IncidentUpdateIn) -> dict:
    incident = services.find_incident(incident_id, Kind.INCIDENT)
    services.post_update(
        incident, status=payload.status, body=payload.body, components=component_statuses(payload.components),
        impact=payload.impact, display_at=payload.display_at, reopen=payload.reopen,
        deliver_notifications=payload.deliver_notifications,
    )
    return incident_out(_incident(incident_id, Kind.INCIDENT))


def list_updates(public_id: str, kind: str, params: PageParams) -> dict:
    incident = services.find_incident(public_id, kind)
    updates = updates_with_changes().filter(incident=incident).order_by("-display_at", "-id")
    return paged(updates, params, lambda us: [update_out(u) for u in us])


# --- scheduled maintenance ----------------------------------------------------------------------------


def list_maintenance(filters: MaintenanceFilters) -> dict:
    maintenance = Incident.objects.filter(readable.incidents(), kind=Kind.MAINTENANCE)
    if filters.status is not None:
        maintenance = maintenance.filter(status=filters.status)
    if filters.upcoming is not None:
        upcoming = Q(status=MaintenanceStatus.SCHEDULED)
        maintenance = maintenance.filter(upcoming if filters.upcoming else ~upcoming)
    if filters.active is not None:
        active = Q(status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING])
        maintenance = maintenance.filter(active if filters.active else ~active)
    # Upcoming windows read soonest first; any other listing latest window first.
    order = ("scheduled_for", "id") if filters.upcoming else ("-scheduled_for", "-id")
    return paged(with_details(maintenance.order_by(*order)), filters, _render_incidents)


def create_maintenance(payload: MaintenanceIn) -> dict:
    fields = payload.model_dump()
    fields["components"] = services.find_components(payload.components)
    maintenance = services.schedule_maintenance(**fields)
    return incident_out(_incident(maintenance.public_id, Kind.MAINTENANCE))


def get_maintenance(maintenance_id: str) -> dict:
    return incident_out(_incident(maintenance_id, Kind.MAINTENANCE))


def patch_maintenance(maintenance_id: str, payload: MaintenancePatch) -> dict:
    services.edit_incident(services.find_incident(maintenance_id, Kind.MAINTENANCE), **_set_fields(payload))
    return incident_out(_incident(maintenance_id, Kind.MAINTENANCE))


def create_maintenance_update(maintenance_id: str, payload: MaintenanceUpdateIn) -> dict:
    maintenance = services.find_incident(maintenance_id, Kind.MAINTENANCE)
    services.post_maintenance_update(
        maintenance, status=payload.status, body=payload.body, components=component_statuses(payload.components),
        scheduled_until=payload.scheduled_until, display_at=payload.display_at,
        deliver_notifications=payload.deliver_notifications, overrun=payload.overrun,
    )
    return incident_out(_incident(maintenance_id, Kind.MAINTENANCE))
