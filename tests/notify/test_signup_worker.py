"""The confirmation mail is sent by the worker's "signups" job, in a process of its own, over real SMTP."""

from django.test import Client

from signalpost.notify.models import Subscriber

from .signup_helpers import link_in, smtp_sink  # noqa: F401 - a fixture


def test_a_worker_process_mails_the_confirmation(smtp_sink, start_worker, components, settings):
    settings.SMTP_CONFIGURED = True  # this process offers e-mail; the worker sends it
    worker = start_worker("signups", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_sink.port),
                          SIGNALPOST_URL="https://status.example.com")
    response = Client().post("/subscribe", {"channel": "email", "email": "Reader@Example.com", "scope": "some",
                                            "components": [components["mail"].public_id]})
    assert response.status_code == 200
    recipients, message = smtp_sink.next(timeout=30)
    assert recipients == ["Reader@Example.com"], worker.log
    assert message["Message-ID"].startswith("<subscriber.confirmation_requested.")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "https://status.example.com/subscriptions/confirm/" in text and "Mail delivery" in text
    assert Client().post(link_in(message, "/subscriptions/confirm/")).status_code == 302
    assert Subscriber.objects.get().is_confirmed
    assert smtp_sink.empty()  # one mail, once
