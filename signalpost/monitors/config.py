"""Monitors as code: every monitor as YAML (`export`), and a file applied to make the server match it
(`plan`, `apply`): monitors created, changed, paused (`paused: true`), and with `prune` the ones the
file does not name removed. A file with mistakes changes nothing and gets one line per mistake, naming
the monitor and the field.

The same rules make and change one monitor for the console and the management API (`create`, `change`,
`pause`, `resume`, `remove`): a monitor is the same whichever way it came in, and refused with the same
messages (BadMonitor: one (field, message) per mistake).

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
      - name: Nightly backup
        kind: heartbeat               # also dns and icmp: see docs/monitoring.md
        cron: "30 2 * * *"
        tz: Europe/Zurich
"""

import json
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.notify.outbound import Refused, address_problem, check_addresses, parse_url
from signalpost.status import services as status_services
from signalpost.status.models import ComponentStatus

from . import heartbeat
from .engine import split_host_port
from .kinds import PING_FORBIDDEN, ping_allowed, split_resolver
from .models import DNS_RECORD_TYPES, HTTP_METHODS, Monitor, MonitorComponent, MonitorKind, State, StateChange
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
    "json_path": "",
    "json_expected": "",  # kept as JSON text: "" is no expected value, "null" expects a JSON null
    "degraded_above_ms": None,
    "follow_redirects": True,
    "verify_tls": True,
    "tls_expiry_days": 14,
    "record_type": "A",
    "expected": [],
    "resolver": "",
    "uuid": None,  # left out: a new heartbeat gets a random one, an existing one keeps its own
    "every": None,
    "cron": "",
    "tz": "UTC",
    "grace": 300,
    "paused": False,
    "failures_to_down": 3,
    "successes_to_up": 2,
    "locations_needed": None,
    "components": [],
}
HTTP_ONLY = ("method", "headers", "body", "expected_status", "keyword", "keyword_absent", "json_path",
             "json_expected", "degraded_above_ms", "follow_redirects", "verify_tls", "tls_expiry_days")
DNS_ONLY = ("record_type", "expected", "resolver")
HEARTBEAT_ONLY = ("uuid", "every", "cron", "tz", "grace")
CHECKED_ONLY = ("target", "interval", "timeout")  # every kind but heartbeat
ONLY = {**{key: MonitorKind.HTTP for key in HTTP_ONLY}, **{key: MonitorKind.DNS for key in DNS_ONLY},
        **{key: MonitorKind.HEARTBEAT for key in HEARTBEAT_ONLY}}
# A heartbeat's job reports its own failure: one missed ping is down, one ping after it is up.
HEARTBEAT_DEFAULTS = {"failures_to_down": 1, "successes_to_up": 1}
MAX_HEARTBEAT_SECONDS = 366 * 86400
# A cron heartbeat's interval (the gap between two of its times) is taken at one fixed moment, so that
# applying the same file again finds the same value.
CRON_REFERENCE = datetime(2026, 1, 5, tzinfo=dt_timezone.utc)


def default(kind: str, key: str) -> Any:
    if kind == MonitorKind.HEARTBEAT and key in HEARTBEAT_DEFAULTS:
        return HEARTBEAT_DEFAULTS[key]
    return DEFAULTS[key]


STATUSES = [s for s in ComponentStatus.values if s != ComponentStatus.OPERATIONAL]
DEFAULT_DOWN, DEFAULT_DEGRADED = ComponentStatus.MAJOR_OUTAGE.value, ComponentStatus.DEGRADED_PERFORMANCE.value
MAX_INTERVAL = 86400
NAME_PROBLEM = "is required (text of at most 200 characters)"

# How the console asks for each field: (label, help, input). The inputs: text, long_text, number, flag,
# choice (CHOICES gives the values), list (comma-separated), mapping ("Name: value" lines), components.
FORM: dict[str, tuple[str, str, str]] = {
    "kind": ("Kind", "", "choice"),
    "target": ("Target", "A URL (http), host:port (tcp), a name (dns) or a host (icmp).", "text"),
    "interval": ("Interval (seconds)", "How often it is checked; default 60.", "number"),
    "timeout": ("Timeout (seconds)", "At most the interval; empty: 10 s, or the interval when that is shorter.",
                "number"),
    "method": ("Method", "", "choice"),
    "headers": ("Headers", "One per line, as Name: value.", "mapping"),
    "body": ("Request body", "", "long_text"),
    "expected_status": ("Expected status codes", 'Codes (200), classes (2xx) or ranges (200-299), comma-separated; '
                        "default 2xx, 3xx.", "list"),
    "keyword": ("Keyword present", "Must appear in the first 64 KiB of the body.", "text"),
    "keyword_absent": ("Keyword absent", "Must not appear.", "text"),
    "json_path": ("JSON path", "A JSONPath into the answer's body ($.status); the check fails when it finds nothing.",
                  "text"),
    "json_expected": ("Expected JSON value", 'What every value the path finds must equal, as JSON ("ok", 3, true); '
                      "empty: anything found.", "json"),
    "degraded_above_ms": ("Degraded above (ms)", "An answer slower than this is degraded; empty: never.", "number"),
    "follow_redirects": ("Follow redirects", "", "flag"),
    "verify_tls": ("Verify the TLS certificate", "", "flag"),
    "tls_expiry_days": ("Warn of certificate expiry (days ahead)", "0: never.", "number"),
    "record_type": ("Record type", "", "choice"),
    "expected": ("Expected answers", "Comma-separated; each must be among the answers given; empty: any answer.",
                 "list"),
    "resolver": ("Resolver", "An IP address, with an optional port; empty: this machine's resolver.", "text"),
    "uuid": ("Ping UUID", "The secret in the job's ping URL; left out, one is made.", "text"),
    "every": ("Every (seconds)", "How often the job pings; or give a cron schedule.", "number"),
    "cron": ("Cron schedule", "When the job runs (30 2 * * *); or give every.", "text"),
    "tz": ("Time zone", "Of the cron schedule (Europe/Zurich); default UTC.", "text"),
    "grace": ("Grace (seconds)", "How late a ping may come before it counts as missed.", "number"),
    "paused": ("Paused", "A paused monitor is not checked and reports nothing.", "flag"),
    "failures_to_down": ("Failures to down", "Consecutive failed checks before a location says down.", "number"),
    "successes_to_up": ("Successes to up", "Consecutive good checks before a location says up again.", "number"),
    "locations_needed": ("Locations needed", "How many locations must agree; empty: a majority of those reporting.",
                         "number"),
    "components": ("Components", "The status each verdict gives each component it reports on.", "components"),
}
CHOICES: dict[str, tuple[str, ...]] = {"kind": tuple(MonitorKind.values), "method": HTTP_METHODS,
                                       "record_type": tuple(DNS_RECORD_TYPES)}


def fields_of(kind: str) -> list[str]:
    """The fields a monitor of this kind has, in the file's order."""
    beats = kind == MonitorKind.HEARTBEAT
    return [key for key in DEFAULTS
            if ONLY.get(key, kind) == kind and not (beats and key in CHECKED_ONLY) and key != "uuid"]


class BadFile(Exception):
    """The file's mistakes, one line each."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class BadMonitor(InvalidInput):
    """One monitor's mistakes, as (field, message) each; the first is the InvalidInput's field and message."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(*problems[0])
        self.problems = problems


def default_timeout(interval: float) -> float:
    return float(min(10, interval))


# --- what a monitor is, as plain values -----------------------------------------------------------


def monitor_values(monitor: Monitor) -> dict[str, Any]:
    """Every field of the file, as the monitor has it now (components as (public id, down, degraded))."""
    links = MonitorComponent.objects.filter(monitor=monitor).select_related("component", "component__group")
    beats = monitor.kind == MonitorKind.HEARTBEAT
    return {
        "kind": monitor.kind, "target": monitor.target, "interval": monitor.interval_seconds,
        "timeout": monitor.timeout_seconds, "method": monitor.method, "headers": dict(monitor.headers or {}),
        "body": monitor.body, "expected_status": list(monitor.expected_statuses or []),
        "keyword": monitor.keyword, "keyword_absent": monitor.keyword_absent,
        "json_path": monitor.json_path, "json_expected": monitor.json_expected,
        "degraded_above_ms": monitor.degraded_above_ms, "follow_redirects": monitor.follow_redirects,
        "verify_tls": monitor.verify_tls, "tls_expiry_days": monitor.tls_expiry_days,
        "record_type": monitor.record_type, "expected": list(monitor.dns_expected or []),
        "resolver": monitor.resolver,
        "uuid": str(monitor.heartbeat_key) if monitor.heartbeat_key else None,
        "every": monitor.interval_seconds if beats and not monitor.cron else None,
        "cron": monitor.cron, "tz": monitor.cron_zone or "UTC", "grace": monitor.grace_seconds,
        "paused": monitor.paused, "failures_to_down": monitor.failures_to_down,
        "successes_to_up": monitor.successes_to_up, "locations_needed": monitor.locations_needed,
        "components": sorted((link.component.public_id, link.down_status, link.degraded_status) for link in links),
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
        beats = monitor.kind == MonitorKind.HEARTBEAT
        for key, value in values.items():
            if key == "components" or (beats and key in CHECKED_ONLY) or ONLY.get(key, monitor.kind) != monitor.kind:
                continue
            wanted = default(monitor.kind, key) if key != "timeout" else default_timeout(values["interval"])
            if key in ("kind", "target", "interval", "uuid") or value != wanted:
                item[key] = json.loads(value) if key == "json_expected" else value
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
        raise ValueError("is required: a URL (http), host:port (tcp), a name (dns) or a host (icmp)")
    target = target.strip()
    if len(target) > 2000:
        raise ValueError("is longer than 2000 characters")
    if kind == MonitorKind.HTTP:
        try:
            parsed = parse_url(target)
        except Refused as error:
            raise ValueError(str(error)) from None
        host, port = parsed.host, parsed.port
    elif kind == MonitorKind.DNS:
        return _dns_name(target)  # only asked about, never connected to: the resolver obeys the rules
    elif kind == MonitorKind.ICMP:
        host, port = target.strip("[]").rstrip(".").lower(), 0
        if not host or any(c in host for c in "/@ ") or (":" in host and _ip(host) is None):
            raise ValueError("must be a host name or an IP address (no port, no URL)")
    else:
        try:
            host, port = split_host_port(target)
        except ValueError as error:
            raise ValueError(str(error)) from None
    _check_address(host, port)
    return target


def _ip(text: str):
    import ipaddress

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _dns_name(target: str) -> str:
    import dns.exception
    import dns.name

    if any(c in target for c in "/@: ") or target.startswith("."):
        raise ValueError("must be a DNS name (www.example.com), without a scheme or a port")
    try:
        dns.name.from_text(target)
    except (dns.exception.DNSException, UnicodeError, ValueError) as error:
        raise ValueError(f"is not a DNS name: {error}") from None
    return target


def _record_type(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in DNS_RECORD_TYPES:
        raise ValueError(f"must be one of {', '.join(DNS_RECORD_TYPES)}")
    return value.upper()


def _answers(value: Any, record_type: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):  # a number typed in a list of answers is an answer too
        value = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and len(v) <= 500 for v in value):
        raise ValueError("must be an answer or a list of answers (text), each of which must be among those given")
    for text in value:
        if record_type in ("A", "AAAA"):
            address = _ip(text.strip())
            if address is None or address.version != (4 if record_type == "A" else 6):
                raise ValueError(f"{text!r} is not an IPv{4 if record_type == 'A' else 6} address")
    return list(value)


def _resolver(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError("must be an IP address, with an optional port")
    address, _port = split_resolver(value)
    problem = address_problem(address)
    if problem:
        raise ValueError(f"a resolver at an internal address must be allowed by SIGNALPOST_OUTBOUND_ALLOW: {problem}")
    return value.strip()


def _json_path(value: Any) -> str:
    import jsonpath

    if not isinstance(value, str) or len(value) > 500:
        raise ValueError("must be a JSONPath of at most 500 characters ($.status)")
    if value:
        try:
            jsonpath.compile(value)
        except jsonpath.JSONPathError as error:
            raise ValueError(f"{value!r} is not a JSONPath: {str(error).splitlines()[0]}") from None
    return value


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError("must be a UUID (leave it out to have one made)") from None


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


def _validate(item: dict, errors: list[str], label: str) -> dict[str, Any] | None:
    values, problems = check_fields(item)
    errors += [f"{label}: {key}: {message}" for key, message in problems]
    return None if problems else values


def check_fields(item: dict) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A monitor's fields (all but its name) checked: the values with defaults filled in, and the
    mistakes as (field, message)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []

    def fail(key: str, message: str) -> None:
        problems.append((key, message))

    unknown = [key for key in item if key not in DEFAULTS and key != "name"]
    for key in unknown:
        fail(key, "not a field of a monitor")
    kind = item.get("kind", DEFAULTS["kind"])
    if kind not in MonitorKind.values:
        fail("kind", f"must be one of {', '.join(MonitorKind.values)}")
        return values, problems
    values["kind"] = kind
    beats = kind == MonitorKind.HEARTBEAT
    record_type = item.get("record_type", DEFAULTS["record_type"])
    checks = {
        "interval": lambda v: _whole(v, 1, MAX_INTERVAL),
        "method": lambda v: _method(v),
        "headers": lambda v: _headers(v),
        "body": lambda v: _text(v, 100_000),
        "expected_status": _expected,
        "keyword": lambda v: _text(v, 500),
        "keyword_absent": lambda v: _text(v, 500),
        "json_path": _json_path,
        "json_expected": lambda v: v,  # any JSON value: made into text below
        "degraded_above_ms": lambda v: None if v is None else _whole(v, 1, 600_000),
        "follow_redirects": _flag,
        "verify_tls": _flag,
        "tls_expiry_days": lambda v: _whole(v, 0, 365),
        "record_type": _record_type,
        "expected": lambda v: _answers(v, str(record_type).upper()),
        "resolver": _resolver,
        "uuid": _uuid,
        "every": lambda v: None if v is None else _whole(v, 10, MAX_HEARTBEAT_SECONDS),
        "cron": lambda v: _text(v, 200).strip(),
        "tz": lambda v: _text(v, 64).strip(),
        "grace": lambda v: _whole(v, 1, MAX_HEARTBEAT_SECONDS),
        "paused": _flag,
        "failures_to_down": lambda v: _whole(v, 1, 100),
        "successes_to_up": lambda v: _whole(v, 1, 100),
        "locations_needed": lambda v: None if v is None else _whole(v, 1, 100),
        "components": _components,
    }
    for key in DEFAULTS:
        if key in ("kind", "target", "timeout"):
            continue
        if key in item and ((key in ONLY and ONLY[key] != kind) or (beats and key in CHECKED_ONLY)):
            owner = f"{ONLY[key]} monitors only" if key in ONLY else "monitors that are checked (not heartbeats)"
            fail(key, f"is for {owner} (this one is {kind})")
            continue
        value = item.get(key, default(kind, key))
        try:
            values[key] = checks[key](value)
        except ValueError as error:
            fail(key, str(error))
    # Kept as JSON text, so that a JSON null can be expected and "" means no expected value.
    if "json_expected" in item and kind == MonitorKind.HTTP:
        if not item.get("json_path"):
            fail("json_expected", "needs a json_path to compare with")
        else:
            values["json_expected"] = json.dumps(item["json_expected"], sort_keys=True, ensure_ascii=False)
    else:
        values["json_expected"] = ""
    if beats:
        _validate_schedule(item, values, fail)
        return values, problems
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
    return values, problems


def _validate_schedule(item: dict, values: dict[str, Any], fail) -> None:
    """A heartbeat's schedule: `every` seconds, or `cron` in the time zone `tz`; no target, no interval."""
    if "target" in item:
        fail("target", "a heartbeat has none: its job calls /ping/<uuid>")
    values["target"] = ""
    every, cron, zone = values.get("every"), values.get("cron", ""), values.get("tz", "UTC") or "UTC"
    if every is None and not cron:
        fail("every", "a heartbeat needs a schedule: every (seconds) or cron (with tz)")
        return
    if every is not None and cron:
        fail("cron", "give every or cron, not both")
        return
    if item.get("tz") not in (None, "", "UTC") and not cron:
        fail("tz", "is the time zone of a cron schedule (this heartbeat has none)")
        return
    if cron:
        problem = heartbeat.schedule_problem(cron, zone)
        if problem:
            fail(*problem)
            return
        values["interval"] = heartbeat.typical_interval(cron, zone, CRON_REFERENCE)
    elif every is not None:
        values["interval"] = every
    values["tz"] = zone
    values["timeout"] = default_timeout(values.get("interval", DEFAULTS["interval"]))


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
            errors.append(f"monitor {position}: name: {NAME_PROBLEM}")
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
    _check_keys(specs, errors)
    if errors:
        raise BadFile(errors)
    return specs


def _check_keys(specs: list[Spec], errors: list[str]) -> None:
    """A heartbeat's uuid is its own: not twice in the file, not another monitor's on the server."""
    holders = {str(key): name for key, name in Monitor.objects.exclude(heartbeat_key=None).values_list(
        "heartbeat_key", "name")}
    seen: dict[str, str] = {}
    for spec in specs:
        key = spec.values.get("uuid")
        if key is None or spec.values["kind"] != MonitorKind.HEARTBEAT:
            continue
        if key in seen:
            errors.append(f"monitor '{spec.name}': uuid: is also the uuid of '{seen[key]}' in the file")
        elif holders.get(key, spec.name) != spec.name:
            errors.append(f"monitor '{spec.name}': uuid: is the uuid of another monitor, '{holders[key]}'")
        seen[key] = spec.name


def warnings(specs: list[Spec]) -> list[str]:
    """What applying the file may not do on this machine, without refusing it: a ping monitor where this
    machine cannot ping (the probe of another location may)."""
    pings = [spec.name for spec in specs if spec.values["kind"] == MonitorKind.ICMP and not spec.values["paused"]]
    if not pings or ping_allowed():
        return []
    return [f"monitor '{name}': {PING_FORBIDDEN}: its checks from this machine fail until it does "
            f"(sysctl net.ipv4.ping_group_range)" for name in pings]


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
        diff = {key: (now[key], value) for key, value in spec.values.items()
                if now[key] != value and not (key == "uuid" and value is None)}
        if diff:
            changes.append(Change("change", spec.name, diff))
    if prune:
        named = {spec.name for spec in specs}
        changes += [Change("remove", name) for name in sorted(existing) if name not in named]
    return changes


COLUMNS = {"interval": "interval_seconds", "timeout": "timeout_seconds", "expected_status": "expected_statuses",
           "expected": "dns_expected", "tz": "cron_zone", "grace": "grace_seconds"}
SCHEDULE = {"kind", "every", "cron", "tz", "grace", "paused"}  # a heartbeat's deadline starts again


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
                _remove(Monitor.objects.get(name=change.name), now)
                continue
            spec = by_name[change.name]
            monitor = Monitor.objects.filter(name=change.name).first() or Monitor(name=change.name, created_at=now)
            _save(monitor, spec.values, now, "monitor.create" if monitor.pk is None else "monitor.update")
    return changes


def _remove(monitor: Monitor, now) -> None:
    before = monitor_values(monitor)
    status_services.forget_source(monitor.source, now=now, audited=False)
    audit.record("monitor.remove", monitor, before=_audited(before))
    monitor.delete()


def _save(monitor: Monitor, values: dict[str, Any], now, action: str) -> None:
    """Give the monitor (new when it has no pk) these checked values; one audit entry, `action`."""
    before = monitor_values(monitor) if monitor.pk else None
    changed = set(values) if before is None else {key for key, value in values.items() if before[key] != value}
    for key, value in values.items():
        if key not in ("components", "uuid", "every"):  # every: the interval has it
            setattr(monitor, COLUMNS.get(key, key), value)
    beats = monitor.kind == MonitorKind.HEARTBEAT
    if beats:
        monitor.heartbeat_key = values.get("uuid") or monitor.heartbeat_key or heartbeat.new_key()
    else:
        monitor.heartbeat_key = monitor.ping_due_at = monitor.start_due_at = None
    if before is not None and before["paused"] is False and values["paused"]:
        if monitor.state != State.UNKNOWN:  # its history says when it stopped being watched
            StateChange.objects.create(monitor=monitor, at=now, from_state=monitor.state,
                                       to_state=State.UNKNOWN, reason="paused")
        monitor.state, monitor.state_changed_at, monitor.state_reason = State.UNKNOWN, now, "paused"
    monitor.updated_at = now
    monitor.save()
    _link(monitor, values["components"], now)
    if before is not None and ({"target", "kind"} & changed or values["paused"]):
        monitor.locations.all().delete()  # a new target, or a resumed monitor, starts its runs afresh
    if values["paused"]:
        status_services.forget_source(monitor.source, now=now, audited=False)
    elif beats and (before is None or SCHEDULE & changed):
        heartbeat.reschedule(monitor, now)  # new, resumed, or on a new schedule: its clock starts now
    audit.record(action, monitor, before=_audited(before), after=_audited(monitor_values(monitor)))


def _audited(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """The values as the audit log keeps them: a heartbeat's uuid (the secret in its ping URL) by a
    fingerprint that shows it changed without giving it away."""
    if not values or not values.get("uuid"):
        return values
    import hashlib

    return {**values, "uuid": "sha256:" + hashlib.sha256(values["uuid"].encode()).hexdigest()[:12]}


# --- one monitor at a time (the console and the management API) ------------------------------------


def item_of(monitor: Monitor) -> dict[str, Any]:
    """The monitor as an item of the file, with every field of its kind (components by public id): what a
    change starts from. A timeout left to its default is left out, so that it follows the interval."""
    values = monitor_values(monitor)
    item: dict[str, Any] = {"name": monitor.name}
    for key in fields_of(monitor.kind):
        if key == "timeout" and values["timeout"] == default_timeout(values["interval"]):
            continue
        if key == "json_expected":  # kept as JSON text; the item has the value itself
            if values[key]:
                item[key] = json.loads(values[key])
            continue
        if (key in ("every", "cron") and not values[key]) or (key == "tz" and not values["cron"]):
            continue  # a heartbeat has one schedule: the one it has not is left out
        item[key] = values[key]
    item["components"] = [{"component": pid, "down": down, "degraded": degraded}
                          for pid, down, degraded in values["components"]]
    return item


def _checked(item: dict[str, Any], monitor: Monitor | None) -> tuple[str, dict[str, Any]]:
    """The name and values of an item, or BadMonitor with every mistake (a name another monitor has too)."""
    problems: list[tuple[str, str]] = []
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        problems.append(("name", NAME_PROBLEM))
    else:
        name = name.strip()
        others = Monitor.objects.filter(name=name)
        if monitor is not None:
            others = others.exclude(pk=monitor.pk)
        if others.exists():
            problems.append(("name", f"another monitor is called '{name}'"))
    values, more = check_fields({key: value for key, value in item.items() if key != "name"})
    problems += more
    if problems:
        raise BadMonitor(problems)
    return name, values


def create(item: dict[str, Any]) -> Monitor:
    """A new monitor from an item of the file (name, target, ...); BadMonitor naming each mistake."""
    with transaction.atomic():
        name, values = _checked(item, None)
        now = timezone.now()
        monitor = Monitor(name=name, created_at=now)
        _save(monitor, values, now, "monitor.create")
    return monitor


def change(monitor: Monitor, fields: dict[str, Any]) -> Monitor:
    """The monitor with these fields changed, the others as they are. A field the new kind does not have
    is dropped when the kind changes."""
    with transaction.atomic():
        item = item_of(monitor)
        if "kind" in fields and fields["kind"] != monitor.kind:
            kept = set(fields_of(fields["kind"])) if fields["kind"] in MonitorKind.values else set(DEFAULTS)
            item = {key: value for key, value in item.items() if key == "name" or key in kept}
        item.update(fields)
        name, values = _checked(item, monitor)
        monitor.name = name
        _save(monitor, values, timezone.now(), "monitor.update")
    return monitor


def pause(monitor: Monitor) -> bool:
    """Pause it (its components' status from it cleared); False when it was paused already."""
    return _set_paused(monitor, True, "monitor.pause")


def resume(monitor: Monitor) -> bool:
    """Resume it: its runs start afresh at every location; False when it was not paused."""
    return _set_paused(monitor, False, "monitor.resume")


def _set_paused(monitor: Monitor, paused: bool, action: str) -> bool:
    with transaction.atomic():
        monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
        if monitor.paused == paused:
            return False
        current = monitor_values(monitor)  # as they are: pausing never fails on a rule changed since
        values = {key: current[key] for key in fields_of(monitor.kind)} | {"paused": paused}
        _save(monitor, values, timezone.now(), action)
    return True


def remove(monitor: Monitor) -> None:
    """Remove it: the status it gave its components is cleared (their past intervals stay)."""
    with transaction.atomic():
        _remove(monitor, timezone.now())


def _link(monitor: Monitor, wanted: list[tuple[str, str, str]], now) -> None:
    """The monitor's components as the file gives them; each told the monitor's current verdict (part of the
    monitor's own audit entry)."""
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
                                       monitor.state_reason, now=now, audited=False)
    for link in links.values():  # unlinked: the monitor no longer speaks for it
        status_services.set_signal(link.component, monitor.source, ComponentStatus.OPERATIONAL, now=now,
                                   audited=False)
        link.delete()
