"""People with each role, a logged-in console client, and a real SMTP server on 127.0.0.1."""

import email
import email.policy
import logging
import queue
import socket

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from signalpost.accounts.models import AuditEvent, Profile

PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(db):
    def make(username: str, role: str = "viewer", *, email: str = "", password: str = PASSWORD, active: bool = True):
        user = get_user_model().objects.create_user(username, email=email or f"{username}@example.com",
                                                    password=password, is_active=active)
        Profile.objects.create(user=user, role=role)
        return user

    return make


@pytest.fixture
def owner(make_user):
    return make_user("olivia", "owner")


@pytest.fixture
def admin(make_user):
    return make_user("adam", "admin")


@pytest.fixture
def login(db):
    """A fresh console client logged in as `user` (sessions of several people in one test)."""

    def log_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return log_in


class AuditCount:
    """Counts the audit entries written while the block runs, and returns the new ones."""

    def __init__(self) -> None:
        self.before = AuditEvent.objects.count()
        self.last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=self.last_id).order_by("id"))


@pytest.fixture
def audit_count(db):
    return AuditCount


class Mailbox:
    """What the SMTP server received, as parsed messages. Reading it first lets the mailer send what is
    waiting, as the worker's mailer job does once a request has committed."""

    def __init__(self) -> None:
        self.received: queue.Queue = queue.Queue()

    @staticmethod
    def deliver() -> None:
        from tests.publishing import deliver_mail

        deliver_mail()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.put((list(envelope.rcpt_tos), message))
        return "250 OK"

    def next(self, timeout: float = 10.0):
        self.deliver()
        return self.received.get(timeout=timeout)

    def empty(self, wait: float = 0.5) -> bool:
        self.deliver()
        try:
            self.received.get(timeout=wait)
        except queue.Empty:
            return True
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_smtp(settings, mailbox):
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 delivering into `mailbox`, with Django's
    settings pointed at it, while the generator is suspended (a fixture's body)."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django sets locmem
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SMTP_CONFIGURED = True
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, with Django's settings pointed at it."""
    yield from serve_smtp(settings, Mailbox())
