"""The management API, /api/v1: what responders' scripts, the CLI and chat-ops call.

Each route declares its path, scope and schemas and calls one operation (operations.py), which maps the
request to a service verb and the result to the response; the CLI's local backend calls the same
operations. The rules live in the services, so the API, the console and the CLI cannot disagree.
"""

from collections.abc import Callable
from functools import wraps

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import Kind

from . import auth, operations
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
    field_errors,
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
        "overrides), admin (components, groups, page, subscribers and deliveries), probe (a remote probe's: "
        "/probe only). Send "
        "`Idempotency-Key` on a POST to make a retry safe."
    ),
    auth=auth.read,
    docs_decorator=_docs_csp,
)


def _written_and_rendered_together(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A write and the response that reports it in one transaction: the response is built from what
    was written before the commit, so a connection lost after the commit cannot turn a done write into
    an error (a client retrying without a key would then do it twice)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return run(request, *args, **kwargs)
        with transaction.atomic():
            return run(request, *args, **kwargs)

    return wrapper


api.add_decorator(_written_and_rendered_together, mode="view")


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


# --- page and overall status --------------------------------------------------------------------------


@api.get("/page", response={200: PageOut, **ERRORS}, summary="Show the page settings", tags=["page"])
def get_page(request: HttpRequest):
    return operations.get_page()


@api.patch("/page", auth=auth.admin, response={200: PageOut, **ERRORS},
           summary="Change the page settings", tags=["page"])
def patch_page(request: HttpRequest, payload: PagePatch):
    return operations.patch_page(payload)


@api.get("/status", response={200: StatusOut, **ERRORS},
         summary="Show the page indicator and every component's status", tags=["page"])
def get_status(request: HttpRequest):
    return operations.get_status()


# --- groups ---------------------------------------------------------------------------------------------


@api.get("/groups", response={200: Paged[GroupOut], **ERRORS}, summary="List component groups", tags=["groups"])
def list_groups(request: HttpRequest, params: Query[PageParams]):
    return operations.list_groups(params)


@api.post("/groups", auth=auth.admin, response={201: GroupOut, **ERRORS},
          summary="Create a component group", tags=["groups"])
@idempotent
def create_group(request: HttpRequest, payload: GroupIn):
    return Status(201, operations.create_group(payload))


@api.get("/groups/{group_id}", response={200: GroupOut, **ERRORS}, summary="Show a component group", tags=["groups"])
def get_group(request: HttpRequest, group_id: str):
    return operations.get_group(group_id)


@api.patch("/groups/{group_id}", auth=auth.admin, response={200: GroupOut, **ERRORS},
           summary="Change a component group", tags=["groups"])
def patch_group(request: HttpRequest, group_id: str, payload: GroupPatch):
    return operations.patch_group(group_id, payload)


@api.delete("/groups/{group_id}", auth=auth.admin, response={204: None, **ERRORS},
            summary="Remove an empty component group", tags=["groups"])
def delete_group(request: HttpRequest, group_id: str):
    operations.delete_group(group_id)
    return Status(204, None)


# --- components -------------------------------------------------------------------------------------


@api.get("/components", response={200: Paged[ComponentOut], **ERRORS},
         summary="List components with their current status", tags=["components"])
def list_components(request: HttpRequest, filters: Query[ComponentFilters]):
    return operations.list_components(filters)


@api.post("/components", auth=auth.admin, response={201: ComponentOut, **ERRORS},
          summary="Create a component", tags=["components"])
@idempotent
def create_component(request: HttpRequest, payload: ComponentIn):
    return Status(201, operations.create_component(payload))


@api.get("/components/{component_id}", response={200: ComponentOut, **ERRORS},
         summary="Show a component and its current status", tags=["components"])
def get_component(request: HttpRequest, component_id: str):
    return operations.get_component(component_id)


@api.patch("/components/{component_id}", auth=auth.admin, response={200: ComponentOut, **ERRORS},
           summary="Change a component", tags=["components"])
def patch_component(request: HttpRequest, component_id: str, payload: ComponentPatch):
    return operations.patch_component(component_id, payload)


@api.delete("/components/{component_id}", auth=auth.admin, response={204: None, **ERRORS},
            summary="Remove a component that no incident, maintenance or override names (else hide it)",
            tags=["components"])
def delete_component(request: HttpRequest, component_id: str):
    operations.delete_component(component_id)
    return Status(204, None)


@api.post("/components/{component_id}/override", auth=auth.write, response={200: ComponentOut, **ERRORS},
          summary="Force a component's status by hand until the override is removed", tags=["components"])
@idempotent
def set_override(request: HttpRequest, component_id: str, payload: OverrideIn):
    return operations.set_override(component_id, payload)


@api.delete("/components/{component_id}/override", auth=auth.write, response={200: ComponentOut, **ERRORS},
            summary="Remove a component's override: its status is derived again", tags=["components"])
def clear_override(request: HttpRequest, component_id: str):
    return operations.clear_override(component_id)


# --- incidents ------------------------------------------------------------------------------------------


@api.get("/incidents", response={200: Paged[IncidentOut], **ERRORS},
         summary="List incidents, newest first", tags=["incidents"])
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]):
    return operations.list_incidents(filters)


@api.post("/incidents", auth=auth.write, response={201: IncidentOut, **ERRORS},
          summary="Open an incident, or record a past one (when resolved_at is given)", tags=["incidents"])
@idempotent
def create_incident(request: HttpRequest, payload: IncidentIn):
    return Status(201, operations.create_incident(payload))


@api.get("/incidents/{incident_id}", response={200: IncidentOut, **ERRORS},
         summary="Show an incident with its updates", tags=["incidents"])
def get_incident(request: HttpRequest, incident_id: str):
    return operations.get_incident(incident_id)


@api.patch("/incidents/{incident_id}", auth=auth.write, response={200: IncidentOut, **ERRORS},
           summary="Rename an incident or change its impact", tags=["incidents"])
def patch_incident(request: HttpRequest, incident_id: str, payload: IncidentPatch):
    return operations.patch_incident(incident_id, payload)


@api.post("/incidents/{incident_id}/updates", auth=auth.write, response={201: IncidentOut, **ERRORS},
          summary="Post an update to an incident (resolving it, or reopening it with reopen=true)", tags=["incidents"])
@idempotent
def create_incident_update(request: HttpRequest, incident_id: str, payload: IncidentUpdateIn):
    return Status(201, operations.create_incident_update(incident_id, payload))


@api.get("/incidents/{incident_id}/updates", response={200: Paged[UpdateOut], **ERRORS},
         summary="List an incident's updates, newest first", tags=["incidents"])
def list_incident_updates(request: HttpRequest, incident_id: str, params: Query[PageParams]):
    return operations.list_updates(incident_id, Kind.INCIDENT, params)


# --- scheduled maintenance ----------------------------------------------------------------------------


@api.get("/maintenance", response={200: Paged[MaintenanceOut], **ERRORS},
         summary="List scheduled maintenance, latest window first", tags=["maintenance"])
def list_maintenance(request: HttpRequest, filters: Query[MaintenanceFilters]):
    return operations.list_maintenance(filters)


@api.post("/maintenance", auth=auth.write, response={201: MaintenanceOut, **ERRORS},
          summary="Schedule maintenance", tags=["maintenance"])
@idempotent
def create_maintenance(request: HttpRequest, payload: MaintenanceIn):
    return Status(201, operations.create_maintenance(payload))


@api.get("/maintenance/{maintenance_id}", response={200: MaintenanceOut, **ERRORS},
         summary="Show a maintenance with its updates", tags=["maintenance"])
def get_maintenance(request: HttpRequest, maintenance_id: str):
    return operations.get_maintenance(maintenance_id)


@api.patch("/maintenance/{maintenance_id}", auth=auth.write, response={200: MaintenanceOut, **ERRORS},
           summary="Rename a maintenance or change its impact", tags=["maintenance"])
def patch_maintenance(request: HttpRequest, maintenance_id: str, payload: MaintenancePatch):
    return operations.patch_maintenance(maintenance_id, payload)


@api.post("/maintenance/{maintenance_id}/updates", auth=auth.write, response={201: MaintenanceOut, **ERRORS},
          summary="Post an update to a maintenance: start, verify, complete, or extend the window",
          tags=["maintenance"])
@idempotent
def create_maintenance_update(request: HttpRequest, maintenance_id: str, payload: MaintenanceUpdateIn):
    return Status(201, operations.create_maintenance_update(maintenance_id, payload))


@api.get("/maintenance/{maintenance_id}/updates", response={200: Paged[UpdateOut], **ERRORS},
         summary="List a maintenance's updates, newest first", tags=["maintenance"])
def list_maintenance_updates(request: HttpRequest, maintenance_id: str, params: Query[PageParams]):
    return operations.list_updates(maintenance_id, Kind.MAINTENANCE, params)


# --- postmortems (their own module: signalpost/api/postmortems.py) -------------------------------------

from .postmortems import router as postmortems_router  # noqa: E402

api.add_router("/postmortems", postmortems_router)

# --- subscribers and deliveries (their own module: signalpost/api/subscribers.py) ---------------------

from .subscribers import deliveries as deliveries_router  # noqa: E402
from .subscribers import subscribers as subscribers_router  # noqa: E402

api.add_router("/subscribers", subscribers_router)
api.add_router("/deliveries", deliveries_router)

# --- remote probes (their own module: signalpost/api/probes.py) ---------------------------------------

from .probes import router as probes_router  # noqa: E402

api.add_router("/probe", probes_router)

# --- monitors (their own module: signalpost/api/monitors.py) ------------------------------------------

from .monitors import router as monitors_router  # noqa: E402

api.add_router("/monitors", monitors_router)
