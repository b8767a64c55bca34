"""Running the publisher in the test process: what a worker would do after the test's writes."""

import time

from django.db import transaction
from django.utils import timezone

from signalpost.events import consumers
from signalpost.events.models import Handling, HandlingState
from signalpost.events.record import record
from signalpost.events.work import drain


def publish(timeout: float = 10.0) -> int:
    """Work through the publisher's pending events now, and wait for those a worker process of the test
    has claimed meanwhile; returns how many this process handled."""
    handled = 0
    deadline = time.monotonic() + timeout
    while True:
        handled += drain(consumers.get("publisher"), worker="test")
        if not Handling.objects.filter(consumer="publisher", state=HandlingState.PENDING, due_at__lte=timezone.now()).exists():
            return handled
        if time.monotonic() > deadline:
            raise AssertionError("the publisher did not catch up")
        time.sleep(0.05)


def republish_everything() -> int:
    """Every page rendered again, as `signalpost publish` does."""
    with transaction.atomic():
        record("snapshot.republish", "snapshot", data={"reason": "test"})
    return publish()


def deliver_mail() -> int:
    return drain(consumers.get("mailer"), worker="test")
