"""The management API, /api/v1: what responders' scripts, the CLI and chat-ops call.

Each handler parses its input, calls one service (signalpost.status.services) and renders the result;
the rules live in the services, so the API, the console and the CLI cannot disagree.
"""

from collections.abc import Callable, Iterable, Mapping

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from signalpost.status import derive, services
from signalpost.status.layout import page_order_sql
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import (
    Component,
    ComponentGroup,
    Incident,
    Kind,
    MaintenanceStatus,
    StatusOverride,
)

from . import auth
from .idempotency import idempotent
from .schemas import (
    ERRORS,
    ComponentFilters,
    ComponentIn,
    ComponentOut,
    ComponentPatch,
    GroupIn,
    GroupOut,
    GroupPatch,
    IncidentFilters,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IncidentUpdateIn,
    MaintenanceFilters,
    MaintenanceIn,
    MaintenanceOut,
    MaintenancePatch,
    MaintenanceUpdateIn,
    OverrideIn,
    Paged,
    PageOut,
    PageParams,
    PagePatch,
    StatusOut,
    UpdateOut,
    component_out,
    field_errors,
    group_out,
    incident_out,
    page_out,
    update_out,
    updates_with_changes,
    with_details,
)

# Swagger UI is served from django-ninja's own static files ("ninja" is in INSTALLED_APPS): nothing is
# fetched from a CDN. It sets inline styles, hence the one relaxation.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _docs_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response

    return wrapper


class SignalpostAPI(NinjaAPI):
    """The OpenAPI document is built once: routes never change at run time, and building it costs
    about 0.3 s of CPU (it is served without authentication)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        cache = self.__dict__.setdefault("_openapi_cache", {})
        if key not in cache:
            cache[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return cache[key]


api = SignalpostAPI(
    title="Signalpost management API",
    version="1",
    description=(
        "Manage the status page: components, incidents, maintenance. Authenticate with "
        "`Authorization: Bearer <token>`; scopes: read (every GET), write (incidents, maintenance, "
        "overrides), admin (components, groups, page). Send `Idempotency-Key` on a POST to make a retry safe."
    ),
    auth=auth.read,
    docs_decorator=_docs_csp,
)


# --- errors: every refusal is {"detail": one sentence, "errors": [{"field", "message"}]} -----------


def _error(request: HttpRequest, status: int, detail: str, errors: list[dict] | None = None) -> HttpResponse:
    body = {"detail": detail, "errors": errors} if errors else {"detail": detail}
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def _on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = field_errors(exc.errors)
    first = f"{errors[0]['field']} {errors[0]['message']}" if errors else "the request is not valid"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return _error(request, 422, f"Invalid input: {first}{more}.", errors)


@api.exception_handler(InvalidInput)
def _on_invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    errors = [{"field": exc.field, "message": exc.message}]
    return _error(request, 422, f"Invalid input: {exc.field} {exc.message}.", errors)


@api.exception_handler(NotFound)
def _on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, 404, str(exc))


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and exc.__cause__ is not None:  # ninja could not parse the body
        message = f"is not valid JSON ({exc.__cause__})"
        return _error(request, 400, f"The request body {message}.", [{"field": "body", "message": message}])
    response = _error(request, exc.status_code, exc.message)
    if isinstance(exc, AuthenticationError):
        response["WWW-Authenticate"] = 'Bearer realm="signalpost"'
    return response


# --- helpers ----------------------------------------------------------------------------------------


def _paged(queryset: QuerySet, params: PageParams, render: Callable[[list], list[dict]]) -> dict:
    start = (params.page - 1) * params.per_page
    items = list(queryset[start : start + params.per_page])
    return {"items": render(items), "count": queryset.count(), "page": params.page, "per_page": params.per_page}


def _component_statuses(refs: Mapping[str, str] | None, field: str = "components") -> dict[Component, str] | None:
    if refs is None:
        return None
    return dict(zip(services.find_components(refs, field=field), refs.values(), strict=True))


def _components() -> QuerySet:
    open_overrides = Prefetch(
        "overrides", queryset=StatusOverride.objects.filter(cleared_at__isnull=True), to_attr="open_overrides"
    )
    return (
        Component.objects.select_related("group")
        .prefetch_related(open_overrides)
        .order_by(*page_order_sql())
    )


def _render_components(components: list[Component]) -> list[dict]:
    statuses = derive.current_statuses([c.pk for c in components])
    return [component_out(c, statuses[c.pk]) for c in components]


def _component(public_id: str) -> Component:
    component = _components().filter(public_id=public_id).first()
    if component is None:
        raise NotFound(f'no component with id "{public_id}"')
    return component


def _incident(public_id: str, kind: str) -> Incident:
    incident = with_details(Incident.objects.filter(kind=kind, public_id=public_id)).first()
    if incident is None:
        raise NotFound(f'no {kind} with id "{public_id}"')
    return incident


def _render_incidents(incidents: Iterable[Incident]) -> list[dict]:
    return [incident_out(i) for i in incidents]


def _set_fields(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


# --- page and overall status --------------------------------------------------------------------------


@api.get("/page", response={200: PageOut, **ERRORS}, summary="Show the page settings", tags=["page"])
def get_page(request: HttpRequest):
    return page_out(services.get_page())


@api.patch("/page", auth=auth.admin, response={200: PageOut, **ERRORS},
           summary="Change the page settings", tags=["page"])
def patch_page(request: HttpRequest, payload: PagePatch):
    return page_out(services.update_page(**_set_fields(payload)))


@api.get("/status", response={200: StatusOut, **ERRORS},
         summary="Show the page indicator and every component's status", tags=["page"])
def get_status(request: HttpRequest):
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


@api.get("/groups", response={200: Paged[GroupOut], **ERRORS}, summary="List component groups", tags=["groups"])
def list_groups(request: HttpRequest, params: Query[PageParams]):
    return _paged(ComponentGroup.objects.order_by("position", "name"), params, lambda gs: [group_out(g) for g in gs])


@api.post("/groups", auth=auth.admin, response={201: GroupOut, **ERRORS},
          summary="Create a component group", tags=["groups"])
@idempotent
def create_group(request: HttpRequest, payload: GroupIn):
    return Status(201, group_out(services.create_group(**payload.model_dump())))


def _find_group(public_id: str) -> ComponentGroup:
    group = ComponentGroup.objects.filter(public_id=public_id).first()
    if group is None:
        raise NotFound(f'no group with id "{public_id}"')
    return group


@api.get("/groups/{group_id}", response={200: GroupOut, **ERRORS}, summary="Show a component group", tags=["groups"])
def get_group(request: HttpRequest, group_id: str):
    return group_out(_find_group(group_id))


@api.patch("/groups/{group_id}", auth=auth.admin, response={200: GroupOut, **ERRORS},
           summary="Change a component group", tags=["groups"])
def patch_group(request: HttpRequest, group_id: str, payload: GroupPatch):
    return group_out(services.update_group(_find_group(group_id), **_set_fields(payload)))


# --- components -------------------------------------------------------------------------------------


@api.get("/components", response={200: Paged[ComponentOut], **ERRORS},
         summary="List components with their current status", tags=["components"])
def list_components(request: HttpRequest, filters: Query[ComponentFilters]):
    components = _components()
    if filters.group is not None:
        components = components.filter(group=services.find_group(filters.group))
    if filters.hidden is not None:
        components = components.filter(hidden=filters.hidden)
    return _paged(components, filters, _render_components)


@api.post("/components", auth=auth.admin, response={201: ComponentOut, **ERRORS},
          summary="Create a component", tags=["components"])
@idempotent
def create_component(request: HttpRequest, payload: ComponentIn):
    fields = payload.model_dump()
    fields["group"] = services.find_group(fields["group"]) if fields["group"] is not None else None
    component = services.create_component(**fields)
    return Status(201, _render_components([_component(component.public_id)])[0])


@api.get("/components/{component_id}", response={200: ComponentOut, **ERRORS},
         summary="Show a component and its current status", tags=["components"])
def get_component(request: HttpRequest, component_id: str):
    return _render_components([_component(component_id)])[0]


@api.patch("/components/{component_id}", auth=auth.admin, response={200: ComponentOut, **ERRORS},
           summary="Change a component", tags=["components"])
def patch_component(request: HttpRequest, component_id: str, payload: ComponentPatch):
    fields = _set_fields(payload)
    if "group" in fields:
        fields["group"] = services.find_group(fields["group"]) if fields["group"] is not None else None
    services.update_component(_component(component_id), **fields)
    return _render_components([_component(component_id)])[0]


@api.post("/components/{component_id}/override", auth=auth.write, response={200: ComponentOut, **ERRORS},
          summary="Force a component's status by hand until the override is removed", tags=["components"])
@idempotent
def set_override(request: HttpRequest, component_id: str, payload: OverrideIn):
    services.set_override(_component(component_id), payload.status, payload.reason)
    return _render_components([_component(component_id)])[0]


@api.delete("/components/{component_id}/override", auth=auth.write, response={200: ComponentOut, **ERRORS},
            summary="Remove a component's override: its status is derived again", tags=["components"])
def clear_override(request: HttpRequest, component_id: str):
    services.clear_override(_component(component_id))
    return _render_components([_component(component_id)])[0]


# --- incidents ------------------------------------------------------------------------------------------


@api.get("/incidents", response={200: Paged[IncidentOut], **ERRORS},
         summary="List incidents, newest first", tags=["incidents"])
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]):
    incidents = Incident.objects.filter(kind=Kind.INCIDENT)
    if filters.status is not None:
        incidents = incidents.filter(status=filters.status)
    if filters.open is not None:
        incidents = incidents.filter(resolved_at__isnull=filters.open)
    if filters.since is not None:
        incidents = incidents.filter(started_at__gte=filters.since)
    if filters.until is not None:
        incidents = incidents.filter(started_at__lt=filters.until)
    return _paged(with_details(incidents.order_by("-started_at", "-id")), filters, _render_incidents)


@api.post("/incidents", auth=auth.write, response={201: IncidentOut, **ERRORS},
          summary="Open an incident, or record a past one (when resolved_at is given)", tags=["incidents"])
@idempotent
def create_incident(request: HttpRequest, payload: IncidentIn):
    components = _component_statuses(payload.components)
    if payload.resolved_at is not None:
        if payload.display_at is not None:
            raise InvalidInput("display_at", "does not apply to a past incident; give started_at")
        updates = [
            {"display_at": u.display_at, "status": u.status, "body": u.body,
             "components": _component_statuses(u.components, f"updates[{n}].components")}
            for n, u in enumerate(payload.updates)
        ]
        extra = {"resolution_body": payload.resolution_body} if payload.resolution_body is not None else {}
        incident = services.backfill_incident(
            name=payload.name, started_at=payload.started_at, resolved_at=payload.resolved_at,
            impact=payload.impact, body=payload.body, components=components, updates=updates, **extra,
        )
    else:
        if payload.started_at is not None or payload.updates or payload.resolution_body is not None:
            raise InvalidInput("resolved_at", "is required for a past incident (an open incident takes display_at)")
        incident = services.open_incident(
            name=payload.name, status=payload.status, impact=payload.impact, body=payload.body,
            components=components, display_at=payload.display_at,
            deliver_notifications=payload.deliver_notifications,
        )
    return Status(201, incident_out(_incident(incident.public_id, Kind.INCIDENT)))


@api.get("/incidents/{incident_id}", response={200: IncidentOut, **ERRORS},
         summary="Show an incident with its updates", tags=["incidents"])
def get_incident(request: HttpRequest, incident_id: str):
    return incident_out(_incident(incident_id, Kind.INCIDENT))


@api.patch("/incidents/{incident_id}", auth=auth.write, response={200: IncidentOut, **ERRORS},
           summary="Rename an incident or change its impact", tags=["incidents"])
def patch_incident(request: HttpRequest, incident_id: str, payload: IncidentPatch):
    services.edit_incident(services.find_incident(incident_id, Kind.INCIDENT), **_set_fields(payload))
    return incident_out(_incident(incident_id, Kind.INCIDENT))


@api.post("/incidents/{incident_id}/updates", auth=auth.write, response={201: IncidentOut, **ERRORS},
          summary="Post an update to an incident (resolving it, or reopening it with reopen=true)", tags=["incidents"])
@idempotent
def create_incident_update(request: HttpRequest, incident_id: str, payload: IncidentUpdateIn):
    incident = services.find_incident(incident_id, Kind.INCIDENT)
    services.post_update(
        incident, status=payload.status, body=payload.body, components=_component_statuses(payload.components),
        impact=payload.impact, display_at=payload.display_at, reopen=payload.reopen,
        deliver_notifications=payload.deliver_notifications,
    )
    return Status(201, incident_out(_incident(incident_id, Kind.INCIDENT)))


def _list_updates(public_id: str, kind: str, params: PageParams) -> dict:
    incident = services.find_incident(public_id, kind)
    updates = updates_with_changes().filter(incident=incident).order_by("-display_at", "-id")
    return _paged(updates, params, lambda us: [update_out(u) for u in us])


@api.get("/incidents/{incident_id}/updates", response={200: Paged[UpdateOut], **ERRORS},
         summary="List an incident's updates, newest first", tags=["incidents"])
def list_incident_updates(request: HttpRequest, incident_id: str, params: Query[PageParams]):
    return _list_updates(incident_id, Kind.INCIDENT, params)


# --- scheduled maintenance ----------------------------------------------------------------------------


@api.get("/maintenance", response={200: Paged[MaintenanceOut], **ERRORS},
         summary="List scheduled maintenance, latest window first", tags=["maintenance"])
def list_maintenance(request: HttpRequest, filters: Query[MaintenanceFilters]):
    maintenance = Incident.objects.filter(kind=Kind.MAINTENANCE)
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
    return _paged(with_details(maintenance.order_by(*order)), filters, _render_incidents)


@api.post("/maintenance", auth=auth.write, response={201: MaintenanceOut, **ERRORS},
          summary="Schedule maintenance", tags=["maintenance"])
@idempotent
def create_maintenance(request: HttpRequest, payload: MaintenanceIn):
    fields = payload.model_dump()
    fields["components"] = services.find_components(payload.components)
    maintenance = services.schedule_maintenance(**fields)
    return Status(201, incident_out(_incident(maintenance.public_id, Kind.MAINTENANCE)))


@api.get("/maintenance/{maintenance_id}", response={200: MaintenanceOut, **ERRORS},
         summary="Show a maintenance with its updates", tags=["maintenance"])
def get_maintenance(request: HttpRequest, maintenance_id: str):
    return incident_out(_incident(maintenance_id, Kind.MAINTENANCE))


@api.patch("/maintenance/{maintenance_id}", auth=auth.write, response={200: MaintenanceOut, **ERRORS},
           summary="Rename a maintenance or change its impact", tags=["maintenance"])
def patch_maintenance(request: HttpRequest, maintenance_id: str, payload: MaintenancePatch):
    services.edit_incident(services.find_incident(maintenance_id, Kind.MAINTENANCE), **_set_fields(payload))
    return incident_out(_incident(maintenance_id, Kind.MAINTENANCE))


@api.post("/maintenance/{maintenance_id}/updates", auth=auth.write, response={201: MaintenanceOut, **ERRORS},
          summary="Post an update to a maintenance: start, verify, complete, or extend the window",
          tags=["maintenance"])
@idempotent
def create_maintenance_update(request: HttpRequest, maintenance_id: str, payload: MaintenanceUpdateIn):
    maintenance = services.find_incident(maintenance_id, Kind.MAINTENANCE)
    services.post_maintenance_update(
        maintenance, status=payload.status, body=payload.body, components=_component_statuses(payload.components),
        scheduled_until=payload.scheduled_until, display_at=payload.display_at,
        deliver_notifications=payload.deliver_notifications,
    )
    return Status(201, incident_out(_incident(maintenance_id, Kind.MAINTENANCE)))


@api.get("/maintenance/{maintenance_id}/updates", response={200: Paged[UpdateOut], **ERRORS},
         summary="List a maintenance's updates, newest first", tags=["maintenance"])
def list_maintenance_updates(request: HttpRequest, maintenance_id: str, params: Query[PageParams]):
    return _list_updates(maintenance_id, Kind.MAINTENANCE, params)


# --- postmortems (their own module: signalpost/api/postmortems.py) -------------------------------------

from .postmortems import router as postmortems_router

api.add_router("/postmortems", postmortems_router)
