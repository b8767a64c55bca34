"""Monitors as code: every monitor as YAML (`export`), and a file applied to make the server match it
(`plan`, `apply`): monitors created, changed, paused (`paused: true`), and with `prune` the ones the
file does not name removed. A file with mistakes changes nothing and gets one line per mistake, naming
the monitor and the field.

The file:

    monitors:
      - name: API health
        target: https://api.example.com/health
        interval: 60              # seconds (default 60)
        components: [API]         # or [{component: API, down: partial_outage, degraded: degraded_performance}]
        keyword: '"ok": true'
      - name: Mail relay
        kind: tcp
        target: mail.example.com:25
"""

import socket
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.notify.outbound import Refused, address_problem, check_addresses, parse_url
from signalpost.status import services as status_services
from signalpost.status.models import ComponentStatus

from .engine import split_host_port
from .incidents import template_problem
from .models import (
    DEFAULT_INCIDENT_BODY,
    DEFAULT_INCIDENT_RESOLUTION,
    DEFAULT_INCIDENT_TITLE,
    HTTP_METHODS,
    IncidentMode,
    Monitor,
    MonitorComponent,
    MonitorKind,
    State,
    StateChange,
)
from .store import component_status

# The fields of a monitor in the file, with their defaults (None: required or none).
DEFAULTS: dict[str, Any] = {
    "kind": "http",
    "target": None,
    "interval": 60,
    "timeout": None,  # 10 s, or the interval when that is shorter
    "method": "GET",
    "headers": {},
    "body": "",
    "expected_status": ["2xx", "3xx"],
    "keyword": "",
    "keyword_absent": "",
    "degraded_above_ms": None,
    "follow_redirects": True,
    "verify_tls": True,
    "tls_expiry_days": 14,
    "paused": False,
    "failures_to_down": 3,
    "successes_to_up": 2,
    "locations_needed": None,
    "components": [],
    # The automatic incident: off, draft or publish; its texts; whether subscribers are told.
    "incident": {"mode": IncidentMode.OFF.value, "title": DEFAULT_INCIDENT_TITLE, "body": DEFAULT_INCIDENT_BODY,
                 "resolution": DEFAULT_INCIDENT_RESOLUTION, "notify": False},
}
HTTP_ONLY = ("method", "headers", "body", "expected_status", "keyword", "keyword_absent", "degraded_above_ms",
             "follow_redirects", "verify_tls", "tls_expiry_days")
STATUSES = [s for s in ComponentStatus.values if s != ComponentStatus.OPERATIONAL]
DEFAULT_DOWN, DEFAULT_DEGRADED = ComponentStatus.MAJOR_OUTAGE.value, ComponentStatus.DEGRADED_PERFORMANCE.value
MAX_INTERVAL = 86400


class BadFile(Exception):
    """The file's mistakes, one line each."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def default_timeout(interval: float) -> float:
    return float(min(10, interval))


# --- what a monitor is, as plain values -----------------------------------------------------------


def monitor_values(monitor: Monitor) -> dict[str, Any]:
    """Every field of the file, as the monitor has it now (components as (public id, down, degraded))."""
    links = MonitorComponent.objects.filter(monitor=monitor).select_related("component", "component__group")
    return {
        "kind": monitor.kind, "target": monitor.target, "interval": monitor.interval_seconds,
        "timeout": monitor.timeout_seconds, "method": monitor.method, "headers": dict(monitor.headers or {}),
        "body": monitor.body, "expected_status": list(monitor.expected_statuses or []),
        "keyword": monitor.keyword, "keyword_absent": monitor.keyword_absent,
        "degraded_above_ms": monitor.degraded_above_ms, "follow_redirects": monitor.follow_redirects,
        "verify_tls": monitor.verify_tls, "tls_expiry_days": monitor.tls_expiry_days, "paused": monitor.paused, "failures_to_down": monitor.failures_to_down,
        "successes_to_up": monitor.successes_to_up, "locations_needed": monitor.locations_needed,
        "components": sorted((link.component.public_id, link.down_status, link.degraded_status) for link in links),
        "incident": {"mode": monitor.incident_mode, "title": monitor.incident_title, "body": monitor.incident_body,
                     "resolution": monitor.incident_resolution, "notify": monitor.incident_notify},
    }


def _component_ref(component) -> str:
    return f"{component.group.name}/{component.name}" if component.group_id else component.name


def export() -> str:
    """Every monitor as the file that creates it: the fields that differ from their defaults."""
    from signalpost.status.models import Component

    items = []
    for monitor in Monitor.objects.order_by("name"):
        values = monitor_values(monitor)
        item: dict[str, Any] = {"name": monitor.name}
        for key, value in values.items():
            default = DEFAULTS[key] if key != "timeout" else default_timeout(values["interval"])
            if key == "components":
                continue
            if key == "incident":  # only the parts that differ
                if value != default:
                    item[key] = {part: text for part, text in value.items() if text != default[part]}
                continue
            if key in ("kind", "target", "interval") or value != default:
                item[key] = value
        components = Component.objects.select_related("group").in_bulk(
            [pid for pid, _, _ in values["components"]], field_name="public_id")
        refs = []
        for pid, down, degraded in values["components"]:
            ref = _component_ref(components[pid])
            if (down, degraded) == (DEFAULT_DOWN, DEFAULT_DEGRADED):
                refs.append(ref)
            else:
                refs.append({"component": ref, "down": down, "degraded": degraded})
        item["components"] = refs
        items.append(item)
    return yaml.safe_dump({"monitors": items}, sort_keys=False, allow_unicode=True, width=120)


# --- reading a file -------------------------------------------------------------------------------


@dataclass
class Spec:
    name: str
    values: dict[str, Any] = field(default_factory=dict)


def _check_target(kind: str, target: Any) -> str:
    """The target, or InvalidInput saying what is wrong (an internal address needs SIGNALPOST_OUTBOUND_ALLOW)."""
    if not isinstance(target, str) or not target.strip():
        raise ValueError("is required: a URL (http) or host:port (tcp)")
    target = target.strip()
    if len(target) > 2000:
        raise ValueError("is longer than 2000 characters")
    if kind == MonitorKind.HTTP:
        try:
            parsed = parse_url(target)
        except Refused as error:
            raise ValueError(str(error)) from None
        host, port = parsed.host, parsed.port
    else:
        try:
            host, port = split_host_port(target)
        except ValueError as error:
            raise ValueError(str(error)) from None
    _check_address(host, port)
    return target


def _check_address(host: str, port: int) -> None:
    """An internal address is refused now, not only at the first check: unless the setting allows it."""
    import ipaddress

    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        problem = address_problem(literal)
        if problem:
            raise ValueError(f"a monitor at an internal address must be allowed by SIGNALPOST_OUTBOUND_ALLOW: "
                             f"{problem}")
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return  # a name that does not resolve today is the check's failure to report, not the file's
    try:
        check_addresses(host, [info[4][0] for info in infos])
    except Refused as error:
        raise ValueError(f"a monitor at an internal address must be allowed by SIGNALPOST_OUTBOUND_ALLOW: "
                         f"{error}") from None


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"must be a whole number from {low} to {high}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"must be text of at most {limit} characters")
    return value


def _expected(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError('must be a list of status codes, classes ("2xx") or ranges ("200-299")')
    for item in value:
        text = str(item).strip().lower()
        ok = (isinstance(item, int) and 100 <= item <= 599) or (
            isinstance(item, str) and (len(text) == 3 and text[0] in "12345" and text[1:] == "xx"
                                       or ("-" in text and all(p.strip().isdigit() for p in text.split("-", 1)))
                                       or (text.isdigit() and 100 <= int(text) <= 599)))
        if not ok:
            raise ValueError(f'{item!r} is not a status code, a class ("2xx") or a range ("200-299")')
    return value


def _components(value: Any) -> list[tuple[str, str, str]]:
    if not isinstance(value, list):
        raise ValueError("must be a list of component names (or {component, down, degraded})")
    found = []
    for item in value:
        down, degraded = DEFAULT_DOWN, DEFAULT_DEGRADED
        if isinstance(item, dict):
            unknown = set(item) - {"component", "down", "degraded"}
            if unknown:
                raise ValueError(f"{sorted(unknown)[0]}: not a field of a component link (component, down, degraded)")
            ref, down, degraded = item.get("component"), item.get("down", down), item.get("degraded", degraded)
            for label, status in (("down", down), ("degraded", degraded)):
                if status not in STATUSES:
                    raise ValueError(f"{label}: must be one of {', '.join(STATUSES)}")
        else:
            ref = item
        if not isinstance(ref, str) or not ref.strip():
            raise ValueError("each must name a component")
        try:
            [component] = status_services.find_components([ref.strip()])
        except InvalidInput as error:
            raise ValueError(error.message) from None
        found.append((component.public_id, down, degraded))
    if len({pid for pid, _, _ in found}) != len(found):
        raise ValueError("names a component twice")
    return sorted(found)


def _incident(value: Any) -> dict[str, Any]:
    """The automatic incident's settings, the parts left out taking their defaults."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping: mode (off, draft, publish), title, body, resolution, notify")
    unknown = set(value) - set(DEFAULTS["incident"])
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: not a field of the automatic incident "
                         "(mode, title, body, resolution, notify)")
    settings = {**DEFAULTS["incident"], **value}
    if settings["mode"] not in IncidentMode.values:
        raise ValueError(f"mode: must be one of {', '.join(IncidentMode.values)}")
    for part, limit in (("title", 300), ("body", 10_000), ("resolution", 10_000)):
        text = settings[part]
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            raise ValueError(f"{part}: must be text of 1 to {limit} characters")
        problem = template_problem(text)
        if problem:
            raise ValueError(f"{part}: {problem}")
    if not isinstance(settings["notify"], bool):
        raise ValueError("notify: must be true or false")
    return settings


def _validate(item: dict, errors: list[str], label: str) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    before = len(errors)

    def fail(key: str, message: str) -> None:
        errors.append(f"{label}: {key}: {message}")

    unknown = [key for key in item if key not in DEFAULTS and key != "name"]
    for key in unknown:
        fail(key, "not a field of a monitor")
    kind = item.get("kind", DEFAULTS["kind"])
    if kind not in MonitorKind.values:
        fail("kind", f"must be one of {', '.join(MonitorKind.values)} (dns, icmp and heartbeat monitors are not "
                     "available yet)")
        return None
    values["kind"] = kind
    checks = {
        "interval": lambda v: _whole(v, 1, MAX_INTERVAL),
        "method": lambda v: _method(v),
        "headers": lambda v: _headers(v),
        "body": lambda v: _text(v, 100_000),
        "expected_status": _expected,
        "keyword": lambda v: _text(v, 500),
        "keyword_absent": lambda v: _text(v, 500),
        "degraded_above_ms": lambda v: None if v is None else _whole(v, 1, 600_000),
        "follow_redirects": _flag,
        "verify_tls": _flag,
        "tls_expiry_days": lambda v: _whole(v, 0, 365),
        "paused": _flag,
        "failures_to_down": lambda v: _whole(v, 1, 100),
        "successes_to_up": lambda v: _whole(v, 1, 100),
        "locations_needed": lambda v: None if v is None else _whole(v, 1, 100),
        "components": _components,
        "incident": _incident,
    }
    for key in DEFAULTS:
        if key in ("kind", "target", "timeout"):
            continue
        if kind != MonitorKind.HTTP and key in HTTP_ONLY and key in item:
            fail(key, f"is for http monitors only (this one is {kind})")
            continue
        value = item.get(key, DEFAULTS[key])
        try:
            values[key] = checks[key](value)
        except ValueError as error:
            fail(key, str(error))
    try:
        values["target"] = _check_target(kind, item.get("target"))
    except ValueError as error:
        fail("target", str(error))
    interval = values.get("interval", DEFAULTS["interval"])
    timeout = item.get("timeout")
    if timeout is None:
        values["timeout"] = default_timeout(interval)
    elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= interval:
        fail("timeout", f"must be a number of seconds above 0 and at most the interval ({interval})")
    else:
        values["timeout"] = float(timeout)
    return values if len(errors) == before else None


def _method(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in HTTP_METHODS:
        raise ValueError(f"must be one of {', '.join(HTTP_METHODS)}")
    return value.upper()


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("must map header names to text")
    for key, text in value.items():
        if not key.strip() or any(c in key + text for c in "\r\n"):
            raise ValueError(f"{key!r}: a header name and value are one line of text")
    return dict(value)


def parse(text: str) -> list[Spec]:
    """The monitors the file describes, checked; BadFile with every mistake otherwise."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise BadFile([f"{where}not valid YAML: {getattr(error, 'problem', None) or error}"]) from None
    if document is None:
        document = {"monitors": []}
    if not isinstance(document, dict) or set(document) - {"monitors"} or not isinstance(
            document.get("monitors", []), list):
        raise BadFile(["the file must be a mapping with one key, monitors: a list of monitors"])
    errors: list[str] = []
    specs: list[Spec] = []
    seen: set[str] = set()
    for position, item in enumerate(document.get("monitors") or [], start=1):
        if not isinstance(item, dict):
            errors.append(f"monitor {position}: must be a mapping of fields (name, target, ...)")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            errors.append(f"monitor {position}: name: is required (text of at most 200 characters)")
            continue
        name = name.strip()
        label = f"monitor '{name}'"
        if name in seen:
            errors.append(f"{label}: name: appears twice in the file")
            continue
        seen.add(name)
        values = _validate(item, errors, label)
        if values is not None:
            specs.append(Spec(name, values))
    if errors:
        raise BadFile(errors)
    return specs


# --- making the server match ------------------------------------------------------------------------


@dataclass
class Change:
    action: str  # create, change, remove
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # changed fields: (before, after)

    def line(self) -> str:
        if self.action == "create":
            return f"+ create monitor '{self.name}'"
        if self.action == "remove":
            return f"- remove monitor '{self.name}'"
        parts = [f"{key}: {_show(before)} → {_show(after)}" for key, (before, after) in self.fields.items()]
        return f"~ change monitor '{self.name}': " + "; ".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return "[" + ", ".join(f"{pid} ({down}, {degraded})" for pid, down, degraded in value) + "]"
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip() \
        if not isinstance(value, str) else repr(value)


def plan(specs: list[Spec], prune: bool = False) -> list[Change]:
    existing = {m.name: m for m in Monitor.objects.all()}
    changes = []
    for spec in specs:
        monitor = existing.get(spec.name)
        if monitor is None:
            changes.append(Change("create", spec.name))
            continue
        now = monitor_values(monitor)
        diff = {key: (now[key], value) for key, value in spec.values.items() if now[key] != value}
        if diff:
            changes.append(Change("change", spec.name, diff))
    if prune:
        named = {spec.name for spec in specs}
        changes += [Change("remove", name) for name in sorted(existing) if name not in named]
    return changes


COLUMNS = {"interval": "interval_seconds", "timeout": "timeout_seconds", "expected_status": "expected_statuses"}
INCIDENT_COLUMNS = {"mode": "incident_mode", "title": "incident_title", "body": "incident_body",
                    "resolution": "incident_resolution", "notify": "incident_notify"}


def apply(specs: list[Spec], prune: bool = False, dry_run: bool = False) -> list[Change]:
    """Make the monitors match the specs (in one transaction); returns what changed (or would)."""
    with transaction.atomic():
        changes = plan(specs, prune)
        if dry_run:
            return changes
        by_name = {spec.name: spec for spec in specs}
        now = timezone.now()
        for change in changes:
            if change.action == "remove":
                monitor = Monitor.objects.get(name=change.name)
                before = monitor_values(monitor)
                status_services.forget_source(monitor.source, now=now)
                audit.record("monitor.remove", monitor, before=before)
                monitor.delete()
                continue
            spec = by_name[change.name]
            monitor = Monitor.objects.filter(name=change.name).first() or Monitor(name=change.name, created_at=now)
            before = monitor_values(monitor) if monitor.pk else None
            for key, value in spec.values.items():
                if key == "incident":
                    for part, setting in value.items():
                        setattr(monitor, INCIDENT_COLUMNS[part], setting)
                elif key != "components":
                    setattr(monitor, COLUMNS.get(key, key), value)
            if before is not None and before["paused"] is False and spec.values["paused"]:
                if monitor.state != State.UNKNOWN:  # its history says when it stopped being watched
                    StateChange.objects.create(monitor=monitor, at=now, from_state=monitor.state,
                                               to_state=State.UNKNOWN, reason="paused")
                monitor.state, monitor.state_changed_at, monitor.state_reason = State.UNKNOWN, now, "paused"
            monitor.updated_at = now
            monitor.save()
            _link(monitor, spec.values["components"], now)
            if before is not None and ({"target", "kind"} & set(change.fields) or spec.values["paused"]):
                monitor.locations.all().delete()  # a new target, or a resumed monitor, starts its runs afresh
            if spec.values["paused"]:
                status_services.forget_source(monitor.source, now=now)
            after = monitor_values(monitor)
            audit.record("monitor.create" if before is None else "monitor.update", monitor, before=before,
                         after=after)
    return changes


def _link(monitor: Monitor, wanted: list[tuple[str, str, str]], now) -> None:
    """The monitor's components as the file gives them; each told the monitor's current verdict."""
    from signalpost.status.models import Component

    links = {link.component.public_id: link for link in
             MonitorComponent.objects.filter(monitor=monitor).select_related("component")}
    components = Component.objects.in_bulk([pid for pid, _, _ in wanted], field_name="public_id")
    for pid, down, degraded in wanted:
        link = links.pop(pid, None) or MonitorComponent(monitor=monitor, component=components[pid])
        if not link.pk or (link.down_status, link.degraded_status) != (down, degraded):
            link.down_status, link.degraded_status = down, degraded
            link.save()
        if not monitor.paused:
            status_services.set_signal(link.component, monitor.source, component_status(link, monitor.state),
                                       monitor.state_reason, now=now)
    for link in links.values():  # unlinked: the monitor no longer speaks for it
        status_services.set_signal(link.component, monitor.source, ComponentStatus.OPERATIONAL, now=now)
        link.delete()
