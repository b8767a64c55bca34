"""What the subscription tests share: a real SMTP server whose mailbox lets the "signups" consumer send
what is waiting, and readers of the subscription pages' answers."""

import html
import logging
import re

import pytest

from tests.accounts.conftest import Mailbox, _free_port, serve_smtp
from tests.accounts.helpers import alert, field_error, link_in  # noqa: F401 - shared with the subscription tests


class SignupMailbox(Mailbox):
    @staticmethod
    def deliver() -> None:
        from signalpost.events import consumers
        from signalpost.events.work import drain

        drain(consumers.get("signups"), worker="test")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, with Django's settings pointed at it."""
    yield from serve_smtp(settings, SignupMailbox())


def text_of(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


class SinkMailbox(Mailbox):
    """What an SMTP server received from another process (a worker): nothing to send from here."""

    @staticmethod
    def deliver() -> None:
        pass


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 for worker processes; its `port` goes in their EMAIL_PORT."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = SinkMailbox()
    mailbox.port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
