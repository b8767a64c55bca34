"""Fixtures of the delivery tests: subscribers, a real SMTP server (aiosmtpd) that keeps what it is
given, and the notifier and delivery job run in the test process."""

import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter

import pytest
from django.utils import timezone

from signalpost.events.consumers import get
from signalpost.events.work import drain
from signalpost.notify.models import Subscriber


class Sink:
    """What an SMTP server received: each message parsed, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[tuple[str, bytes]] = []
        self.arrived: list[float] = []  # time.monotonic() of each message
        self.port = 0
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, envelope.original_content or envelope.content))
                self.arrived.append(time.monotonic())
        return "250 OK"

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        with self.lock:
            items = list(self.received)
        return [email.message_from_bytes(raw, policy=email.policy.default) for rcpt, raw in items
                if to is None or rcpt == to]

    def recipients(self) -> Counter:
        with self.lock:
            return Counter(rcpt for rcpt, _ in self.received)

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.messages())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sink(settings):
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = Sink()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", mailbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SMTP_CONFIGURED = True
    yield mailbox
    controller.stop()


def subscribe(address: str, *components, channel: str = "email", **fields) -> Subscriber:
    subscriber = Subscriber.objects.create(channel=channel, address=address, address_key=address.lower(),
                                           all_components=not components, confirmed_at=timezone.now(), **fields)
    if components:
        subscriber.components.set(components)
    return subscriber


def notify_and_send() -> None:
    """The notifier's events handled and every due delivery sent, here and now (as a worker would)."""
    from signalpost.notify.delivery import Deliverer

    drain(get("notifier"))
    Deliverer("test:1").drain()
