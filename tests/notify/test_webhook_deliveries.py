"""Webhooks and chat through the delivery job, against real receivers on loopback: retried with
back-off until one succeeds (every attempt recorded), signed, paused after ten failures in an hour
(its owner told), its pending deliveries cancelled."""

import ipaddress
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from signalpost.events.consumers import get
from signalpost.events.models import Event
from signalpost.events.work import drain
from signalpost.notify.delivery import Deliverer
from signalpost.notify.formats import new_secret
from signalpost.notify.models import Attempt, Delivery, Subscriber
from signalpost.status import services

from .conftest import subscribe


class ScriptedReceiver:
    """Answers each POST as the script says, in turn ("500", "hang", "200"; the last one repeats)."""

    def __init__(self, *script: str):
        self.script = list(script)
        self.received: list[tuple[dict, bytes]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                step = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                if step == "hang":
                    receiver.release.wait(10)
                    step = "200"
                self.send_response(int(step))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("127.0.0.1/32")]
    settings.NOTIFY_HTTP_TIMEOUT = 0.5


@pytest.fixture
def receiver():
    made = []

    def make(*script):
        made.append(ScriptedReceiver(*script))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_webhook_answering_500_then_timing_out_then_200_is_delivered_once_every_attempt_recorded(
        loopback_allowed, receiver, components):
    hook = receiver("500", "hang", "200")
    secret = new_secret()
    subscriber = subscribe(hook.url, components["zh1"], channel="webhook", secret=secret)
    incident = services.open_incident(name="Database outage", components={components["zh1"]: "major_outage"})
    drain(get("notifier"))
    start = timezone.now()
    deliverer = Deliverer("test:1")
    for hours in range(4):  # each pass after the back-off of the one before
        deliverer.run_once(start + timedelta(hours=hours))

    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.state == "sent" and delivery.attempts == 3
    attempts = list(Attempt.objects.filter(delivery=delivery).order_by("at"))
    assert [(a.ok, a.status) for a in attempts] == [(False, 500), (False, None), (True, 200)]
    assert attempts[0].error == "HTTP 500 Internal Server Error"
    assert "timed out" in attempts[1].error
    assert len(hook.received) == 3
    headers, body = hook.received[-1]
    assert headers["webhook-id"] == delivery.key
    Webhook(secret).verify(body, headers)  # raises unless the signature holds
    payload = json.loads(body)
    assert payload["incident"]["id"] == incident.public_id
    assert payload["meta"]["unsubscribe"].endswith("/unsubscribe")


def test_a_webhook_that_keeps_failing_is_paused_after_ten_and_its_owner_told(
        loopback_allowed, receiver, sink, settings, components):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    hook = receiver("500")
    subscriber = subscribe(hook.url, channel="webhook", owner_email="owner@example.com")
    incident = services.open_incident(name="Flapping", components={components["zh1"]: "major_outage"})
    for n in range(5):
        services.post_update(incident, status="identified", body=f"Update {n}")
    drain(get("notifier"))
    start = timezone.now()
    deliverer = Deliverer("test:1")
    for minutes in range(0, 50, 5):
        deliverer.run_once(start + timedelta(minutes=minutes))
    deliverer.drain(start + timedelta(minutes=50))

    subscriber.refresh_from_db()
    assert subscriber.paused_at is not None and "failed 10 times within an hour" in subscriber.paused_reason
    assert Attempt.objects.filter(delivery__subscriber=subscriber, ok=False).count() == 10
    assert len(hook.received) == 10
    [paused] = Event.objects.filter(kind="subscriber.paused")
    assert paused.data["subscriber"] == subscriber.public_id and paused.data["owner_email"] == "owner@example.com"
    # What it had not yet received is cancelled; what ran out of attempts is a dead letter.
    states = set(Delivery.objects.filter(subscriber=subscriber, channel="webhook").values_list("state", flat=True))
    assert states <= {"cancelled", "failed"} and "cancelled" in states
    assert Event.objects.filter(kind="delivery.failed").exists()
    [mail] = sink.messages("owner@example.com")
    assert mail["Subject"] == "[Example Status] Your webhook was paused"
    assert hook.url in mail.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in mail


def test_a_slack_hook_gets_a_slack_message(loopback_allowed, receiver, components):
    hook = receiver("200")
    subscribe(hook.url, channel="slack")
    incident = services.open_incident(name="Database outage", body="Looking into it.",
                                      components={components["zh1"]: "major_outage"})
    drain(get("notifier"))
    Deliverer("test:1").drain()
    [(headers, body)] = hook.received
    message = json.loads(body)
    assert "attachments" in message or "blocks" in message
    assert f"/incidents/{incident.public_id}" in body.decode()


def test_a_removed_subscribers_deliveries_are_cancelled(loopback_allowed, receiver, components):
    hook = receiver("200")
    subscriber = subscribe(hook.url, channel="webhook")
    services.open_incident(name="Outage", components={components["zh1"]: "major_outage"})
    drain(get("notifier"))
    Subscriber.objects.filter(pk=subscriber.pk).delete()
    Deliverer("test:1").drain()
    assert hook.received == []
    assert Delivery.objects.get().state == "cancelled"
