"""Appending an event, inside the transaction of the change it records."""

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import wake
from .consumers import registered
from .models import Event, Handling


class OutsideTransaction(RuntimeError):
    pass


def record(kind: str, subject: str, *, occurred_at: datetime | None = None, notify: bool = False,
           data: dict | None = None, key: str | None = None) -> Event | None:
    """Append one event and a handling for every consumer that takes its kind. It must be called inside
    the change's transaction: a change rolled back leaves no event. With `key`, an event already
    recorded under that key makes this a no-op (returns None)."""
    if not connection.in_atomic_block:
        raise OutsideTransaction(f"the event {kind} must be recorded inside the transaction of its change")
    now = timezone.now()
    event = Event(kind=kind, subject=subject, occurred_at=occurred_at or now, recorded_at=now, notify=notify,
                  data=data or {}, key=key)
    if key is None:
        event.save()
    else:
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            return None
    consumers = [c for c in registered() if c.takes(kind)]
    Handling.objects.bulk_create(
        Handling(event=event, consumer=c.name, subject=subject, due_at=now) for c in consumers
    )
    for consumer in consumers:
        wake.announce(f"events:{consumer.name}")
    return event


def record_all(kind: str, items: list[tuple[str, datetime, dict]], *, notify: bool = False) -> list[Event]:
    """Append several events of one kind, (subject, occurred_at, data) each, in that order, and their
    handlings: the same as `record` for each, written in two statements (a probe's first results give
    thousands of monitors their first verdict at once)."""
    if not connection.in_atomic_block:
        raise OutsideTransaction(f"the events {kind} must be recorded inside the transaction of their change")
    if not items:
        return []
    now = timezone.now()
    events = Event.objects.bulk_create(
        Event(kind=kind, subject=subject, occurred_at=occurred_at or now, recorded_at=now, notify=notify,
              data=data or {}) for subject, occurred_at, data in items)
    consumers = [c for c in registered() if c.takes(kind)]
    Handling.objects.bulk_create(
        (Handling(event=event, consumer=c.name, subject=event.subject, due_at=now) for event in events
         for c in consumers), batch_size=5000)
    for consumer in consumers:
        wake.announce(f"events:{consumer.name}")
    return events
