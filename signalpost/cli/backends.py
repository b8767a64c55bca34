"""Where the responder commands act: a Signalpost server over its management API (Remote), or the
local database through the API's own operations (Local). Both take the API's request bodies and return the
API's objects, so a command reads and behaves the same either way."""

import argparse
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, datetime
from typing import Any

from .common import CliError

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
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()  # a time known by its date alone
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

    def edit_incident(self, public_id: str, payload: dict) -> dict:
        return self._call("PATCH", f"/incidents/{_quote(public_id)}", payload)

    def incidents(self, open_only: bool) -> tuple[list[dict], int]:
        found = self._call("GET", "/incidents?" + urllib.parse.urlencode(
            {"per_page": LIST_LIMIT, **({"open": "true"} if open_only else {})}))
        return found.get("items", []), found.get("count", 0)

    def schedule_maintenance(self, payload: dict) -> dict:
        return self._call("POST", "/maintenance", payload)

    def post_maintenance_update(self, public_id: str, payload: dict) -> dict:
        return self._call("POST", f"/maintenance/{_quote(public_id)}/updates", payload)

    def publish_postmortem(self, public_id: str, payload: dict) -> dict:
        return self._call("POST", f"/postmortems/{_quote(public_id)}/publish", payload)

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


class Local:
    """This machine's database (DATABASE_URL, or the data directory's SQLite), through the management
    API's own operations (signalpost/api/operations.py): the request bodies are validated by the API's
    schemas and mapped to the status verbs by the same code, so a command acts and answers exactly as it
    does through --server."""

    def __init__(self):
        from django.apps import apps

        from .common import setup_django

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

    def _call(self, operation: str, *args: Any, schema: str | None = None, payload: dict | None = None) -> Any:
        """One operation, its body first validated by the API's schema (a refusal names the field, as
        the API's 422 does)."""
        from pydantic import ValidationError

        from signalpost.api import operations, schemas

        self._ready()
        if schema is not None:
            try:
                args = (*args, getattr(schemas, schema).model_validate(payload or {}))
            except ValidationError as error:  # worded as the API words its 422 (field_errors reads ninja's locations)
                errors = schemas.field_errors([{**e, "loc": ("body", "payload", *e["loc"])} for e in error.errors()])
                raise CliError("; ".join(f"{e['field']}: {e['message']}" for e in errors)) from None
        return getattr(operations, operation)(*args)

    def components(self) -> list[dict]:
        return self._call("all_components")

    def publish_postmortem(self, public_id: str, payload: dict) -> dict:
        from signalpost.api.postmortems import postmortem_out
        from signalpost.postmortems import services

        self._ready()
        postmortem = services.get_postmortem(public_id.strip())
        return postmortem_out(services.publish(postmortem, published_at=payload.get("published_at")))

    def component(self, ref: str) -> dict:
        return match_component(self.components(), ref)

    def override(self, ref: str, status: str, reason: str) -> dict:
        component = self.component(ref)
        return self._call("set_override", component["id"], schema="OverrideIn",
                          payload={"status": status, "reason": reason})

    def clear_override(self, ref: str) -> dict:
        return self._call("clear_override", self.component(ref)["id"])

    def create_group(self, payload: dict) -> dict:
        return self._call("create_group", schema="GroupIn", payload=payload)

    def create_component(self, payload: dict) -> dict:
        return self._call("create_component", schema="ComponentIn", payload=payload)

    def open_incident(self, payload: dict) -> dict:
        return self._call("create_incident", schema="IncidentIn", payload=payload)

    def backfill(self, payload: dict) -> dict:
        return self._call("create_incident", schema="IncidentIn", payload=payload)

    def post_update(self, public_id: str, payload: dict) -> dict:
        return self._call("create_incident_update", public_id.strip(), schema="IncidentUpdateIn", payload=payload)

    def edit_incident(self, public_id: str, payload: dict) -> dict:
        return self._call("patch_incident", public_id.strip(), schema="IncidentPatch", payload=payload)

    def incidents(self, open_only: bool) -> tuple[list[dict], int]:
        found = self._call("list_incidents", schema="IncidentFilters",
                           payload={"per_page": LIST_LIMIT, **({"open": True} if open_only else {})})
        return found["items"], found["count"]

    def schedule_maintenance(self, payload: dict) -> dict:
        return self._call("create_maintenance", schema="MaintenanceIn", payload=payload)

    def post_maintenance_update(self, public_id: str, payload: dict) -> dict:
        return self._call("create_maintenance_update", public_id.strip(), schema="MaintenanceUpdateIn",
                          payload=payload)

    def maintenances(self, upcoming: bool, active: bool) -> tuple[list[dict], int]:
        query: dict = {"per_page": LIST_LIMIT}
        if upcoming:
            query["upcoming"] = True
        if active:
            query["active"] = True
        found = self._call("list_maintenance", schema="MaintenanceFilters", payload=query)
        return found["items"], found["count"]
