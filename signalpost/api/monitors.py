"""/api/v1/monitors: the monitors as the console shows them, and made, changed, paused, resumed and
removed by scripts. A monitor's fields are those of the YAML file (docs/monitoring.md) and are checked by
the same rules (signalpost.monitors.config): a mistake is a 422 naming the field, with the message the
file would get. Reading needs a read token; pausing and resuming a write token (as an override does);
creating, changing and removing an admin token (as components).

The fields' schemas are built from the file's field list, so a field added there is in the API too.
"""

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import WithJsonSchema, create_model

from signalpost.errors import InvalidInput, NotFound
from signalpost.monitors import config, overview
from signalpost.monitors.models import Monitor, State, Verdict

from . import auth
from .idempotency import idempotent
from .schemas import ERRORS, ErrorOut, Input, Paged, PageParams

router = Router(tags=["monitors"])

StateName = Literal[(*State.values, "paused")]  # type: ignore[valid-type]
VerdictName = Literal[tuple(Verdict.values)]  # type: ignore[valid-type]
LinkStatus = Literal[tuple(config.STATUSES)]  # type: ignore[valid-type]

# --- schemas, from the file's fields -------------------------------------------------------------------

_STATUS_SCHEMA = {"type": "string", "enum": list(config.STATUSES)}
_LINK_SCHEMA = {"anyOf": [
    {"type": "string", "description": 'a component: its id, name or "Group/Name"'},
    {"type": "object", "required": ["component"], "additionalProperties": False,
     "properties": {"component": {"type": "string"}, "down": _STATUS_SCHEMA, "degraded": _STATUS_SCHEMA}},
]}


def _json_schema(key: str) -> dict:
    """What the API document says a field takes (what is accepted is for config.py to say)."""
    kind = config.FORM[key][2]
    nullable = config.DEFAULTS[key] is None
    if kind == "number":
        schema: dict = {"type": "number" if key == "timeout" else "integer"}
    elif kind == "flag":
        schema = {"type": "boolean"}
    elif kind == "choice":
        schema = {"type": "string", "enum": list(config.CHOICES[key])}
    elif kind == "list":
        schema = {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}
    elif kind == "mapping":
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
    elif kind == "components":
        schema = {"type": "array", "items": _LINK_SCHEMA}
    elif kind == "json":
        schema = {}  # any JSON value
    else:
        schema = {"type": "string"}
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    help_text = config.FORM[key][1]
    only = f" ({config.ONLY[key]} monitors only)" if key in config.ONLY else ""
    default = f" Default: {config.DEFAULTS[key]!r}." if config.DEFAULTS[key] not in (None, "", [], {}) else ""
    return {**schema, "description": (help_text + only + default).strip() or config.FORM[key][0]}


def _input_model(name: str, required: tuple[str, ...]):
    fields: dict[str, Any] = {"name": (Annotated[Any, WithJsonSchema({"type": "string", "description": "unique"})],
                                       ... if "name" in required else None)}
    for key in config.DEFAULTS:
        fields[key] = (Annotated[Any, WithJsonSchema(_json_schema(key))], ... if key in required else None)
    return create_model(name, __base__=Input, **fields)


MonitorIn = _input_model("MonitorIn", ("name", "target"))
MonitorPatch = _input_model("MonitorPatch", ())

_OUT_TYPES = {"number": int | None, "flag": bool | None, "text": str | None, "long_text": str | None,
              "choice": str | None, "list": list[int | str] | None, "mapping": dict[str, str] | None,
              "json": Any}


class LinkOut(Schema):
    id: str
    name: str
    group: str | None
    down: LinkStatus
    degraded: LinkStatus


class CheckOut(Schema):
    at: datetime
    location: str
    verdict: VerdictName
    latency_ms: int | None
    status_code: int | None
    reason: str


class ProblemOut(Schema):
    at: datetime | None
    reason: str
    location: str = Field(description="where it is seen now; empty for a past failure")


class LocationOut(Schema):
    location: str
    state: StateName
    last_at: datetime | None
    last_verdict: str
    last_reason: str
    last_status_code: int | None


class StateChangeOut(Schema):
    at: datetime
    from_state: StateName
    to_state: StateName
    reason: str


_settings = {key: (_OUT_TYPES["number"] if key != "timeout" else float | None, None)
             for key in config.DEFAULTS if config.FORM[key][2] == "number"}
_settings |= {key: (_OUT_TYPES[config.FORM[key][2]], None) for key in config.DEFAULTS
              if config.FORM[key][2] not in ("number", "components")}
MonitorSettings = create_model("MonitorSettings", __base__=Schema, **_settings)


class MonitorOut(MonitorSettings):  # type: ignore[misc,valid-type]
    id: str
    name: str
    kind: str
    target: str
    components: list[LinkOut]
    state: StateName = Field(description="up, degraded, down, unknown (not checked enough yet), or paused")
    state_since: datetime | None
    state_reason: str
    last_check: CheckOut | None
    last_problem: ProblemOut | None = Field(description="a failure or warning seen now at a location, else the "
                                                        "reason of its latest change to down or degraded")
    created_at: datetime
    updated_at: datetime


class MonitorDetailOut(MonitorOut):
    locations: list[LocationOut]
    state_changes: list[StateChangeOut] = Field(description=f"the latest {overview.STATE_CHANGES_SHOWN}, newest "
                                                            "first")
    results: list[CheckOut] = Field(description=f"the latest {overview.RESULTS_SHOWN} raw results, newest first")


class MonitorFilters(PageParams):
    state: StateName | None = None


# --- rendering ------------------------------------------------------------------------------------------


def _check(result) -> dict | None:
    if result is None:
        return None
    return {"at": result.at, "location": result.location, "verdict": result.verdict, "latency_ms": result.latency_ms,
            "status_code": result.status_code, "reason": result.reason}


def _out(summary: overview.Summary) -> dict:
    monitor = summary.monitor
    values = config.monitor_values(monitor)
    own = set(config.fields_of(monitor.kind))
    if monitor.kind == "heartbeat":
        own.add("uuid")  # the secret of its ping URL, which its job is given
    body = {key: values[key] for key in config.DEFAULTS if key != "components" and key in own}
    if "json_expected" in body:  # kept as JSON text: the answer has the value itself
        body["json_expected"] = json.loads(body["json_expected"]) if body["json_expected"] else None
    problem = summary.last_problem
    return {
        **body, "id": monitor.public_id, "name": monitor.name,
        "components": [{"id": link.component.public_id, "name": link.component.name,
                        "group": link.component.group.name if link.component.group_id else None,
                        "down": link.down_status, "degraded": link.degraded_status} for link in summary.links],
        "state": summary.state, "state_since": summary.since, "state_reason": monitor.state_reason,
        "last_check": _check(summary.last_check),
        "last_problem": None if problem is None else {"at": problem.at, "reason": problem.reason,
                                                      "location": problem.location},
        "created_at": monitor.created_at, "updated_at": monitor.updated_at,
    }


def _detail(monitor: Monitor) -> dict:
    found = overview.detail(monitor)
    return {
        **_out(found),
        "locations": [{"location": s.location, "state": s.state, "last_at": s.last_at, "last_verdict": s.last_verdict,
                       "last_reason": s.last_reason, "last_status_code": s.last_status_code} for s in found.locations],
        "state_changes": [{"at": c.at, "from_state": c.from_state, "to_state": c.to_state, "reason": c.reason}
                          for c in found.state_changes],
        "results": [_check(r) for r in found.results],
    }


def _monitor(monitor_id: str) -> Monitor:
    monitor = overview.find(monitor_id)
    if monitor is None:
        raise NotFound(f'no monitor with id "{monitor_id}"')
    return monitor


def _refused(bad: config.BadMonitor) -> Status:
    errors = [{"field": key, "message": message} for key, message in bad.problems]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Status(422, ErrorOut(detail=f"Invalid input: {bad.field} {bad.message}{more}.", errors=errors))


# --- operations -----------------------------------------------------------------------------------------


@router.get("", response={200: Paged[MonitorOut], **ERRORS}, summary="List monitors with their state, by name")
def list_monitors(request: HttpRequest, filters: Query[MonitorFilters]):
    found = Monitor.objects.order_by("name")
    if filters.state == "paused":
        found = found.filter(paused=True)
    elif filters.state is not None:
        found = found.filter(paused=False, state=filters.state)
    start = (filters.page - 1) * filters.per_page
    page = list(found[start:start + filters.per_page])
    return {"items": [_out(s) for s in overview.summaries(page)], "count": found.count(), "page": filters.page,
            "per_page": filters.per_page}


@router.post("", auth=auth.admin, response={201: MonitorDetailOut, **ERRORS},
             summary="Create a monitor (the fields of the monitors file)")
@idempotent
def create_monitor(request: HttpRequest, payload: MonitorIn):  # type: ignore[valid-type]
    try:
        monitor = config.create(payload.model_dump(exclude_unset=True))
    except config.BadMonitor as bad:
        return _refused(bad)
    return Status(201, _detail(monitor))


@router.get("/{monitor_id}", response={200: MonitorDetailOut, **ERRORS},
            summary="Show a monitor: its state at each location, its state changes and latest results")
def get_monitor(request: HttpRequest, monitor_id: str):
    return _detail(_monitor(monitor_id))


@router.patch("/{monitor_id}", auth=auth.admin, response={200: MonitorDetailOut, **ERRORS},
              summary="Change a monitor's fields (those not given stay as they are)")
def patch_monitor(request: HttpRequest, monitor_id: str, payload: MonitorPatch):  # type: ignore[valid-type]
    monitor = _monitor(monitor_id)
    try:
        config.change(monitor, payload.model_dump(exclude_unset=True))
    except config.BadMonitor as bad:
        return _refused(bad)
    return _detail(monitor)


@router.delete("/{monitor_id}", auth=auth.admin, response={204: None, **ERRORS},
               summary="Remove a monitor: the status it gave its components is cleared")
def delete_monitor(request: HttpRequest, monitor_id: str):
    config.remove(_monitor(monitor_id))
    return Status(204, None)


@router.post("/{monitor_id}/pause", auth=auth.write, response={200: MonitorDetailOut, **ERRORS},
             summary="Pause a monitor: not checked, and the status it gave its components cleared")
@idempotent
def pause_monitor(request: HttpRequest, monitor_id: str):
    monitor = _monitor(monitor_id)
    if not config.pause(monitor):
        raise InvalidInput("state", "is paused already")
    return _detail(_monitor(monitor_id))


@router.post("/{monitor_id}/resume", auth=auth.write, response={200: MonitorDetailOut, **ERRORS},
             summary="Resume a paused monitor: checked again, its runs started afresh")
@idempotent
def resume_monitor(request: HttpRequest, monitor_id: str):
    monitor = _monitor(monitor_id)
    if not config.resume(monitor):
        raise InvalidInput("state", f"is {overview.state_of(monitor)}: only a paused monitor is resumed")
    return _detail(_monitor(monitor_id))
