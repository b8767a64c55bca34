"""Deliveries in the console: per incident, each delivery with its state and attempts; the dead-letter
list, and Retry (one or all) that queues failed deliveries again, due now."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.notify import admin
from signalpost.notify.models import Attempt, Delivery, DeliveryState
from signalpost.status import services

from .events_support import signed_in


@pytest.fixture
def incident(components):
    return services.open_incident(name="Volumes unreachable", impact="major", body="Investigating.",
                                  components={components["zh1"]: "major_outage"})


def _delivery(incident, address: str, state: str, *attempts: tuple, event_id: int = 1) -> Delivery:
    subscriber = admin.add_subscriber(channel="email", address=address, confirmed=True)
    delivery = Delivery.objects.create(
        key=f"{event_id}.{subscriber.public_id}", event_id=event_id, event_kind="incident.opened",
        subject=f"incident:{incident.public_id}", about="Volumes unreachable: investigating", subscriber=subscriber,
        channel="email", address=address, state=state, attempts=len(attempts),
        due_at=timezone.now() + timedelta(hours=1))
    for ok, status, error in attempts:
        Attempt.objects.create(delivery=delivery, ok=ok, status=status, error=error)
    return delivery


def test_the_incident_page_lists_each_delivery_with_its_attempts(client, incident):
    signed_in(client, "ada", "admin")
    _delivery(incident, "ana@example.com", DeliveryState.SENT, (True, 250, ""))
    _delivery(incident, "bob@example.com", DeliveryState.FAILED, (False, 451, "mailbox busy"), (False, None, "timed out"))
    assert 'href="' + reverse("console:incident_deliveries", args=[incident.public_id]) in client.get(
        reverse("console:incident", args=[incident.public_id])).content.decode()
    page = client.get(reverse("console:incident_deliveries", args=[incident.public_id])).content.decode()
    assert "ana@example.com" in page and "bob@example.com" in page
    assert "1 sent" in page and "1 failed" in page
    assert "status 451" in page and "mailbox busy" in page and "timed out" in page


def test_a_responder_sees_no_deliveries(client, incident):
    signed_in(client, "rita", "responder")
    assert client.get(reverse("console:incident_deliveries", args=[incident.public_id])).status_code == 403
    assert 'Deliveries</a>' not in client.get(reverse("console:incident", args=[incident.public_id])).content.decode()


def test_retry_one_puts_a_failed_delivery_back_in_the_queue_due_now(client, incident):
    signed_in(client, "ada", "admin")
    failed = _delivery(incident, "bob@example.com", DeliveryState.FAILED, (False, 451, "mailbox busy"))
    assert "bob@example.com" in client.get(reverse("console:dead_letters")).content.decode()
    before = timezone.now()
    client.post(reverse("console:delivery_retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PENDING and before <= failed.due_at <= timezone.now()
    assert failed.attempts == 0 and failed.attempt_set.count() == 1  # the history stays
    assert "No delivery has failed" in client.get(reverse("console:dead_letters")).content.decode()
    [entry] = AuditEvent.objects.filter(action="delivery.retry")
    assert entry.actor == "ada" and entry.object_id == failed.key


def test_retry_all_takes_every_failed_delivery_and_no_other(client, incident):
    signed_in(client, "ada", "admin")
    failed = [_delivery(incident, f"r{n}@example.com", DeliveryState.FAILED, (False, None, "refused")) for n in range(3)]
    sent = _delivery(incident, "ok@example.com", DeliveryState.SENT, (True, 250, ""))
    client.post(reverse("console:deliveries_retry"))
    assert {d.state for d in Delivery.objects.filter(pk__in=[d.pk for d in failed])} == {DeliveryState.PENDING}
    sent.refresh_from_db()
    assert sent.state == DeliveryState.SENT
    assert AuditEvent.objects.filter(action="delivery.retry").count() == 1
