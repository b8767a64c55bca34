"""/api/v1/probe: what a remote probe (`signalpost probe --server URL --token T --location NAME`) calls.
It fetches the monitors to check (cheaply: the listing has an ETag, and an unchanged one answers 304)
and sends its results in batches, each with an id it made, so that a batch sent again after a lost
acknowledgement is recorded once (signalpost.monitors.locations).

Both operations take a probe token or an admin one; a probe token takes nothing else (see
signalpost.accounts.models.ApiToken.allows).
"""

import uuid
from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Router, Schema

from signalpost.accounts.tokens import bearer_token
from signalpost.monitors import locations

from . import auth
from .idempotency import idempotent
from .schemas import ERRORS, Input

router = Router(tags=["probes"], auth=auth.probe)

LocationName = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$",
                     description="where the checks were made (1 to 64 characters, no space at either end)")


class ProbeMonitorOut(Schema):
    id: str = Field(description="the monitor's id, which results name")
    kind: Literal["http", "tcp", "dns", "icmp"]
    target: str
    interval: int = Field(description="seconds between checks")
    timeout: float = Field(description="seconds a check may take, all of it")
    method: str
    headers: dict[str, str]
    body: str
    expected_status: list[str]
    keyword: str
    keyword_absent: str
    degraded_above_ms: int | None
    follow_redirects: bool
    verify_tls: bool
    tls_expiry_days: int
    json_path: str = Field("", description="http: a JSONPath into the body; empty: none")
    json_expected: str = Field("", description="http: the value the path must find, as JSON text; empty: any")
    record_type: str = Field("A", description="dns: the record type asked for")
    expected: list[str] = Field([], description="dns: answers that must all be among those given")
    resolver: str = Field("", description="dns: the server asked (ip or ip:port); empty: the system's")


class ProbeMonitorsOut(Schema):
    monitors: list[ProbeMonitorOut]


class ResultIn(Input):
    monitor: str = Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9]+$", description="the monitor's id")
    at: datetime = Field(description="when the check began, with its time zone")
    verdict: Literal["up", "degraded", "down"]
    latency_ms: int | None = Field(None, ge=0, le=3_600_000)
    status_code: int | None = Field(None, ge=100, le=599)
    reason: str = Field("", max_length=300, description="what went wrong, or a warning; empty when up")


class ResultsIn(Input):
    location: str = LocationName
    batch: uuid.UUID = Field(description="an id the probe gives the batch; sending it again records nothing twice")
    results: list[ResultIn] = Field(max_length=locations.RESULTS_MAX)


class ResultsOut(Schema):
    batch: uuid.UUID
    recorded: int = Field(description="results recorded from this batch")
    ignored: int = Field(description="results for monitors that no longer exist")
    duplicate: bool = Field(description="true: this batch was recorded before; nothing was recorded again")


@router.get("/monitors", response={200: ProbeMonitorsOut, 304: None, **ERRORS},
            summary="List the monitors a probe checks (ETag: answers 304 when unchanged)")
def probe_monitors(request: HttpRequest):
    listing = locations.monitors_to_check()
    tag = locations.fingerprint(listing)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"monitors": listing})
    response["ETag"] = tag
    response["Cache-Control"] = "no-cache"
    return response


@router.post("/results", response={200: ResultsOut, **ERRORS},
             summary="Send a batch of results from a location (recorded once, however often it is sent)")
@idempotent
def probe_results(request: HttpRequest, payload: ResultsIn):
    token = bearer_token(request)
    accepted = locations.accept(
        payload.location, payload.batch,
        [locations.RemoteResult(r.monitor, r.at, r.verdict, r.latency_ms, r.status_code, r.reason)
         for r in payload.results],
        token_name=token.name if token else "", token_prefix=token.prefix if token else "")
    return accepted
