"""Where the responder commands act: a Signalpost server over its management API (Remote), or the
local database through the status services (Local). Both take the API's request bodies and return the
API's objects, so a command reads and behaves the same either way."""

import argparse
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import Any, Callable, Iterator

from signalpost.cli import CliError

TIMEOUT_SECONDS = 10.0
RETRY_PAUSE_SECONDS = 0.5
RETRY_STATUSES = {502, 503, 504}
LIST_LIMIT = 100


def backend(args: argparse.Namespace):
    """The server's API when a server is named, else the local database."""
    from signalpost.env import envstr

    server = (args.server or os.environ.get("SIGNALPOST_SERVER", "")).strip()
    if not server:
        return Local()
    try:
        token = (args.token or envstr("SIGNALPOST_TOKEN")).strip()
    except OSError as error:
        raise CliError(f"SIGNALPOST_TOKEN_FILE: cannot read {error.filename}: {error.strerror}") from None
    if not token:
        raise CliError(f"{server} needs an API token: give --token, or set SIGNALPOST_TOKEN or SIGNALPOST_TOKEN_FILE")
    return Remote(server, token)


def api_request(server: str, token: str, method: str, path: str, payload: dict | None = None, *,
                idempotency_key: str | None = None, timeout: float = TIMEOUT_SECONDS) -> Any:
    """One call to the management API. A POST carries an Idempotency-Key, and after a dropped
    connection or a 502/503/504 it is sent once more with the same key, so the server performs it
    at most once."""
    url = server.rstrip("/") + "/api/v1" + path
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
               "User-Agent": "signalpost-cli"}
    data = None
    if method in ("POST", "PUT", "PATCH", "DELETE") and payload is not None:
        data = json.dumps(payload, default=json_default).encode()
        headers["Content-Type"] = "application/json"
    if method == "POST":
        headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    for attempt in (1, 2):
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
            return json.loads(body) if body.strip() else {}
        except urllib.error.HTTPError as error:
            if error.code in RETRY_STATUSES and attempt == 1:
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            raise CliError(_refusal(error)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            if attempt == 1:
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            reason = getattr(error, "reason", error)
            reason = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
            raise CliError(f"cannot reach {server}: {reason}") from None
        except json.JSONDecodeError:
            raise CliError(f"{server} answered with something other than JSON; is it a Signalpost server?") from None
    raise AssertionError("unreachable")


def _refusal(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = [f'{e.get("field")}: {e.get("message")}' if e.get("field") else str(e.get("message"))
              for e in body.get("errors") or [] if isinstance(e, dict)]
    detail = body.get("detail")
    if errors:  # the detail only summarises them
        return "; ".join(errors)
    return str(detail or f"the server refused the request ({error.code} {error.reason})")


def json_default(value: Any) -> str:
    if isinstance(value, datetime):
        # As the API writes times (Django's JSON encoder): milliseconds, and Z for UTC.
        text = value.isoformat()
        if value.microsecond:
            text = text[:23] + text[26:]
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    raise TypeError(f"{type(value).__name__} is not JSON")


class Remote:
    def __init__(self, server: str, token: str):
        if not server.startswith(("http://", "https://")):
            raise CliError(f'--server: "{server}" is not a URL (e.g. https://status.example.com)')
        self.server, self.token = server, token

    def _call(self, method: str, path: str, payload: dict | None = None) -> Any:
        return api_request(self.server, self.token, method, path, payload)

    def _all(self, path: str, **query: Any) -> list[dict]:
        items: list[dict] = []
        page = 1
        while True:
            found = self._call("GET", f"{path}?" + urllib.parse.urlencode({**query, "per_page": 100, "page": page}))
            items += found.get("items", [])
            if not found.get("items") or len(items) >= found.get("count", 0) or len(items) >= LIST_LIMIT * 10:
                return items
            page += 1

    def components(self) -> list[dict]:
        return self._all("/components")

    def component(self, ref: str) -> dict:
        return match_component(self.components(), ref)

    def override(self, ref: str, status: str, reason: str) -> dict:
        component = self.component(ref)
        return self._call("POST", f"/components/{component['id']}/override", {"status": status, "reason": reason})

    def clear_override(self, ref: str) -> dict:
        component = self.component(ref)
        return self._call("DELETE", f"/components/{component['id']}/override")

    def create_group(self, payload: dict) -> dict:
        return self._call("POST", "/groups", payload)

    def create_component(self, payload: dict) -> dict:
        return self._call("POST", "/components", payload)

    def open_incident(self, payload: dict) -> dict:
        return self._call("POST", "/incidents", payload)

    def backfill(self, payload: dict) -> dict:
        return self._call("POST", "/incidents", payload)

    def post_update(self, public_id: str, payload: dict) -> dict:
        return self._call("POST", f"/incidents/{_quote(public_id)}/updates", payload)

    def incidents(self, open_only: bool) -> tuple[list[dict], int]:
        found = self._call("GET", "/incidents?" + urllib.parse.urlencode(
            {"per_page": LIST_LIMIT, **({"open": "true"} if open_only else {})}))
        return found.get("items", []), found.get("count", 0)

    def schedule_maintenance(self, payload: dict) -> dict:
        return self._call("POST", "/maintenance", payload)

    def post_maintenance_update(self, public_id: str, payload: dict) -> dict:
        return self._call("POST", f"/maintenance/{_quote(public_id)}/updates", payload)

    def maintenances(self, upcoming: bool, active: bool) -> tuple[list[dict], int]:
        query: dict = {"per_page": LIST_LIMIT}
        if upcoming:
            query["upcoming"] = "true"
        if active:
            query["active"] = "true"
        found = self._call("GET", "/maintenance?" + urllib.parse.urlencode(query))
        return found.get("items", []), found.get("count", 0)


def _quote(public_id: str) -> str:
    return urllib.parse.quote(public_id.strip(), safe="")


def match_component(components: list[dict], ref: str, field: str = "component") -> dict:
    """The same rules as the services' find_components: id, exact name, or "Group/Name"."""
    for component in components:
        if component.get("id") == ref:
            return component
    named = [c for c in components if c.get("name") == ref]
    if not named and "/" in ref:
        group_name, _, name = ref.partition("/")
        named = [c for c in components
                 if c.get("name") == name.strip() and (c.get("group") or {}).get("name") == group_name.strip()]
    if len(named) > 1:
        raise CliError(f'{field}: "{ref}" names several components; use its id or "Group/Name"')
    if not named:
        raise CliError(f'{field}: unknown component "{ref}"')
    return named[0]


@contextmanager
def _quiet_publisher() -> Iterator[None]:
    """A command prints its own one line; the publisher's progress lines belong in a server's log."""
    logger = logging.getLogger("signalpost.publish")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _writes(method: Callable) -> Callable:
    @wraps(method)
    def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        self._ready()
        with _quiet_publisher():
            return method(self, *args, **kwargs)

    return wrapper


class Local:
    """The status services on this machine's database (DATABASE_URL, or the data directory's SQLite)."""

    def __init__(self):
        from django.apps import apps

        from signalpost.cli import setup_django

        if not apps.ready:  # run in-process (tests), Django is set up already; setting up twice resets logging
            setup_django()

    def _ready(self) -> None:
        from django.db import DatabaseError, connection

        try:
            tables = connection.introspection.table_names()
        except DatabaseError as error:
            raise CliError(f"cannot open the database: {error}") from None
        if "status_incident" not in tables:
            raise CliError("the database has no tables yet; run `signalpost migrate` first")

    def _statuses(self, statuses: dict[str, str]) -> dict:
        from signalpost.status import services

        return dict(zip(services.find_components(statuses), statuses.values()))

    def _incident(self, incident) -> dict:
        from signalpost.api.schemas import incident_out, with_details
        from signalpost.status.models import Incident

        return incident_out(with_details(Incident.objects).get(pk=incident.pk))

    def components(self) -> list[dict]:
        from django.db.models import Prefetch

        from signalpost.api.schemas import component_out
        from signalpost.status import derive
        from signalpost.status.layout import page_order_sql
        from signalpost.status.models import Component, StatusOverride

        self._ready()
        components = list(
            Component.objects.select_related("group")
            .prefetch_related(Prefetch("overrides", StatusOverride.objects.filter(cleared_at__isnull=True),
                                       to_attr="open_overrides"))
            .order_by(*page_order_sql())
        )
        statuses = derive.current_statuses(components)
        return [component_out(c, statuses[c.pk]) for c in components]

    def _component(self, ref: str):
        from signalpost.status import services

        return services.find_components([ref], field="component")[0]

    def _component_out(self, component) -> dict:
        return next(c for c in self.components() if c["id"] == component.public_id)

    @_writes
    def override(self, ref: str, status: str, reason: str) -> dict:
        from signalpost.status import services

        component = self._component(ref)
        services.set_override(component, status, reason)
        return self._component_out(component)

    @_writes
    def clear_override(self, ref: str) -> dict:
        from signalpost.status import services

        component = self._component(ref)
        services.clear_override(component)
        return self._component_out(component)

    @_writes
    def create_group(self, payload: dict) -> dict:
        from signalpost.api.schemas import group_out
        from signalpost.status import services

        return group_out(services.create_group(**payload))

    @_writes
    def create_component(self, payload: dict) -> dict:
        from signalpost.status import services

        fields = dict(payload)
        fields["group"] = services.find_group(fields["group"]) if fields.get("group") else None
        return self._component_out(services.create_component(**fields))

    @_writes
    def open_incident(self, payload: dict) -> dict:
        from signalpost.status import services

        incident = services.open_incident(
            name=payload["name"], status=payload["status"], impact=payload["impact"], body=payload["body"],
            components=self._statuses(payload["components"]), display_at=payload.get("display_at"),
            deliver_notifications=payload["deliver_notifications"],
        )
        return self._incident(incident)

    @_writes
    def backfill(self, payload: dict) -> dict:
        from signalpost.status import services

        incident = services.backfill_incident(
            name=payload["name"], started_at=payload["started_at"], resolved_at=payload["resolved_at"],
            impact=payload["impact"], body=payload["body"], components=self._statuses(payload["components"]),
        )
        return self._incident(incident)

    @_writes
    def post_update(self, public_id: str, payload: dict) -> dict:
        from signalpost.status import services
        from signalpost.status.models import Kind

        incident = services.find_incident(public_id.strip(), Kind.INCIDENT)
        services.post_update(
            incident, status=payload["status"], body=payload["body"],
            components=self._statuses(payload.get("components") or {}), impact=payload.get("impact"),
            display_at=payload.get("display_at"), reopen=payload.get("reopen", False),
            deliver_notifications=payload.get("deliver_notifications", True),
        )
        return self._incident(incident)

    def incidents(self, open_only: bool) -> tuple[list[dict], int]:
        from signalpost.api.schemas import incident_out, with_details
        from signalpost.status.models import Incident, Kind

        self._ready()
        found = Incident.objects.filter(kind=Kind.INCIDENT)
        if open_only:
            found = found.filter(resolved_at__isnull=True)
        newest = with_details(found.order_by("-started_at", "-id"))[:LIST_LIMIT]
        return [incident_out(i) for i in newest], found.count()

    @_writes
    def schedule_maintenance(self, payload: dict) -> dict:
        from signalpost.status import services

        maintenance = services.schedule_maintenance(
            name=payload["name"], scheduled_for=payload["scheduled_for"], scheduled_until=payload["scheduled_until"],
            body=payload["body"], components=services.find_components(payload["components"]),
            auto_start=payload["auto_start"], auto_complete=payload["auto_complete"],
        )
        return self._incident(maintenance)

    @_writes
    def post_maintenance_update(self, public_id: str, payload: dict) -> dict:
        from signalpost.status import services
        from signalpost.status.models import Kind

        maintenance = services.find_incident(public_id.strip(), Kind.MAINTENANCE)
        services.post_maintenance_update(
            maintenance, status=payload["status"], body=payload["body"],
            scheduled_until=payload.get("scheduled_until"),
        )
        return self._incident(maintenance)

    def maintenances(self, upcoming: bool, active: bool) -> tuple[list[dict], int]:
        from signalpost.api.schemas import incident_out, with_details
        from signalpost.status.models import Incident, Kind, MaintenanceStatus

        self._ready()
        found = Incident.objects.filter(kind=Kind.MAINTENANCE).order_by("-scheduled_for", "-id")
        if upcoming:
            found = found.filter(status=MaintenanceStatus.SCHEDULED)
        elif active:
            found = found.filter(status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING])
        return [incident_out(m) for m in with_details(found)[:LIST_LIMIT]], found.count()
