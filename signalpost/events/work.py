"""Working through a consumer's events: claim, handle, mark; retry with back-off; set aside.

A claim is marked in the UPDATE that takes it (`claimed_by`, `claimed_until`), as healthchecks'
sendalerts marks its flips: another worker sees the claim at once, and a worker that dies leaves a
claim that expires and is taken again. On PostgreSQL the claim also skips rows another worker is
claiming at that instant (FOR UPDATE SKIP LOCKED), so several workers share a consumer's events
without taking one twice; SQLite runs one writer at a time and needs no such clause.

Events of one subject are handled in order: a handling is claimable only when no earlier handling of
the same subject (for that consumer) is still pending. A failing event therefore holds back the
later events of its own subject, never those of other subjects; once set aside it no longer does.

What a handler is given and returns:
- a batch consumer's handler takes a list of Work and returns {event id: outcome}; an event it leaves
  out is done;
- a one-at-a-time handler takes one Work and returns an outcome (None: done).
An outcome is Done(), Failed(error) or Continue(progress): a long piece of work (republishing every
page) done in steps, each step's progress kept, so that other events interleave and a restart
resumes where it stopped.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import wake
from .consumers import Consumer
from .models import Event, Handling, HandlingState

log = logging.getLogger("signalpost.events")

MAX_BACKOFF_SECONDS = 300


@dataclass
class Work:
    event: Event
    attempt: int  # 1 for the first try
    progress: dict | None  # what a Continue kept


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class Failed:
    error: str
    progress: dict | None = None  # details to keep with the failure (the pages that failed)


@dataclass(frozen=True)
class Continue:
    progress: dict


Outcome = Done | Failed | Continue


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.EVENTS_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def lease(consumer: Consumer) -> timedelta:
    return timedelta(seconds=settings.EVENTS_LEASE_SECONDS or consumer.lease_seconds)


def max_attempts(consumer: Consumer) -> int:
    return settings.EVENTS_MAX_ATTEMPTS or consumer.max_attempts


_CLAIM = """
UPDATE events_handling SET claimed_by = %(worker)s, claimed_until = %(until)s, attempts = attempts + 1
WHERE id IN (
    SELECT h.id FROM events_handling h
    WHERE h.consumer = %(consumer)s AND h.state = 'pending' AND h.due_at <= %(now)s
      AND (h.claimed_until IS NULL OR h.claimed_until < %(now)s)
      AND NOT EXISTS (
          SELECT 1 FROM events_handling e
          WHERE e.consumer = h.consumer AND e.subject = h.subject AND e.state = 'pending'
            AND e.event_id < h.event_id)
    ORDER BY h.event_id
    LIMIT %(limit)s
    {lock}
) AND (claimed_until IS NULL OR claimed_until < %(now)s)
RETURNING id
"""


def claimed_ids(sql: str, params: dict) -> list[int]:
    """Run a claiming UPDATE ... RETURNING id (its `{lock}` becomes FOR UPDATE SKIP LOCKED on PostgreSQL, where
    several workers claim at once) and return the ids it marked."""
    sql = sql.format(lock="FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else "")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]


def claim(consumer: Consumer, worker: str, limit: int | None = None, now: datetime | None = None) -> list[Handling]:
    """Take up to `limit` of the consumer's due handlings, oldest first, marked as this worker's."""
    now = now or timezone.now()
    ids = claimed_ids(_CLAIM, {"worker": worker, "until": now + lease(consumer), "consumer": consumer.name,
                               "now": now, "limit": limit or consumer.batch_size})
    if not ids:
        return []
    return list(Handling.objects.filter(pk__in=ids).select_related("event").order_by("event_id"))


def _mark(handling: Handling, outcome: Outcome, worker: str, consumer: Consumer, now: datetime) -> None:
    mine = Handling.objects.filter(pk=handling.pk, claimed_by=worker, state=HandlingState.PENDING)
    if isinstance(outcome, Continue):
        mine.update(progress=outcome.progress, claimed_until=None, claimed_by="", due_at=now, attempts=0,
                    last_error="")
    elif isinstance(outcome, Failed):
        error = outcome.error[:4000]
        if outcome.progress is not None:
            mine.update(progress=outcome.progress)
        if handling.attempts >= max_attempts(consumer):
            if mine.update(state=HandlingState.SET_ASIDE, claimed_until=None, last_error=error):
                log.error("%s set aside event %s (%s) after %s attempts: %s", consumer.name, handling.event_id,
                          handling.event.kind, handling.attempts, error)
        else:
            mine.update(claimed_until=None, due_at=now + backoff(handling.attempts), last_error=error)
            log.warning("%s failed on event %s (%s), attempt %s; retrying in %s s: %s", consumer.name,
                        handling.event_id, handling.event.kind, handling.attempts,
                        int(backoff(handling.attempts).total_seconds()), error)
    else:
        mine.update(state=HandlingState.DONE, done_at=now, claimed_until=None, last_error="")


def _release(handlings: list[Handling], worker: str) -> None:
    """Give claims back untried (the worker is stopping): others take them at once, no attempt spent."""
    Handling.objects.filter(pk__in=[h.pk for h in handlings], claimed_by=worker,
                            state=HandlingState.PENDING).update(claimed_until=None, claimed_by="",
                                                                 attempts=F("attempts") - 1)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def work_once(consumer: Consumer, worker: str | None = None, stopping: threading.Event | None = None,
              handler: Callable | None = None) -> int:
    """Claim one batch and handle it. Returns how many events were taken (0: nothing is due)."""
    worker = worker or worker_name()
    handler = handler or consumer.load_handler()
    handlings = claim(consumer, worker)
    if not handlings:
        return 0
    items = {h.event_id: Work(h.event, h.attempts, h.progress) for h in handlings}
    if consumer.batch:
        try:
            outcomes = handler(list(items.values())) or {}
        except Exception as error:
            log.exception("%s failed on a batch of %s events", consumer.name, len(handlings))
            outcomes = {event_id: Failed(_error_text(error)) for event_id in items}
        now = timezone.now()
        with transaction.atomic():
            for handling in handlings:
                _mark(handling, outcomes.get(handling.event_id) or Done(), worker, consumer, now)
        return len(handlings)
    for n, handling in enumerate(handlings):
        if stopping is not None and stopping.is_set():
            _release(handlings[n:], worker)
            break
        try:
            outcome = handler(items[handling.event_id]) or Done()
        except Exception as error:
            log.exception("%s failed on event %s (%s)", consumer.name, handling.event_id, handling.event.kind)
            outcome = Failed(_error_text(error))
        with transaction.atomic():
            _mark(handling, outcome, worker, consumer, timezone.now())
    return len(handlings)


def release_claims_of(worker: str) -> int:
    """Every claim of a worker process known to be dead (`signalpost run` saw it exit): taken again at once
    rather than when the lease expires."""
    return Handling.objects.filter(claimed_by=worker, state=HandlingState.PENDING,
                                   claimed_until__isnull=False).update(claimed_until=None, claimed_by="")


def recover_own_claims(consumer: Consumer, worker: str) -> int:
    """Claims this worker left behind when a pass broke off (the database went away before it could
    mark them): a worker handles one batch of a consumer at a time, so between batches none of its
    claims is in hand, and they are given back at once instead of waiting out their lease."""
    return Handling.objects.filter(consumer=consumer.name, claimed_by=worker, state=HandlingState.PENDING,
                                   claimed_until__isnull=False).update(claimed_until=None, claimed_by="")


def drain(consumer: Consumer, worker: str | None = None, handler: Callable | None = None) -> int:
    """Work until nothing is due (the CLI's `publish`, tests). Returns the events handled."""
    total = 0
    while taken := work_once(consumer, worker, handler=handler):
        total += taken
    return total


def retry(handling_ids: list[int]) -> list[Handling]:
    """Put set-aside handlings back in the queue, as new (what the console's Retry does); call it inside
    a transaction. Returns those it put back."""
    handlings = list(Handling.objects.select_for_update().filter(pk__in=handling_ids, state=HandlingState.SET_ASIDE)
                     .select_related("event"))
    Handling.objects.filter(pk__in=[h.pk for h in handlings]).update(
        state=HandlingState.PENDING, attempts=0, due_at=timezone.now(), claimed_until=None, claimed_by="")
    for consumer in {h.consumer for h in handlings}:
        wake.announce(f"events:{consumer}")
    return handlings
