"""What goes in and out of /api/v1: typed schemas (they are the OpenAPI document) and the functions
that turn model objects into the output shapes.

Optional fields of PATCH bodies are declared `x: str = None`: absent means "leave as it is", while an
explicit null is refused by the type (only fields that may really be empty, like a component's group,
accept null)."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from signalpost.status import readable, validation
from signalpost.status import reminders as reminder_offsets
from signalpost.status.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceStatus,
    Page,
    StatusOverride,
)

# Literal types built from the models' choices, so the OpenAPI document lists the allowed values.
ComponentStatusName = Literal[tuple(ComponentStatus.values)]  # type: ignore[valid-type]
IncidentStatusName = Literal[tuple(IncidentStatus.values)]  # type: ignore[valid-type]
MaintenanceStatusName = Literal[tuple(MaintenanceStatus.values)]  # type: ignore[valid-type]
ImpactName = Literal[tuple(Impact.values)]  # type: ignore[valid-type]
IncidentImpactName = Literal[tuple(v for v in Impact.values if v != Impact.MAINTENANCE)]  # type: ignore[valid-type]

# --- the accepted ranges (signalpost/status/validation.py), as types the OpenAPI document describes ----

# An ISO-8601 date and time: a number ("0.5", 1700000000) is not taken as a Unix time.
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
INSTANT_TEXT = (f"an ISO-8601 date and time with an offset (e.g. 2026-11-25T14:00:00Z), from {validation.RANGE_TEXT}, "
                "offset at most ±15:59")


def _iso_only(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise PydanticCustomError("datetime_parsing", "not an ISO-8601 date and time")
    return value


def _in_range(value: datetime) -> datetime:
    problem = validation.instant_problem(value)
    if problem is not None:
        raise PydanticCustomError("instant_range", problem)
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_range),
                    Field(description=INSTANT_TEXT)]


def _day_in_range(value: date) -> date:
    problem = validation.day_problem(value)
    if problem is not None:
        raise PydanticCustomError("date_range", problem)
    return value


Day = Annotated[date, AfterValidator(_day_in_range)]
Position = Annotated[int, Field(ge=validation.INT_MIN, le=validation.INT_MAX)]
# Text a person must give: at least one character that is not a space (the services strip it).
Required = Annotated[str, Field(min_length=1, pattern=r"\S")]


def _unstorable(value: Any) -> str | None:
    """What in a value (a text, a list of texts, a mapping's keys and values) cannot be stored."""
    if isinstance(value, str):
        return validation.text_problem(value)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key) or _unstorable(item)
            if problem:
                return problem
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = _unstorable(item)
            if problem:
                return problem
    return None


class Checked(Schema):
    """Every field of a request, body or query, is held to what the databases can keep: no NUL
    characters or lone surrogates in a text, no whole number beyond a 64-bit column."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        problem = _unstorable(value)
        if problem is not None:
            raise PydanticCustomError("unstorable_text", problem)
        if isinstance(value, int) and not isinstance(value, bool):
            problem = validation.integer_problem(value, -(2**63), 2**63 - 1)
            if problem is not None:
                raise PydanticCustomError("integer_range", problem)
        return value


# {component id, name or "Group/Name": status}
ComponentStatuses = dict[str, ComponentStatusName]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_or_moment(value: Any, handler) -> datetime | date:
    """"2015-07-22" when only the date is known; any other value must be a date and time with an offset."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None  # "2015-02-30": refused below as a date and time
        if day is not None:
            return _day_in_range(day)
    return _in_range(handler(_iso_only(value)))


# A time that may be known by its date alone (shown as that date, with no clock time).
DateOrMoment = Annotated[
    AwareDatetime, WrapValidator(_date_or_moment),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}],
                    "description": INSTANT_TEXT + "; or a date alone (2015-07-22) when the time is not known"}),
]


class Input(Checked):
    # A misspelt field must not be silently ignored: "nmae" would leave the name unchanged.
    model_config = ConfigDict(extra="forbid")


# --- errors and pagination ----------------------------------------------------------------------


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


# 413, 415 and 503 come from signalpost/middleware.py (a body too large, not JSON; the database unreachable).
ERRORS = {frozenset({400, 401, 403, 404, 409, 413, 415, 422, 503}): ErrorOut}


def _field_name(loc: tuple) -> str:
    """("body", "payload", "components", "zh1") -> "components.zh1"; list positions as [n]."""
    parts = list(loc[2:] if loc and loc[0] == "body" else loc[1:])
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


_SIMPLE_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "timezone_aware": "must include a time zone offset (e.g. 2026-11-25T14:00:00Z)",
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must not be empty",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
    "list_type": "must be a list",
}


def _message(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "literal_error":
        return f"must be one of: {ctx.get('expected', '')}".replace("'", "")
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return "must be a JSON object"
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return "must be an ISO-8601 date and time with an offset (e.g. 2026-11-25T14:00:00Z)"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"):
        return "must be an ISO-8601 date (e.g. 2026-11-25)"
    if kind in _SIMPLE_MESSAGES:
        return _SIMPLE_MESSAGES[kind].format(**ctx)
    message = error.get("msg", "is not valid")
    return message[:1].lower() + message[1:]


def field_errors(validation_errors: list[dict]) -> list[dict]:
    """ninja's validation errors (pydantic's, with a location) as [{"field", "message"}]."""
    return [{"field": _field_name(tuple(e.get("loc", ()))), "message": _message(e)} for e in validation_errors]


Item = TypeVar("Item")


class Paged(Schema, Generic[Item]):
    items: list[Item]
    count: int
    page: int
    per_page: int


class PageParams(Checked):
    page: int = Field(1, ge=1, le=validation.PAGE_MAX)
    per_page: int = Field(50, ge=1, le=100)


# --- page -------------------------------------------------------------------------------------------


class PageOut(Schema):
    name: str
    url: str
    time_zone: str


class PagePatch(Input):
    name: Required = None
    url: str = None
    time_zone: str = None


class StatusComponentOut(Schema):
    id: str
    name: str
    group: str | None
    hidden: bool
    status: ComponentStatusName


class StatusOut(Schema):
    indicator: Literal["none", "minor", "major", "critical", "maintenance"]
    description: str
    components: list[StatusComponentOut]


# --- groups and components --------------------------------------------------------------------------


class GroupOut(Schema):
    id: str
    name: str
    description: str
    position: int
    hidden: bool
    created_at: datetime
    updated_at: datetime


class GroupIn(Input):
    name: Required
    description: str = ""
    position: Position | None = None
    hidden: bool = False


class GroupPatch(Input):
    name: Required = None
    description: str = None
    position: Position = None
    hidden: bool = None


class GroupRef(Schema):
    id: str
    name: str


class OverrideOut(Schema):
    status: ComponentStatusName
    reason: str
    set_at: datetime


class ComponentOut(Schema):
    id: str
    name: str
    description: str
    group: GroupRef | None
    position: int
    hidden: bool
    third_party: bool
    only_show_if_degraded: bool
    status: ComponentStatusName
    override: OverrideOut | None
    created_at: datetime
    updated_at: datetime


class ComponentIn(Input):
    name: Required
    description: str = ""
    group: str | None = Field(None, description="the group's id or name")
    position: Position | None = None
    hidden: bool = False
    third_party: bool = False
    only_show_if_degraded: bool = False


class ComponentPatch(Input):
    name: Required = None
    description: str = None
    group: str | None = Field(None, description="the group's id or name; null takes the component out of its group")
    position: Position = None
    hidden: bool = None
    third_party: bool = None
    only_show_if_degraded: bool = None


class ComponentFilters(PageParams):
    group: str | None = Field(None, description="only components of this group (id or name)")
    hidden: bool | None = None


class OverrideIn(Input):
    status: ComponentStatusName
    reason: str = ""


# --- incidents and maintenance ----------------------------------------------------------------------


class AffectedOut(Schema):
    id: str
    name: str
    group: str | None
    status: ComponentStatusName


class ChangeOut(Schema):
    id: str
    name: str
    old_status: ComponentStatusName
    new_status: ComponentStatusName


class UpdateOut(Schema):
    id: str
    status: str
    body: str
    display_at: datetime | date = Field(description="a date alone (2015-07-22) when only the date is known")
    created_at: datetime
    edited_at: datetime | None = Field(None, description="when the text was last corrected after posting")
    deliver_notifications: bool
    components: list[ChangeOut]


class IncidentOut(Schema):
    id: str
    name: str
    status: IncidentStatusName
    impact: ImpactName
    retroactive: bool
    started_at: datetime | date | None = Field(description="a date alone when only the date is known")
    monitoring_at: datetime | None
    resolved_at: datetime | date | None = Field(description="a date alone when only the date is known")
    impact_started_at: datetime | None = Field(description="when customers began to be affected, if given")
    impact_ended_at: datetime | None = Field(description="when customers stopped being affected, if given")
    created_at: datetime
    updated_at: datetime
    url: str
    components: list[AffectedOut]
    updates: list[UpdateOut]


class MaintenanceOut(IncidentOut):
    status: MaintenanceStatusName
    scheduled_for: datetime
    scheduled_until: datetime
    auto_start: bool
    auto_complete: bool
    reminders: list[str] | None = Field(description='its own reminders before it starts ("24h", "30m"), longest '
                                                    "first; null: the page's (SIGNALPOST_NOTIFY_REMINDERS)")


class BackfillUpdateIn(Input):
    display_at: DateOrMoment
    status: IncidentStatusName = "identified"
    body: str = ""
    components: ComponentStatuses = {}


class IncidentIn(Input):
    """An incident happening now; or, when `resolved_at` is given, a past incident recorded after the
    fact (retroactive: started_at, resolved_at, resolution_body and updates apply, nobody is notified)."""

    name: Required
    status: IncidentStatusName = "investigating"
    impact: IncidentImpactName = "minor"
    body: str = ""
    components: ComponentStatuses = Field({}, description='{component id, name or "Group/Name": status}')
    display_at: DateOrMoment | None = Field(None, description="when it began, if earlier than now (a date alone "
                                                               "when the time is unknown)")
    deliver_notifications: bool = True
    started_at: DateOrMoment | None = Field(None, description="past incident only")
    resolved_at: DateOrMoment | None = Field(None, description="past incident only: makes this a backfill")
    impact_started_at: Instant | None = Field(None, description="when customers began to be affected")
    impact_ended_at: Instant | None = Field(None, description="when customers stopped being affected")
    resolution_body: str | None = Field(None, description="past incident only")
    updates: list[BackfillUpdateIn] = Field([], description="past incident only: updates between start and end")


class IncidentPatch(Input):
    name: Required = None
    impact: IncidentImpactName = None
    impact_started_at: Instant | None = Field(None, description="null clears it")
    impact_ended_at: Instant | None = Field(None, description="null clears it")


class IncidentUpdateIn(Input):
    status: IncidentStatusName
    body: str = ""
    components: ComponentStatuses | None = None
    impact: IncidentImpactName | None = None
    display_at: DateOrMoment | None = Field(None, description="a date alone when the time is unknown")
    reopen: bool = Field(False, description="required to post to a resolved incident")
    deliver_notifications: bool = True


class IncidentFilters(PageParams):
    status: IncidentStatusName | None = None
    open: bool | None = Field(None, description="true: unresolved only; false: resolved only")
    since: Instant | None = Field(None, description="started at or after")
    until: Instant | None = Field(None, description="started before")


class MaintenanceIn(Input):
    name: Required
    scheduled_for: Instant
    scheduled_until: Instant
    body: str = ""
    components: list[str] = Field([], description='component ids, names or "Group/Name"')
    impact: ImpactName = "maintenance"
    auto_start: bool = True
    auto_complete: bool = True
    deliver_notifications: bool = True
    display_at: Instant | None = Field(None, description="when it was announced, if not now (not in the future)")
    impact_started_at: Instant | None = Field(None, description="when customers began to be affected")
    impact_ended_at: Instant | None = Field(None, description="when customers stopped being affected")
    reminders: list[str] | None = Field(None, description='reminders before it starts, e.g. ["24h", "1h"] (h or m, at most 30 days '
                                                 "and 10 of them); null: the page's default; []: none")


class MaintenancePatch(Input):
    name: Required = None
    impact: ImpactName = None
    impact_started_at: Instant | None = Field(None, description="null clears it")
    impact_ended_at: Instant | None = Field(None, description="null clears it")
    reminders: list[str] | None = Field(None, description='reminders before it starts, e.g. ["24h", "1h"] (h or m, at most 30 days '
                                                 "and 10 of them); null: the page's default; []: none")


class MaintenanceUpdateIn(Input):
    status: MaintenanceStatusName
    body: str = ""
    scheduled_until: Instant | None = Field(None, description="a new end of the window (an overrun)")
    components: ComponentStatuses | None = None
    display_at: DateOrMoment | None = Field(None, description="show the update as posted at this earlier time; a "
                                                               "date alone when the time is unknown")
    deliver_notifications: bool = True
    overrun: bool = Field(False, description="it takes longer than planned: without a new scheduled_until, the "
                                             "window stays open until it is completed")


class MaintenanceFilters(PageParams):
    status: MaintenanceStatusName | None = None
    upcoming: bool | None = Field(None, description="true: scheduled, not yet started")
    active: bool | None = Field(None, description="true: in progress or verifying")


# --- rendering ----------------------------------------------------------------------------------------


def page_out(page: Page) -> dict:
    return {"name": page.name, "url": page.url, "time_zone": page.time_zone}


def group_out(group: ComponentGroup) -> dict:
    return {
        "id": group.public_id, "name": group.name, "description": group.description, "position": group.position,
        "hidden": group.hidden, "created_at": group.created_at, "updated_at": group.updated_at,
    }


def component_out(component: Component, status: str) -> dict:
    """`component` comes with its group and `open_overrides` (a prefetch of the uncleared override)."""
    override: StatusOverride | None = next(iter(component.open_overrides), None)
    group = component.group
    if override is not None:
        override = {"status": override.status, "reason": override.reason, "set_at": override.set_at}
    return {
        "id": component.public_id, "name": component.name, "description": component.description,
        "group": {"id": group.public_id, "name": group.name} if group else None,
        "position": component.position, "hidden": component.hidden, "third_party": component.third_party,
        "only_show_if_degraded": component.only_show_if_degraded, "status": status,
        "override": override,
        "created_at": component.created_at, "updated_at": component.updated_at,
    }


def update_out(update: IncidentUpdate) -> dict:
    return {
        "id": update.public_id, "status": update.status, "body": update.body,
        "display_at": update.display_on or update.display_at,
        "created_at": update.created_at, "edited_at": update.edited_at,
        "deliver_notifications": update.deliver_notifications,
        "components": [
            {"id": change.component.public_id, "name": change.component.name,
             "old_status": change.old_status, "new_status": change.new_status}
            for change in update.component_changes.all()
        ],
    }


def incident_out(incident: Incident) -> dict:
    """`incident` comes with its affected components and updates prefetched (see views.with_details)."""
    result = {
        "id": incident.public_id, "name": incident.name, "status": incident.status, "impact": incident.impact,
        "retroactive": incident.retroactive, "started_at": incident.started_on or incident.started_at,
        "monitoring_at": incident.monitoring_at, "resolved_at": incident.resolved_on or incident.resolved_at,
        "impact_started_at": incident.impact_started_at, "impact_ended_at": incident.impact_ended_at,
        "created_at": incident.created_at, "updated_at": incident.updated_at,
        "url": settings.SITE_URL + incident.public_path,
        "components": [
            {
                "id": link.component.public_id, "name": link.component.name,
                "group": link.component.group.name if link.component.group else None, "status": link.status,
            }
            for link in incident.affected.all()
        ],
        "updates": [update_out(u) for u in incident.updates.all()],
    }
    if incident.is_maintenance:
        result.update(
            scheduled_for=incident.scheduled_for, scheduled_until=incident.scheduled_until,
            auto_start=incident.auto_start, auto_complete=incident.auto_complete,
            reminders=reminder_offsets.texts(incident.reminders),
        )
    return result


# --- what the renderers read, prefetched -------------------------------------------------------


def updates_with_changes() -> QuerySet:
    changes = AffectedComponent.objects.select_related("component").order_by("id")
    return IncidentUpdate.objects.filter(readable.updates()).prefetch_related(Prefetch("component_changes", queryset=changes))


def with_details(incidents: QuerySet) -> QuerySet:
    """Everything incident_out renders, in a fixed number of queries however many incidents."""
    affected = IncidentComponent.objects.select_related("component__group").order_by(
        F("component__group__position").asc(nulls_first=True), "component__position", "component__name"
    )
    return incidents.prefetch_related(
        Prefetch("affected", queryset=affected), Prefetch("updates", queryset=updates_with_changes())
    )
