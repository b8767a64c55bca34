"""The Statuspage-compatible public API, /api/v2: the paths, field names, enum values, orderings and
shapes of Atlassian Statuspage's public API v2, so that existing widgets, aggregators and scripts work
against Signalpost by changing only the base URL.

These views are rendered when the public snapshot is published, not per reader: each payload depends
only on the database and the render time, and every list is read with a fixed number of queries.
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from signalpost.status import derive, readable, services
from signalpost.status.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Kind,
    MaintenanceStatus,
    Page,
)
from signalpost.presentation.zone import page_zone
from signalpost.status.layout import layout

CONTENT_TYPE = "application/json; charset=utf-8"
# Statuspage's incidents.json and scheduled-maintenances.json list "the 50 most recent".
RECENT_LIMIT = 50
ACTIVE_MAINTENANCE = [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]

Json = dict[str, object]


def format_timestamp(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO-8601 with milliseconds and the page zone's offset, as Statuspage serves it: `Z` for UTC
    (GitHub, Claude), the local offset otherwise (Discord: 2022-02-15T13:37:37.407-08:00)."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    if local.tzname() in ("UTC", "UCT"):
        suffix = "Z"
    else:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{suffix}"


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class _Render:
    """What every payload of one rendering shares: the page, its visible components and their
    current statuses, read once."""

    now: datetime
    page: Page
    zone: ZoneInfo
    statuses: dict[int, str]
    component_rows: list[Json]  # in page order: each group followed by its children
    component_by_pk: dict[int, Json]
    position_by_pk: dict[int, int]

    def ts(self, moment: datetime | None) -> str | None:
        return format_timestamp(moment, self.zone)

    def page_json(self) -> Json:
        return {
            "id": self.page.public_id,
            "name": self.page.name,
            "url": self.page.url or settings.SITE_URL,
            "time_zone": self.page.time_zone,
            "updated_at": self.ts(self.page.updated_at),
        }


_shared: ContextVar[dict | None] = ContextVar("api_v2_shared_rendering", default=None)


@contextmanager
def shared_rendering() -> Iterator[None]:
    """Inside this block every payload reads the page, components and statuses once, at one instant:
    the snapshot publisher renders all eight endpoints in one go."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def _prepare(now: datetime | None = None) -> _Render:
    shared = _shared.get()
    if shared is not None and "render" in shared:
        return shared["render"]
    render = _build_render(now)
    if shared is not None:
        shared["render"] = render
    return render


def _build_render(now: datetime | None = None) -> _Render:
    now = now or timezone.now()
    page = services.get_page()
    zone = page_zone(page)
    # The page's order; a group with no visible component is left out, as Statuspage has no empty groups.
    shown = layout(visible_only=True)
    statuses = derive.current_statuses([c.pk for block in shown for c in block.components], now)
    render = _Render(now, page, zone, statuses, [], {}, {})

    # Statuspage's `position` is one sequence over the whole page, children included; emitting the
    # rank keeps clients that sort by it in the page's order.
    for block in shown:
        if block.group is not None:
            members = block.components
            row = _component_json(render, block.group, group_id=None, showcase=True)
            row["status"] = derive.worst(statuses[c.pk] for c in members)
            row["updated_at"] = render.ts(max([block.group.updated_at] + [c.updated_at for c in members]))
            row["group"] = True
            row["components"] = [c.public_id for c in members]
            render.component_rows.append(row)
            for member in members:
                _add_component(render, member, group_id=block.group.public_id, showcase=False)
        else:
            _add_component(render, block.components[0], group_id=None, showcase=True)
    return render


def _component_json(render: _Render, item: Component | ComponentGroup, *, group_id: str | None,
                     showcase: bool) -> Json:
    is_component = isinstance(item, Component)
    return {
        "id": item.public_id,
        "name": item.name,
        "status": render.statuses.get(item.pk, derive.OPERATIONAL) if is_component else derive.OPERATIONAL,
        "created_at": render.ts(item.created_at),
        "updated_at": render.ts(item.updated_at),
        "position": len(render.component_rows) + 1,
        "description": item.description or None,
        "showcase": showcase,
        "start_date": _date(item.start_date) if is_component else None,
        "group_id": group_id,
        "page_id": render.page.public_id,
        "group": False,
        "only_show_if_degraded": item.only_show_if_degraded if is_component else False,
    }


def _add_component(render: _Render, component: Component, *, group_id: str | None, showcase: bool) -> None:
    row = _component_json(render, component, group_id=group_id, showcase=showcase)
    render.component_rows.append(row)
    render.component_by_pk[component.pk] = row
    render.position_by_pk[component.pk] = row["position"]


# --- incidents and maintenance ------------------------------------------------------------------


def _with_history(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Updates newest first, each with its component changes, and the affected components: four
    queries for any number of incidents."""
    updates = IncidentUpdate.objects.filter(readable.updates()).order_by("-display_at", "-created_at", "-id").prefetch_related(
        Prefetch("component_changes", queryset=AffectedComponent.objects.order_by("id"))
    )
    return incidents.prefetch_related(
        Prefetch("updates", queryset=updates),
        Prefetch("affected", queryset=IncidentComponent.objects.order_by("id")),
    )


def _v2_status(status: str) -> str:
    """Statuspage has no cancelled maintenance (it deletes one called off): a cancelled window is over,
    which its clients read as completed; the update's text says it was cancelled."""
    return MaintenanceStatus.COMPLETED if status == MaintenanceStatus.CANCELLED else status


def _update_json(render: _Render, incident: Incident, update: IncidentUpdate) -> Json:
    # Hidden components are not public: they are left out here as everywhere else.
    changes = [
        {
            "code": render.component_by_pk[change.component_id]["id"],
            "name": render.component_by_pk[change.component_id]["name"],
            "old_status": change.old_status,
            "new_status": change.new_status,
        }
        for change in update.component_changes.all()
        if change.component_id in render.component_by_pk
    ]
    return {
        "id": update.public_id,
        "status": _v2_status(update.status),
        "body": update.body,
        "incident_id": incident.public_id,
        "created_at": render.ts(update.created_at),
        "updated_at": render.ts(update.updated_at),
        "display_at": render.ts(update.display_at),
        "affected_components": changes or None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _incident_json(render: _Render, incident: Incident) -> Json:
    affected = [link.component_id for link in incident.affected.all() if link.component_id in render.component_by_pk]
    affected.sort(key=render.position_by_pk.__getitem__)
    data: Json = {
        "id": incident.public_id,
        "name": incident.name,
        "status": _v2_status(incident.status),
        "created_at": render.ts(incident.created_at),
        "updated_at": render.ts(incident.updated_at),
        "monitoring_at": render.ts(incident.monitoring_at),
        "resolved_at": render.ts(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": settings.SITE_URL + incident.public_path,
        # A maintenance not yet begun has no start; Statuspage then gives its creation time.
        "started_at": render.ts(incident.started_at or incident.created_at),
        "page_id": render.page.public_id,
        "incident_updates": [_update_json(render, incident, u) for u in incident.updates.all()],
        "components": [render.component_by_pk[pk] for pk in affected],
    }
    if incident.is_maintenance:
        data["scheduled_for"] = render.ts(incident.scheduled_for)
        data["scheduled_until"] = render.ts(incident.scheduled_until)
    return data


def _incidents() -> QuerySet[Incident]:
    newest = Coalesce("started_at", "created_at").desc()
    return Incident.objects.filter(readable.incidents(), kind=Kind.INCIDENT).order_by(newest, "-created_at", "-id")


def _maintenances() -> QuerySet[Incident]:
    return Incident.objects.filter(readable.incidents(), kind=Kind.MAINTENANCE)


def _soonest_first(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.order_by("scheduled_for", "created_at", "id")


def _listing(render: _Render, incidents: QuerySet[Incident]) -> list[Json]:
    return [_incident_json(render, i) for i in _with_history(incidents)]


def _status_json(render: _Render) -> Json:
    indicator, description = derive.page_indicator(render.statuses, render.now)
    return {"indicator": indicator, "description": description}


# --- payloads -----------------------------------------------------------------------------------


def summary_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    # Unresolved incidents and upcoming or running maintenance in one read.
    current = _with_history(
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
        "incidents": [_incident_json(render, i) for i in incidents],
        "scheduled_maintenances": [_incident_json(render, m) for m in maintenances],
        "status": _status_json(render),
    }


def status_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    return {"page": render.page_json(), "status": _status_json(render)}


def components_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    return {"page": render.page_json(), "components": render.component_rows}


def incidents_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    return {"page": render.page_json(), "incidents": _listing(render, _incidents()[:RECENT_LIMIT])}


def incidents_unresolved_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    return {"page": render.page_json(), "incidents": _listing(render, _incidents().filter(resolved_at__isnull=True))}


def scheduled_maintenances_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    recent = _maintenances().order_by("-scheduled_for", "-created_at", "-id")[:RECENT_LIMIT]
    return {"page": render.page_json(), "scheduled_maintenances": _listing(render, recent)}


def scheduled_maintenances_upcoming_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
    upcoming = _soonest_first(_maintenances().filter(status=MaintenanceStatus.SCHEDULED))
    return {"page": render.page_json(), "scheduled_maintenances": _listing(render, upcoming)}


def scheduled_maintenances_active_payload(now: datetime | None = None) -> Json:
    render = _prepare(now)
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
