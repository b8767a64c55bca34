"""The background worker: runs the jobs of jobs.py, each in a thread of its own, each beating a heartbeat
that /healthz and the console's dashboard read.

SIGTERM (or Ctrl-C) lets every job finish the item in hand and exit; a job killed outright loses
nothing, because what it had claimed is taken again once its claim expires.
"""

import logging
import signal
import threading
import time

from django.db import close_old_connections, connections

from signalpost.events import health, wake
from signalpost.events.work import worker_name

from .jobs import IDLE, Job, jobs

log = logging.getLogger("signalpost.worker")


BEAT_SECONDS = 5.0  # a job beats at most this often, between passes (a busy job between its batches)


def _pass(job: Job, worker: str, stopping: threading.Event, fresh_connection: bool = True,
          last_beat: list[float] | None = None) -> str:
    try:
        if fresh_connection:  # a connection the database dropped meanwhile is replaced
            close_old_connections()
        detail = job.run_once(stopping)
        if last_beat is None or time.monotonic() - last_beat[0] >= BEAT_SECONDS:
            health.beat(job.name, worker, detail)
            if last_beat is not None:
                last_beat[0] = time.monotonic()
        return detail
    except Exception:  # a failed pass is retried at the next one; the job keeps going
        log.exception("job %s: pass failed", job.name)
        return IDLE


def _close(job: Job) -> None:
    if job.close is not None:
        try:
            job.close()
        except Exception:
            log.exception("job %s: closing failed", job.name)


def run_job(job: Job, stopping: threading.Event) -> None:
    worker = worker_name()
    log.info("job %s started: %s", job.name, job.description)
    last_beat = [float("-inf")]
    while not stopping.is_set():
        if _pass(job, worker, stopping, last_beat=last_beat) != IDLE:
            continue  # more may be waiting: go on at once (beating every BEAT_SECONDS meanwhile)
        if stopping.is_set():
            break
        try:
            job.wait(stopping)
        except Exception:  # the database is down: wait like a poll, then try again
            log.exception("job %s: waiting failed", job.name)
            stopping.wait(5.0)
    _close(job)
    try:
        health.stopped(job.name, worker)
    except Exception:
        pass
    connections.close_all()
    log.info("job %s stopped", job.name)


class Worker:
    def __init__(self, only: list[str] | None = None):
        every = jobs()
        known = {job.name for job in every}
        unknown = [name for name in only or [] if name not in known]
        if unknown:
            raise LookupError(f'no job named "{unknown[0]}" (jobs: {", ".join(sorted(known))})')
        self.jobs = [job for job in every if not only or job.name in only]
        self.stopping = threading.Event()

    def run_once(self) -> None:
        """Every job until it has nothing more to do, in this thread (`signalpost worker --once`)."""
        worker = worker_name()
        for job in self.jobs:
            while _pass(job, worker, self.stopping, fresh_connection=False) != IDLE and not job.continuous:
                pass
            _close(job)

    def run(self) -> None:
        threads = [threading.Thread(target=run_job, args=(job, self.stopping), name=f"job-{job.name}")
                   for job in self.jobs]
        for thread in threads:
            thread.start()
        # The main thread only waits, so that signals reach it.
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
        log.info("worker stopped")

    def stop(self) -> None:
        self.stopping.set()
        wake.wake_all()  # jobs waiting for work look up and see that they are to stop

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
