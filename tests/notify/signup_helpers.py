"""What the subscription tests share: a real SMTP server whose mailbox lets the "signups" consumer send
what is waiting, and readers of the subscription pages' answers."""

import html
import logging
import re
from urllib.parse import urlsplit

import pytest

from tests.accounts.conftest import Mailbox, _free_port


class SignupMailbox(Mailbox):
    @staticmethod
    def deliver() -> None:
        from signalpost.events import consumers
        from signalpost.events.work import drain

        drain(consumers.get("signups"), worker="test")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, with Django's settings pointed at it."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = SignupMailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SMTP_CONFIGURED = True
    try:
        yield mailbox
    finally:
        controller.stop()


def field_error(response, field: str) -> str:
    """The error shown beside a form field, or "" when there is none."""
    found = re.findall(rf'<p class="error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.DOTALL)
    return html.unescape(" ".join(found)).strip()


def alert(response) -> str:
    found = re.findall(r'<div class="form-errors" role="alert">(.*?)</div>', response.content.decode(), re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(found)))


def text_of(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def link_in(message, path_prefix: str) -> str:
    """The path of the first link in the message's text that starts with path_prefix."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    for url in re.findall(r"https?://\S+", text):
        path = urlsplit(url).path
        if path.startswith(path_prefix):
            return path
    raise AssertionError(f"no link to {path_prefix} in:\n{text}")


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
