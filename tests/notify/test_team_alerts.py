"""The team's alert channels: an Apprise URL is refused at a private address unless
SIGNALPOST_OUTBOUND_ALLOW allows it (the reason beside the field), never shown back in full, sent a test
from the console, and told about dead letters and paused webhooks by the "team_alerts" consumer; a
channel that fails makes the event fail (retried by the events machinery), and a retry tells only the
channels that had not taken it."""

import ipaddress
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.events.consumers import get
from signalpost.events.models import Handling
from signalpost.events.record import record
from signalpost.events.work import work_once
from signalpost.notify import admin
from signalpost.notify.models import TeamChannel
from tests.console.events_support import signed_in

from .receiver import Receiver

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def allowed(settings):
    settings.OUTBOUND_ALLOW = LOOPBACK


def _channel(receiver, name="On-call", kinds=("delivery.failed", "subscriber.paused"), path="hook") -> TeamChannel:
    return admin.add_team_channel(name=name, url=f"json://127.0.0.1:{receiver.port}/{path}?secret=abcdef123",
                                  kinds=kinds)


def test_a_url_at_a_private_address_is_refused_beside_the_field(client, db, receiver, settings):
    settings.OUTBOUND_ALLOW = ()
    signed_in(client, "ada", "admin")
    response = client.post(reverse("console:team_channel_new"), {
        "name": "On-call", "url": f"json://127.0.0.1:{receiver.port}/hook", "kinds": ["delivery.failed"]})
    assert response.status_code == 400
    page = response.content.decode()
    field = page[page.index('id="id_url"'):]
    assert "refused" in field[:1500] and "loopback" in field[:1500].lower()
    assert not TeamChannel.objects.exists()


def test_an_allowed_url_is_saved_and_never_shown_back_in_full(client, db, receiver, allowed):
    signed_in(client, "ada", "admin")
    url = f"json://user:sup3rs3cret@127.0.0.1:{receiver.port}/hook"
    response = client.post(reverse("console:team_channel_new"), {"name": "On-call", "url": url,
                                                                  "kinds": ["delivery.failed"]})
    assert response.status_code == 302
    page = client.get(reverse("console:team_alerts")).content.decode()
    assert "On-call" in page and "sup3rs3cret" not in page
    [entry] = AuditEvent.objects.filter(action="team_channel.add")
    assert "sup3rs3cret" not in str(entry.after)


def test_a_url_apprise_does_not_know_is_refused(client, db, allowed):
    signed_in(client, "ada", "admin")
    response = client.post(reverse("console:team_channel_new"), {"name": "x", "url": "nosuch://what",
                                                                  "kinds": ["delivery.failed"]})
    assert response.status_code == 400 and "not an Apprise URL" in response.content.decode()


def test_the_console_sends_a_test_message(client, db, receiver, allowed):
    signed_in(client, "ada", "admin")
    channel = _channel(receiver)
    response = client.post(reverse("console:team_channel_test", args=[channel.pk]), follow=True)
    assert "A test message went to “On-call”" in response.content.decode()
    [message] = receiver.received
    assert message["body"]["title"] == "Test alert from Signalpost"


def test_the_test_says_why_it_failed(client, db, allowed, settings):
    signed_in(client, "ada", "admin")
    with Receiver(status=500) as failing:
        channel = _channel(failing)
        response = client.post(reverse("console:team_channel_test", args=[channel.pk]), follow=True)
    page = response.content.decode()
    assert "did not go" in page and "abcdef123" not in page


def _event(kind: str, data: dict):
    with transaction.atomic():
        return record(kind, f"subscriber:{data.get('subscriber', 'x')}", data=data)


def test_a_dead_letter_and_a_paused_webhook_reach_the_channels_that_take_them(db, receiver, allowed):
    _channel(receiver, name="Everything")
    _channel(receiver, name="Pauses only", kinds=("subscriber.paused",), path="pauses")
    _event("delivery.failed", {"address": "ana@example.com", "channel": "email", "attempts": 8,
                               "about": "Volumes unreachable: investigating", "error": "451 mailbox busy"})
    _event("subscriber.paused", {"subscriber": "abc", "address": "https://hooks.example.com/x",
                                 "reason": "10 failures within an hour"})
    while work_once(get("team_alerts")):
        pass
    by_path = {}
    for message in receiver.received:
        by_path.setdefault(message["path"], []).append(message["body"])
    assert [m["title"] for m in by_path["/hook"]] == ["A notification could not be delivered",
                                                      "A subscriber's webhook is paused"]
    assert "ana@example.com" in by_path["/hook"][0]["message"] and "451 mailbox busy" in by_path["/hook"][0]["message"]
    assert [m["title"] for m in by_path["/pauses"]] == ["A subscriber's webhook is paused"]
    assert set(Handling.objects.filter(consumer="team_alerts").values_list("state", flat=True)) == {"done"}


def test_a_failing_channel_is_retried_and_the_others_are_not_told_twice(db, receiver, allowed, settings):
    _channel(receiver, name="Works")
    with Receiver(status=503) as failing:
        _channel(failing, name="Down", path="down")
        _event("delivery.failed", {"address": "ana@example.com"})
        work_once(get("team_alerts"))
        handling = Handling.objects.get(consumer="team_alerts")
        assert handling.state == "pending" and "Down" in handling.last_error and "abcdef123" not in handling.last_error
        assert len(receiver.received) == 1 and len(failing.received) == 1
        failing.status = 200
        Handling.objects.filter(pk=handling.pk).update(due_at=timezone.now() - timedelta(seconds=1))  # its back-off over
        work_once(get("team_alerts"))
    assert len(receiver.received) == 1  # told once
    assert len(failing.received) == 2  # the retry
    assert Handling.objects.get(pk=handling.pk).state == "done"


def test_without_the_allowance_the_consumer_refuses_to_send(db, receiver, allowed, settings):
    _channel(receiver)
    settings.OUTBOUND_ALLOW = ()
    _event("delivery.failed", {"address": "ana@example.com"})
    work_once(get("team_alerts"))
    handling = Handling.objects.get(consumer="team_alerts")
    assert handling.state == "pending" and "refused" in handling.last_error
    assert receiver.received == []


def test_removing_a_channel(client, db, receiver, allowed):
    signed_in(client, "ada", "admin")
    channel = _channel(receiver)
    client.post(reverse("console:team_channel_remove", args=[channel.pk]))
    assert not TeamChannel.objects.exists()
    assert AuditEvent.objects.filter(action="team_channel.remove").count() == 1
