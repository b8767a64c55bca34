"""The probe as a worker job: the engine on this machine's database, at one location
(SIGNALPOST_MONITOR_LOCATION, "local" by default). The job runs the engine's loop in slices of a few
seconds, beating its heartbeat between them; checks in flight carry on across slices.

One process probes a location at a time (a lease in the database, renewed with every slice): other
workers running the job stand by and take over within LEASE_SECONDS when the holder stops or dies.
"""

import asyncio
import logging
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


def load_checks() -> list[Check]:
    """The monitors to check: every one not paused (heartbeats are not checked: their jobs call in). A
    JSON path is compiled here, once per reading of the monitors, not at every check."""
    import jsonpath

    checks = []
    for m in Monitor.objects.filter(paused=False).exclude(kind=MonitorKind.HEARTBEAT).order_by("pk"):
        try:
            compiled = jsonpath.compile(m.json_path) if m.json_path else None
        except jsonpath.JSONPathError:  # `monitors apply` refuses such a path: one saved before is not checked
            log.warning("monitor %s: JSON path %r does not compile; it is not checked", m.name, m.json_path)
            continue
        checks.append(Check(
            id=m.pk, public_id=m.public_id, kind=m.kind, target=m.target, interval=float(m.interval_seconds),
            timeout=float(m.timeout_seconds), method=m.method, headers=tuple((m.headers or {}).items()),
            body=m.body, expected=tuple(m.expected_statuses or ()), keyword=m.keyword,
            keyword_absent=m.keyword_absent, degraded_above_ms=m.degraded_above_ms,
            follow_redirects=m.follow_redirects, verify_tls=m.verify_tls,
            tls_expiry_days=m.tls_expiry_days, json_path=compiled, json_path_text=m.json_path,
            json_expected=m.json_expected, record_type=m.record_type, dns_expected=tuple(m.dns_expected or ()),
            resolver=m.resolver))
    return checks


class ProbeRunner:
    """The engine kept across the job's passes, on an event loop of the job's thread."""

    def __init__(self, location: str | None = None):
        self.location = location or settings.MONITOR_LOCATION
        self.holder = worker_name()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine: Engine | None = None

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
        if stopping.is_set():
            self.close()  # the checks in flight finish and every result is written
        return (f"{len(engine.checks)} monitors at {self.location}: {engine.checked - before} results written"
                + (f", {engine.skipped} checks skipped (still running)" if engine.skipped else ""))

    def close(self) -> None:
        if self.loop is None:
            return
        self.loop.run_until_complete(self.engine.close())
        self.loop.close()
        self.loop, self.engine = None, None
        release_lease(self.location, self.holder)
