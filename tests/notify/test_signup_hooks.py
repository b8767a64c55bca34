"""Subscribing a webhook or a chat tool's incoming webhook on the public page: the URL passes the
outbound address rules (a chat tool's only on that tool's hosts), and the subscription starts at once,
its secret and manage link shown once."""

import ipaddress
import re

import pytest

from signalpost.notify.models import Subscriber

from .signup_helpers import field_error, text_of

pytestmark = pytest.mark.django_db
HOOK = "http://127.0.0.1:9/hooks/status"


@pytest.fixture
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOW = [ipaddress.ip_network("127.0.0.1/32")]


def subscribe(client, **data):
    return client.post("/subscribe", {"channel": "webhook", "url": HOOK, "scope": "all", **data})


def test_a_webhook_is_subscribed_at_once_and_its_secret_shown_once(client, components, loopback_allowed):
    response = subscribe(client, owner_email="ops@example.com", scope="some",
                         components=[components["zh2"].public_id])
    assert response.status_code == 200, field_error(response, "url")
    subscriber = Subscriber.objects.get()
    assert subscriber.is_confirmed and subscriber.channel == "webhook" and subscriber.owner_email == "ops@example.com"
    assert subscriber.secret.startswith("whsec_")
    page = text_of(response)
    assert subscriber.secret in page and "this page shows it once" in page
    manage = re.search(r'href="https?://[^"/]+(/subscriptions/[^"]+)"', response.content.decode())[1]
    assert client.get(manage).status_code == 200
    assert list(subscriber.components.all()) == [components["zh2"]]


def test_a_webhook_keeps_the_secret_it_was_given(client, components, loopback_allowed):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert subscribe(client, secret=secret).status_code == 200
    assert Subscriber.objects.get().secret == secret


def test_a_bad_secret_is_refused_beside_its_field(client, components, loopback_allowed):
    response = subscribe(client, secret="hunter2")
    assert response.status_code == 400 and "whsec_" in field_error(response, "secret")
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("url, reason", [
    (HOOK, "127.0.0.1 is a loopback address"),
    ("http://10.1.2.3/hook", "private"),
    ("ftp://example.com/hook", "https://"),
    ("not a url", "https://"),
    ("", "Enter the URL"),
])
def test_a_url_the_outbound_rules_refuse_is_refused_beside_its_field(client, components, url, reason):
    response = subscribe(client, url=url)
    assert response.status_code == 400
    assert reason in field_error(response, "url")
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("channel, url", [
    ("slack", "https://example.com/services/T0/B0/x"),
    ("discord", "https://hooks.slack.com/services/T0/B0/x"),
    ("teams", "https://discord.com/api/webhooks/1/x"),
])
def test_a_chat_tool_takes_only_its_own_hosts(client, components, channel, url):
    response = subscribe(client, channel=channel, url=url)
    assert response.status_code == 400
    assert "is not one of" in field_error(response, "url")
    assert not Subscriber.objects.exists()


def test_a_url_subscribed_already_is_not_taken_again(client, components, loopback_allowed):
    assert subscribe(client).status_code == 200
    response = subscribe(client, url=HOOK.replace("127.0.0.1", "127.0.0.1.").upper().replace("/HOOKS/STATUS", "/hooks/status"))
    assert response.status_code == 400
    assert "subscribed already" in field_error(response, "url")
    assert Subscriber.objects.count() == 1
