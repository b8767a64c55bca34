"""Real delivery workers: one killed with SIGKILL in the middle of sending an update to 5,000
subscribers loses nobody and repeats at most the batch it had in flight; two on PostgreSQL share the
deliveries and send each once."""

import os
import signal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from signalpost.notify.models import Delivery, Subscriber
from signalpost.status import services
from tests.browsing import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 100


def _subscribers(count: int) -> list[str]:
    now = timezone.now()
    addresses = [f"reader{n}@example.com" for n in range(count)]
    Subscriber.objects.bulk_create(Subscriber(channel="email", address=a, address_key=a, confirmed_at=now)
                                   for a in addresses)
    return addresses


def _env(sink) -> dict:
    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink.port), "SIGNALPOST_NOTIFY_BATCH": str(BATCH),
            "SIGNALPOST_NOTIFY_LEASE": "3", "SIGNALPOST_NOTIFY_PER_HOUR": "6"}


def _sent() -> int:
    return Delivery.objects.filter(state="sent").count()


def test_a_killed_delivery_worker_loses_nobody_and_repeats_at_most_its_batch(sink, start_worker, components):
    addresses = _subscribers(5000)
    with transaction.atomic():
        services.open_incident(name="Everything is down", components={components["zh1"]: "major_outage"})
    env = _env(sink)
    start_worker("notifier", name="notifier", **env)
    doomed = start_worker("deliveries", name="doomed", **env)
    wait_until(lambda: _sent() >= 1000, timeout=120, what="the worker sending")
    os.kill(doomed.process.pid, signal.SIGKILL)
    doomed.process.wait(timeout=10)
    assert _sent() < len(addresses)  # killed in the middle

    again = start_worker("deliveries", name="again", **env)
    wait_until(lambda: _sent() == len(addresses), timeout=180, what="every delivery sent")
    received = sink.recipients()
    assert set(received) == set(addresses)  # every subscriber got it
    repeats = sum(received.values()) - len(addresses)
    by_id = sink.message_ids()
    assert sum(n - 1 for n in by_id.values()) == repeats  # a repeat is recognisably the same message
    assert repeats <= BATCH  # at most the batch that was in flight
    assert again.stop() == 0


def test_two_workers_on_postgresql_share_the_deliveries_and_send_each_once(sink, start_worker, components):
    if connection.vendor != "postgresql":
        pytest.skip("several delivery workers at once need PostgreSQL (SQLite runs one writer)")
    addresses = _subscribers(2000)
    with transaction.atomic():
        services.open_incident(name="Everything is down", components={components["zh1"]: "major_outage"})
    env = _env(sink)
    start_worker("notifier", name="notifier", **env)
    first = start_worker("deliveries", name="first", **env)
    second = start_worker("deliveries", name="second", **env)
    wait_until(lambda: _sent() == len(addresses), timeout=180, what="every delivery sent")
    assert sink.recipients() == {a: 1 for a in addresses}
    assert first.stop() == 0 and second.stop() == 0
    assert "sent " in first.log and "sent " in second.log  # both took a share


def test_sigterm_finishes_the_batch_in_hand_and_exits(sink, start_worker, components):
    addresses = _subscribers(1500)
    with transaction.atomic():
        services.open_incident(name="Everything is down", components={components["zh1"]: "major_outage"})
    env = _env(sink)
    start_worker("notifier", name="notifier", **env)
    worker = start_worker("deliveries", name="stopping", **env)
    wait_until(lambda: _sent() >= 100, timeout=120, what="the worker sending")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
    # Nothing left claimed: the batch in hand was sent and recorded, nothing was sent twice.
    assert not Delivery.objects.filter(state="pending").exclude(claimed_by="").exists()
    assert max(sink.recipients().values()) == 1
    assert sum(sink.recipients().values()) == _sent() < len(addresses)
