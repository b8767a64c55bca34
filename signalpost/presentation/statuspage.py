"""Statuspage's v2 shapes of the page, its components, incidents and their updates: what /api/v2 serves
and what webhooks carry, built in one place so that both say the same thing the same way.

A `Render` reads the page, its visible components and their current statuses once; every object is
built from it, so that the objects of one rendering agree with each other.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from signalpost.presentation.zone import page_zone
from signalpost.status import derive, readable, services
from signalpost.status.layout import layout
from signalpost.status.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    MaintenanceStatus,
    Page,
)

Json = dict[str, object]
ACTIVE_MAINTENANCE = [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]


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
class Render:
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


_shared: ContextVar[dict | None] = ContextVar("statuspage_shared_rendering", default=None)


@contextmanager
def shared_rendering() -> Iterator[None]:
    """Inside this block every payload reads the page, components and statuses once, at one instant:
    the snapshot publisher renders all eight endpoints in one go."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def prepare(now: datetime | None = None) -> Render:
    shared = _shared.get()
    if shared is not None and "render" in shared:
        return shared["render"]
    render = build_render(now)
    if shared is not None:
        shared["render"] = render
    return render


def build_render(now: datetime | None = None, zone: ZoneInfo | None = None) -> Render:
    """A fresh rendering; `zone`: the one timestamps are given in (the page's by default)."""
    now = now or timezone.now()
    page = services.get_page()
    zone = zone or page_zone(page)
    # The page's order; a group with no visible component is left out, as Statuspage has no empty groups.
    shown = layout(visible_only=True)
    statuses = derive.current_statuses([c.pk for block in shown for c in block.components], now)
    render = Render(now, page, zone, statuses, [], {}, {})

    # Statuspage's `position` is one sequence over the whole page, children included; emitting the
    # rank keeps clients that sort by it in the page's order.
    for block in shown:
        if block.group is not None:
            members = block.components
            row = component_json(render, block.group, group_id=None, showcase=True)
            row["status"] = derive.worst(statuses[c.pk] for c in members)
            row["updated_at"] = render.ts(max([block.group.updated_at] + [c.updated_at for c in members]))
            row["group"] = True
            row["components"] = [c.public_id for c in members]
            render.component_rows.append(row)
            for member in members:
                add_component(render, member, group_id=block.group.public_id, showcase=False)
        else:
            add_component(render, block.components[0], group_id=None, showcase=True)
    return render


def component_json(render: Render, item: Component | ComponentGroup, *, group_id: str | None,
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


def add_component(render: Render, component: Component, *, group_id: str | None, showcase: bool) -> None:
    row = component_json(render, component, group_id=group_id, showcase=showcase)
    render.component_rows.append(row)
    render.component_by_pk[component.pk] = row
    render.position_by_pk[component.pk] = row["position"]


# --- incidents and maintenance ------------------------------------------------------------------


def with_history(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Updates newest first, each with its component changes, and the affected components: four
    queries for any number of incidents."""
    updates = IncidentUpdate.objects.filter(readable.updates()).order_by("-display_at", "-created_at", "-id").prefetch_related(
        Prefetch("component_changes", queryset=AffectedComponent.objects.order_by("id"))
    )
    return incidents.prefetch_related(
        Prefetch("updates", queryset=updates),
        Prefetch("affected", queryset=IncidentComponent.objects.order_by("id")),
    )


def v2_status(status: str) -> str:
    """Statuspage has no cancelled maintenance (it deletes one called off): a cancelled window is over,
    which its clients read as completed; the update's text says it was cancelled."""
    return MaintenanceStatus.COMPLETED if status == MaintenanceStatus.CANCELLED else status


def update_json(render: Render, incident: Incident, update: IncidentUpdate) -> Json:
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
        "status": v2_status(update.status),
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


def incident_json(render: Render, incident: Incident) -> Json:
    affected = [link.component_id for link in incident.affected.all() if link.component_id in render.component_by_pk]
    affected.sort(key=render.position_by_pk.__getitem__)
    data: Json = {
        "id": incident.public_id,
        "name": incident.name,
        "status": v2_status(incident.status),
        "created_at": render.ts(incident.created_at),
        "updated_at": render.ts(incident.updated_at),
        "monitoring_at": render.ts(incident.monitoring_at),
        "resolved_at": render.ts(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": settings.SITE_URL + incident.public_path,
        # A maintenance not yet begun has no start; Statuspage then gives its creation time.
        "started_at": render.ts(incident.started_at or incident.created_at),
        "page_id": render.page.public_id,
        "incident_updates": [update_json(render, incident, u) for u in incident.updates.all()],
        "components": [render.component_by_pk[pk] for pk in affected],
    }
    if incident.is_maintenance:
        data["scheduled_for"] = render.ts(incident.scheduled_for)
        data["scheduled_until"] = render.ts(incident.scheduled_until)
    return data


def status_json(render: Render) -> Json:
    indicator, description = derive.page_indicator(render.statuses, render.now)
    return {"indicator": indicator, "description": description}
