"""The probe as a worker job: the engine on this machine's database, at one location
(SIGNALPOST_MONITOR_LOCATION, "local" by default). The job runs the engine's loop in slices of a few
seconds, beating its heartbeat between them; checks in flight carry on across slices.

One process probes a location at a time (a lease in the database, renewed with every slice): other
workers running the job stand by and take over within LEASE_SECONDS when the holder stops or dies.
"""

import asyncio
import logging
import math
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from signalpost.events.work import worker_name

from . import store
from .engine import Check, Engine, user_agent
from .models import Monitor, MonitorKind, ProbeLease

log = logging.getLogger("signalpost.probe")

SLICE_SECONDS = 5.0
LEASE_SECONDS = 30.0
REPORT_SECONDS = 60.0  # how often the probe logs its checks and their schedule lag


def take_lease(location: str, holder: str, seconds: float = LEASE_SECONDS) -> bool:
    """Take or renew the location's lease; False while another live holder has it."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    free = Q(holder=holder) | Q(until__lt=now)
    if ProbeLease.objects.filter(free, location=location).update(holder=holder, until=until):
        return True
    try:
        with transaction.atomic():
            ProbeLease.objects.create(location=location, holder=holder, until=until)
        return True
    except IntegrityError:
        return False


def release_lease(location: str, holder: str) -> None:
    ProbeLease.objects.filter(location=location, holder=holder).delete()


CHECK_FIELDS = ("pk", "public_id", "kind", "target", "interval_seconds", "timeout_seconds", "method", "headers",
                "body", "expected_statuses", "keyword", "keyword_absent", "degraded_above_ms", "follow_redirects",
                "verify_tls", "tls_expiry_days", "json_path", "json_expected", "record_type", "dns_expected",
                "resolver", "name")
_known: dict[tuple, Check] = {}  # the settings read last time, and the Check made of them


def load_checks() -> list[Check]:
    """The monitors to check: every one not paused (heartbeats are not checked: their jobs call in). Read
    as tuples every few seconds: a monitor whose settings did not change keeps its Check (50,000 of them
    are read in a fraction of a second). A JSON path is compiled when its Check is made, not at every
    check."""
    import jsonpath

    global _known
    known, checks = {}, []
    rows = (Monitor.objects.filter(paused=False).exclude(kind=MonitorKind.HEARTBEAT).order_by("pk")
            .values_list(*CHECK_FIELDS).iterator(chunk_size=2000))
    for row in rows:
        row = (*row[:7], tuple((row[7] or {}).items()), row[8], tuple(row[9] or ()), *row[10:19],
               tuple(row[19] or ()), *row[20:])
        try:
            check = _known.get(row)
        except TypeError:  # a header value that is a list or a mapping: not kept, made afresh each time
            check = None
        if check is None:
            (pk, public_id, kind, target, interval, timeout, method, headers, body, expected, keyword,
             keyword_absent, degraded_above_ms, follow_redirects, verify_tls, tls_expiry_days, json_path,
             json_expected, record_type, dns_expected, resolver, name) = row
            try:
                compiled = jsonpath.compile(json_path) if json_path else None
            except jsonpath.JSONPathError:  # `monitors apply` refuses such a path: one saved before is not checked
                log.warning("monitor %s: JSON path %r does not compile; it is not checked", name, json_path)
                continue
            check = Check(id=pk, public_id=public_id, kind=kind, target=target, interval=float(interval),
                          timeout=float(timeout), method=method, headers=headers, body=body, expected=expected,
                          keyword=keyword, keyword_absent=keyword_absent, degraded_above_ms=degraded_above_ms,
                          follow_redirects=follow_redirects, verify_tls=verify_tls, tls_expiry_days=tls_expiry_days,
                          json_path=compiled, json_path_text=json_path, json_expected=json_expected,
                          record_type=record_type, dns_expected=dns_expected, resolver=resolver)
        try:
            known[row] = check
        except TypeError:
            pass
        checks.append(check)
    _known = known
    return checks


class ProbeRunner:
    """The engine kept across the job's passes, on an event loop of the job's thread."""

    def __init__(self, location: str | None = None):
        self.location = location or settings.MONITOR_LOCATION
        self.holder = worker_name()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine: Engine | None = None
        self.lags: list[float] = []  # since the last report
        self.reported_at = time.monotonic()
        self.reported_checked = 0
        self.reported_skipped = 0

    def run_once(self, stopping: threading.Event) -> str:
        try:
            held = take_lease(self.location, self.holder)
        except DatabaseError:  # the database is away: a running engine goes on, its results wait in memory
            held = self.loop is not None
            if not held:
                stopping.wait(SLICE_SECONDS)
                return "waiting for the database"
        if not held:
            self.close()  # it had lost its lease (the database was away longer than the lease): stand by
            holder = ProbeLease.objects.filter(location=self.location).values_list("holder", flat=True).first()
            stopping.wait(SLICE_SECONDS)
            return f"standing by: {holder} probes {self.location}"
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.engine = Engine(load_checks, lambda batch: store.record(self.location, batch),
                                 housekeeping=store.prune, agent=user_agent(self.location))
        ends = time.monotonic() + SLICE_SECONDS
        before = self.engine.checked
        self.loop.run_until_complete(self.engine.run(lambda: stopping.is_set() or time.monotonic() >= ends))
        engine = self.engine
        slice_lags = engine.take_lags()
        self.lags += slice_lags
        if time.monotonic() - self.reported_at >= REPORT_SECONDS or stopping.is_set():
            self.report(engine)
        if stopping.is_set():
            self.close()  # the checks in flight finish and every result is written
        return (f"{len(engine.checks)} monitors at {self.location}: {engine.checked - before} results written, "
                f"lag {lag_text(slice_lags)}"
                + (f", {engine.skipped} checks skipped (still running)" if engine.skipped else ""))

    def report(self, engine: Engine) -> None:
        """One line a minute: the checks started, the results written and the schedule lag since the last."""
        seconds = time.monotonic() - self.reported_at
        log.info("probe at %s: %d monitors; in %.0f s %d checks started, %d results written, %d skipped "
                 "(still running); schedule lag %s", self.location, len(engine.checks), seconds, len(self.lags),
                 engine.checked - self.reported_checked, engine.skipped - self.reported_skipped,
                 lag_text(self.lags))
        self.lags, self.reported_at = [], time.monotonic()
        self.reported_checked, self.reported_skipped = engine.checked, engine.skipped

    def close(self) -> None:
        if self.loop is None:
            return
        self.loop.run_until_complete(self.engine.close())
        self.loop.close()
        self.loop, self.engine = None, None
        self.reported_checked = self.reported_skipped = 0
        release_lease(self.location, self.holder)


def lag_text(lags: list[float]) -> str:
    """How late checks started against their slots: "p50 3 ms, p99 41 ms, max 120 ms"."""
    if not lags:
        return "none started"
    ordered = sorted(lags)

    def at(share: float) -> float:
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000

    return f"p50 {at(0.5):.0f} ms, p99 {at(0.99):.0f} ms, max {ordered[-1] * 1000:.0f} ms"
