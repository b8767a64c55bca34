"""The worker's jobs, declared in one place: `signalpost worker` runs them all (or `--only NAME`), and
`signalpost run` starts one process for each.

- every registered consumer of events (the publisher, the mailer...) is a job of its own name;
- transitions: starts and completes maintenance on time;
- clock: records the events that time alone makes (a new day, every few minutes for relative times,
  reminders before maintenance, heartbeats whose ping did not come) and forgets old events;
- deliveries: sends the notifications the notifier made (notify/delivery.py);
- probe: runs the monitors' checks (signalpost/monitors/engine.py) and writes their verdicts.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.events import consumers, health, wake
from signalpost.events.models import Event, Handling, HandlingState
from signalpost.events.record import record as record_event
from signalpost.events.work import recover_own_claims, work_once, worker_name

log = logging.getLogger("signalpost.worker")

REFRESH_MINUTES = 10  # relative times ("12 minutes ago") and today's bar move with time alone


IDLE = "idle"  # what a pass that found nothing to do returns: the job waits before the next one


@dataclass
class Job:
    name: str
    description: str
    run_once: Callable[[threading.Event], str]  # one pass; returns what it did (IDLE: nothing), for the heartbeat
    wait: Callable[[threading.Event], None]  # until the next pass is due (or the job is stopping)
    continuous: bool = False  # it never runs out of work (the probe): `worker --once` makes one pass of it
    close: Callable[[], None] | None = None  # what it holds between passes, released when the job ends


def consumer_job(name: str) -> Job:
    consumer = consumers.get(name)
    woken = wake.waiter(f"events:{name}")
    handler = consumer.load_handler()
    worker = worker_name()

    def run_once(stopping: threading.Event) -> str:
        """One batch (a step, in a republication): the job beats between batches and goes on at once."""
        recover_own_claims(consumer, worker)
        taken = work_once(consumer, worker, stopping, handler=handler)
        return f"handled {taken} events" if taken else IDLE

    def wait(stopping: threading.Event) -> None:
        woken.wait(_until_claimable(name))
        woken.clear()

    return Job(name, f"works through the events for the {name}", run_once, wait)


def _until_claimable(consumer: str) -> float:
    """Seconds until one of the consumer's pending events can be claimed (a retry's back-off ends, another
    worker's claim expires), at most the poll interval: the fallback for a missed wake-up."""
    now = timezone.now()
    pending = Handling.objects.filter(consumer=consumer, state=HandlingState.PENDING)
    # Due ones still pending wait behind an earlier event of their subject: only a back-off's end counts.
    free = (pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), due_at__gt=now)
            .aggregate(at=Min("due_at"))["at"])
    held = pending.filter(claimed_until__gte=now).aggregate(at=Min("claimed_until"))["at"]
    soonest = min(filter(None, [free, held]), default=None)
    timeout = settings.EVENTS_POLL_SECONDS
    if soonest is not None:
        timeout = min(timeout, (soonest - now).total_seconds())
    return max(0.05, timeout)


def _periodic_wait(seconds: float) -> Callable[[threading.Event], None]:
    def wait(stopping: threading.Event) -> None:
        stopping.wait(seconds)
    return wait


def _transitions(stopping: threading.Event) -> str:
    from signalpost.status import services

    with audit.acting(audit.SYSTEM):
        done = services.run_due_transitions()
    for update in done:
        log.info("maintenance %s is now %s", update.incident.public_id, update.status)
    return f"{len(done)} transitions" if done else IDLE


def clock_events(now: datetime | None = None) -> list[str]:
    """Record what time alone changes, once however many workers run: the page's day turning over,
    and a refresh every REFRESH_MINUTES. Returns the kinds recorded."""
    from signalpost.presentation.zone import page_zone

    now = now or timezone.now()
    day = now.astimezone(page_zone()).date()
    slot = now.replace(minute=now.minute - now.minute % REFRESH_MINUTES, second=0, microsecond=0)
    day_key, slot_key = f"clock.day:{day.isoformat()}", f"clock.refresh:{slot.isoformat()}"
    if Event.objects.filter(key__in=[day_key, slot_key]).count() == 2:
        return []  # the usual pass: both said already (a read, no write lock on SQLite)
    recorded = []
    with transaction.atomic():
        if record_event("clock.day", "clock", occurred_at=now, key=day_key, data={"day": day.isoformat()}):
            recorded.append("clock.day")
        elif record_event("clock.refresh", "clock", occurred_at=now, key=slot_key):
            recorded.append("clock.refresh")
    return recorded


def forget_old_events(now: datetime | None = None) -> int:
    """Events every consumer is done with, older than the retention, are deleted with their handlings
    (an event still pending or set aside is kept, whatever its age)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    unfinished = Handling.objects.exclude(state=HandlingState.DONE).values("event_id")
    # An upgrade's republication is kept: it is how `signalpost migrate` knows this code's pages exist.
    old = Event.objects.filter(recorded_at__lt=cutoff).exclude(pk__in=unfinished).exclude(kind="snapshot.republish")
    deleted, _ = old.delete()
    health.forget_old_beats()
    return deleted


def _clock(stopping: threading.Event) -> str:
    from signalpost.monitors.heartbeat import record_missed
    from signalpost.notify.consumer import record_due_reminders

    recorded = clock_events()
    recorded += ["maintenance.reminder"] * bool(record_due_reminders())
    with audit.acting(audit.SYSTEM):
        missed = record_missed()
    forgotten = forget_old_events() if recorded else 0  # with each refresh: every ten minutes is enough
    return ", ".join(recorded + ([f"{missed} heartbeats missed"] if missed else [])
                     + ([f"forgot {forgotten} old rows"] if forgotten else [])) or IDLE


def deliveries_job() -> Job:
    from signalpost.notify.delivery import TOPIC, Deliverer, seconds_until_due

    deliverer = Deliverer(worker_name())
    woken = wake.waiter(TOPIC)

    def run_once(stopping: threading.Event) -> str:
        """One batch, sent and recorded whole: SIGTERM lets it finish, then the job stops."""
        taken = deliverer.run_once(stopping=stopping)
        return f"handled {taken} deliveries" if taken else IDLE

    def wait(stopping: threading.Event) -> None:
        woken.wait(seconds_until_due())
        woken.clear()

    return Job("deliveries", "sends the notifications: e-mail, webhooks, chat", run_once, wait)


def probe_job() -> Job:
    from signalpost.monitors.probe import ProbeRunner

    runner = ProbeRunner()

    def run_once(stopping: threading.Event) -> str:
        with audit.acting(audit.SYSTEM):
            return runner.run_once(stopping)

    return Job("probe", "checks the monitors on their intervals and turns their verdicts into component status",
               run_once, lambda stopping: None, continuous=True, close=runner.close)


def jobs() -> list[Job]:
    """Every job: those that make events first, so that one pass (`worker --once`) also handles them."""
    return [
        Job("transitions", "starts and completes maintenance on time", _transitions,
            _periodic_wait(settings.WORKER_INTERVAL_SECONDS)),
        Job("clock", "records the events time makes (a new day, relative times, missed heartbeats), forgets old events", _clock,
            _periodic_wait(5.0)),
        probe_job(),
        *(consumer_job(c.name) for c in consumers.registered()),
        deliveries_job(),
    ]


def job_names() -> list[str]:
    return ["transitions", "clock", "probe"] + [c.name for c in consumers.registered()] + ["deliveries"]
