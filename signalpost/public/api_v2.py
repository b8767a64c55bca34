"""The Statuspage-compatible public API, /api/v2: the paths, field names, enum values, orderings and
shapes of Atlassian Statuspage's public API v2, so that existing widgets, aggregators and scripts work
against Signalpost by changing only the base URL.

These views are rendered when the public snapshot is published, not per reader: each payload depends
only on the database and the render time, and every list is read with a fixed number of queries.
"""

import json
from datetime import datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from signalpost.presentation.statuspage import (
    ACTIVE_MAINTENANCE,
    Json,
    Render,
    incident_json,
    prepare,
    status_json,
    with_history,
)
from signalpost.status import readable
from signalpost.status.models import Incident, Kind, MaintenanceStatus

CONTENT_TYPE = "application/json; charset=utf-8"
# Statuspage's incidents.json and scheduled-maintenances.json list "the 50 most recent".
RECENT_LIMIT = 50


def _incidents() -> QuerySet[Incident]:
    newest = Coalesce("started_at", "created_at").desc()
    return Incident.objects.filter(readable.incidents(), kind=Kind.INCIDENT).order_by(newest, "-created_at", "-id")


def _maintenances() -> QuerySet[Incident]:
    return Incident.objects.filter(readable.incidents(), kind=Kind.MAINTENANCE)


def _soonest_first(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.order_by("scheduled_for", "created_at", "id")


def _listing(render: Render, incidents: QuerySet[Incident]) -> list[Json]:
    return [incident_json(render, i) for i in with_history(incidents)]


# --- payloads -----------------------------------------------------------------------------------


def summary_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    # Unresolved incidents and upcoming or running maintenance in one read.
    current = with_history(
        Incident.objects.filter(readable.incidents()).filter(
            Q(kind=Kind.INCIDENT, resolved_at__isnull=True)
            | Q(kind=Kind.MAINTENANCE, status__in=[MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE])
        )
    )
    incidents = sorted((i for i in current if not i.is_maintenance),
                       key=lambda i: (i.started_at or i.created_at, i.created_at, i.pk), reverse=True)
    maintenances = sorted((i for i in current if i.is_maintenance),
                          key=lambda i: (i.scheduled_for, i.created_at, i.pk))
    return {
        "page": render.page_json(),
        "components": render.component_rows,
        "incidents": [incident_json(render, i) for i in incidents],
        "scheduled_maintenances": [incident_json(render, m) for m in maintenances],
        "status": status_json(render),
    }


def status_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    return {"page": render.page_json(), "status": status_json(render)}


def components_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    return {"page": render.page_json(), "components": render.component_rows}


def incidents_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    return {"page": render.page_json(), "incidents": _listing(render, _incidents()[:RECENT_LIMIT])}


def incidents_unresolved_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    return {"page": render.page_json(), "incidents": _listing(render, _incidents().filter(resolved_at__isnull=True))}


def scheduled_maintenances_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    recent = _maintenances().order_by("-scheduled_for", "-created_at", "-id")[:RECENT_LIMIT]
    return {"page": render.page_json(), "scheduled_maintenances": _listing(render, recent)}


def scheduled_maintenances_upcoming_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    upcoming = _soonest_first(_maintenances().filter(status=MaintenanceStatus.SCHEDULED))
    return {"page": render.page_json(), "scheduled_maintenances": _listing(render, upcoming)}


def scheduled_maintenances_active_payload(now: datetime | None = None) -> Json:
    render = prepare(now)
    active = _soonest_first(_maintenances().filter(status__in=ACTIVE_MAINTENANCE))
    return {"page": render.page_json(), "scheduled_maintenances": _listing(render, active)}


# The public path of each endpoint and the payload it serves, for the snapshot publisher.
PAYLOADS = {
    "/api/v2/summary.json": summary_payload,
    "/api/v2/status.json": status_payload,
    "/api/v2/components.json": components_payload,
    "/api/v2/incidents.json": incidents_payload,
    "/api/v2/incidents/unresolved.json": incidents_unresolved_payload,
    "/api/v2/scheduled-maintenances.json": scheduled_maintenances_payload,
    "/api/v2/scheduled-maintenances/upcoming.json": scheduled_maintenances_upcoming_payload,
    "/api/v2/scheduled-maintenances/active.json": scheduled_maintenances_active_payload,
}


def render_bytes(payload: Json) -> bytes:
    """Compact UTF-8 JSON, as Statuspage serves it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _respond(payload: Json) -> HttpResponse:
    response = HttpResponse(render_bytes(payload), content_type=CONTENT_TYPE)
    # Widgets on other sites read these from the browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def summary(request: HttpRequest) -> HttpResponse:
    return _respond(summary_payload())


@require_safe
def status(request: HttpRequest) -> HttpResponse:
    return _respond(status_payload())


@require_safe
def components(request: HttpRequest) -> HttpResponse:
    return _respond(components_payload())


@require_safe
def incidents(request: HttpRequest) -> HttpResponse:
    return _respond(incidents_payload())


@require_safe
def incidents_unresolved(request: HttpRequest) -> HttpResponse:
    return _respond(incidents_unresolved_payload())


@require_safe
def scheduled_maintenances(request: HttpRequest) -> HttpResponse:
    return _respond(scheduled_maintenances_payload())


@require_safe
def scheduled_maintenances_upcoming(request: HttpRequest) -> HttpResponse:
    return _respond(scheduled_maintenances_upcoming_payload())


@require_safe
def scheduled_maintenances_active(request: HttpRequest) -> HttpResponse:
    return _respond(scheduled_maintenances_active_payload())
