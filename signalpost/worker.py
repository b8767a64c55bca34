"""The background worker: starts and completes maintenance on time, and republishes the public pages
when time alone changes what they say (a new day, relative times, today's uptime bar)."""

import logging
import signal
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from signalpost.public import snapshot
from signalpost.accounts import audit
from signalpost.status import services

log = logging.getLogger("signalpost.worker")

REPUBLISH_EVERY_SECONDS = 600


class Worker:
    def __init__(self, interval: float | None = None):
        self.interval = interval if interval is not None else settings.WORKER_INTERVAL_SECONDS
        self.stopping = threading.Event()
        self._last_day: str | None = None
        self._last_publish = time.monotonic()

    def tick(self, now: datetime | None = None) -> None:
        """One pass: due maintenance transitions (each republishes itself), then time-driven publishing."""
        now = now or timezone.now()
        with audit.acting(audit.SYSTEM):
            done = services.run_due_transitions(now)
        for update in done:
            log.info("maintenance %s is now %s", update.incident.public_id, update.status)
        day = f"{now.astimezone(ZoneInfo(services.get_page().time_zone)):%Y-%m-%d}"
        if day != self._last_day or time.monotonic() - self._last_publish > REPUBLISH_EVERY_SECONDS:
            if self._last_day is not None:
                snapshot.publish()
            self._last_day = day
            self._last_publish = time.monotonic()

    def run(self) -> None:
        log.info("worker started (every %.0f s)", self.interval)
        while not self.stopping.is_set():
            try:
                close_old_connections()
                self.tick()
            except Exception:  # a failed pass is retried at the next one; the worker keeps going
                log.exception("worker pass failed")
            self.stopping.wait(self.interval)
        log.info("worker stopped")

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
