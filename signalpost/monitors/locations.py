"""Remote locations, the server's side: the monitors a probe elsewhere must check, and the batches of
results it sends back, recorded exactly as a local probe's (store.record).

- A batch carries an id the probe made (a UUID). The server remembers the ids it recorded, per location,
  for BATCHES_KEPT_HOURS: a batch sent again because its acknowledgement was lost is acknowledged again
  and recorded once.
- Results are refused when they claim a time more than CLOCK_SKEW_SECONDS ahead of the server's clock.
  A result for a monitor that no longer exists (removed while the result waited in a probe's buffer) is
  left out and counted as ignored: refusing the batch would lose the other results with it.
- Results of one location are recorded in time order (store.record sorts a batch, and a probe sends its
  batches oldest first). A backlog older than what the location already reported is stored and rolled
  up, but moves no verdict: a location's runs only go forward.
- The first batch of a location not seen before is audited (`probe_location.create`); the batches that
  follow are observations, not changes someone made, and are counted on the location instead.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from . import store
from .models import AcceptedBatch, Monitor, MonitorKind, ProbeLocation

CLOCK_SKEW_SECONDS = 60
BATCHES_KEPT_HOURS = 24
RESULTS_MAX = 2000  # results in one batch (a probe sends at most 1,000)


def monitors_to_check() -> list[dict]:
    """Every monitor not paused, with what a probe needs to check it (its settings, no verdict). Heartbeats
    are not listed: their jobs call in, there is nothing to check."""
    return [{
        "id": m.public_id, "kind": m.kind, "target": m.target, "interval": m.interval_seconds,
        "timeout": m.timeout_seconds, "method": m.method, "headers": m.headers or {}, "body": m.body,
        "expected_status": [str(code) for code in (m.expected_statuses or ())], "keyword": m.keyword,
        "keyword_absent": m.keyword_absent, "degraded_above_ms": m.degraded_above_ms,
        "follow_redirects": m.follow_redirects, "verify_tls": m.verify_tls, "tls_expiry_days": m.tls_expiry_days,
        "json_path": m.json_path, "json_expected": m.json_expected, "record_type": m.record_type,
        "expected": list(m.dns_expected or ()), "resolver": m.resolver,
    } for m in Monitor.objects.filter(paused=False).exclude(kind=MonitorKind.HEARTBEAT).order_by("pk")]


def fingerprint(listing: list[dict]) -> str:
    """An ETag for a listing: the same monitors give the same tag, so a probe's re-fetch costs a 304."""
    return '"' + hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class RemoteResult:
    monitor: str  # the monitor's public id
    at: datetime
    verdict: str
    latency_ms: int | None = None
    status_code: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Accepted:
    batch: uuid.UUID
    recorded: int  # results recorded from this batch (0 when it was recorded before)
    ignored: int  # results for monitors that no longer exist
    duplicate: bool  # the batch had been recorded already


def accept(location: str, batch: uuid.UUID, results: list[RemoteResult], *, token_name: str = "",
           token_prefix: str = "", now: datetime | None = None) -> Accepted:
    """Record a batch of results a location sent, once. Inside a transaction of its own (or the caller's)."""
    now = now or timezone.now()
    for index, result in enumerate(results):
        if result.at.tzinfo is None:
            raise InvalidInput(f"results[{index}].at", "must include a time zone (e.g. 2026-12-06T20:45:00Z)")
        if result.at > now + timedelta(seconds=CLOCK_SKEW_SECONDS):
            raise InvalidInput(f"results[{index}].at", f"is in the future (more than {CLOCK_SKEW_SECONDS} s "
                               "ahead of the server's clock): check the probe machine's clock")
    with transaction.atomic():
        place = _location(location, token_name, token_prefix, now)
        if AcceptedBatch.objects.filter(location=location, batch_id=batch).exists():
            ProbeLocation.objects.filter(pk=place.pk).update(last_seen_at=now)
            return Accepted(batch, 0, 0, True)
        AcceptedBatch.objects.create(location=location, batch_id=batch, accepted_at=now, results=len(results))
        ids = dict(Monitor.objects.filter(public_id__in={r.monitor for r in results}).values_list("public_id", "pk"))
        outcomes = [store.Outcome(ids[r.monitor], r.at, r.verdict, r.latency_ms, r.status_code, r.reason)
                    for r in results if r.monitor in ids]
        store.record(location, outcomes)
        ProbeLocation.objects.filter(pk=place.pk).update(
            last_seen_at=now, results_received=F("results_received") + len(outcomes),
            token_name=token_name[:200], token_prefix=token_prefix[:16])
        AcceptedBatch.objects.filter(location=location,
                                     accepted_at__lt=now - timedelta(hours=BATCHES_KEPT_HOURS)).delete()
    return Accepted(batch, len(outcomes), len(results) - len(outcomes), False)


def _location(name: str, token_name: str, token_prefix: str, now: datetime) -> ProbeLocation:
    """The location, locked until the end of the transaction (one batch of a location at a time, so its
    results are recorded in order); made, and audited, at its first batch."""
    place = ProbeLocation.objects.select_for_update().filter(name=name).first()
    if place is not None:
        return place
    try:
        with transaction.atomic():
            place = ProbeLocation.objects.create(name=name, first_seen_at=now, last_seen_at=now,
                                                 token_name=token_name[:200], token_prefix=token_prefix[:16])
            audit.record("probe_location.create", place, object_id=name, object_repr=f"location {name}",
                         after={"name": name, "token": f"{token_name} ({token_prefix}…)" if token_prefix else ""})
            return place
    except IntegrityError:  # its first two batches came at once: the other one made it
        return ProbeLocation.objects.select_for_update().get(name=name)


def locations() -> list[ProbeLocation]:
    return list(ProbeLocation.objects.order_by("name"))
