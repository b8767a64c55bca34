"""Subscribing on the public page by e-mail: double opt-in over real SMTP, answers that never tell
whether an address is subscribed, signed links that work once and expire, changing and leaving."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.notify import links
from signalpost.notify.models import Delivery, Subscriber

from .signup_helpers import alert, field_error, link_in, smtp_server, text_of  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def subscribe(client, **data):
    form = {"channel": "email", "email": "reader@example.com", "scope": "all", **data}
    return client.post("/subscribe", form)


def confirmed_subscriber(client, mailbox, address="reader@example.com", **data) -> str:
    """Subscribe and confirm through the mailed link; returns the manage page's path."""
    subscribe(client, email=address, **data)
    path = link_in(mailbox.next()[1], "/subscriptions/confirm/")
    response = client.post(path)
    assert response.status_code == 302
    return response["Location"].split("?")[0]


def test_every_public_page_offers_to_subscribe(client, components):
    response = client.get("/")
    assert 'href="/subscribe"' in response.content.decode()
    assert f'href="/subscribe?component={components["zh1"].public_id}"' in response.content.decode()
    assert "Subscribe to updates about zh1.single" in text_of(response)
    assert 'href="/subscribe"' in client.get("/history").content.decode()


def test_a_component_s_link_opens_the_form_with_that_component_ticked(client, components, smtp_server):
    zh1 = components["zh1"].public_id
    page = client.get(f"/subscribe?component={zh1}").content.decode()
    assert f'value="{zh1}" checked' in page
    assert re.search(r'<input type="radio" name="scope" value="some"[^>]* checked>', page)
    # grouped like the page shows them
    assert page.index("<legend>Switzerland</legend>") < page.index("zh1.single") < page.index("<legend>Germany</legend>")


def test_without_a_mail_server_e_mail_is_not_offered(client, components, settings):
    settings.SMTP_CONFIGURED = False
    page = client.get("/subscribe").content.decode()
    assert 'value="email"' not in page and 'name="email"' not in page
    response = subscribe(client)
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response, "channel")
    assert not Subscriber.objects.exists()


def test_a_reader_subscribes_confirms_and_hears_about_chosen_components(client, components, smtp_server):
    zh1 = components["zh1"]
    response = subscribe(client, scope="some", components=[zh1.public_id])
    assert response.status_code == 200 and "Check your inbox" in text_of(response)
    recipients, message = smtp_server.next()
    assert recipients == ["reader@example.com"]
    assert "Confirm your subscription" in message["Subject"]
    assert "zh1.single" in message.get_body(preferencelist=("plain",)).get_content()
    assert message["Message-ID"].startswith("<subscriber.confirmation_requested.")
    subscriber = Subscriber.objects.get()
    assert not subscriber.is_confirmed and not subscriber.all_components
    path = link_in(message, "/subscriptions/confirm/")
    # Following the link (a mail scanner does) confirms nothing: only the page's button does.
    page = client.get(path)
    assert page.status_code == 200 and "Confirm subscription" in text_of(page)
    subscriber.refresh_from_db()
    assert not subscriber.is_confirmed
    response = client.post(path)
    assert response.status_code == 302
    manage = client.get(response["Location"])
    assert "Subscription confirmed" in text_of(manage)
    subscriber.refresh_from_db()
    assert subscriber.is_confirmed and list(subscriber.components.all()) == [zh1]


def test_the_answer_is_the_same_for_a_new_a_pending_and_a_subscribed_address(client, components, smtp_server):
    confirmed_subscriber(client, smtp_server, "known@example.com")
    subscribe(client, email="pending@example.com")
    smtp_server.next()
    answers = {}
    for address in ("new@example.com", "pending@example.com", "known@example.com"):
        response = subscribe(client, email=address)
        answers[address] = (response.status_code, text_of(response).replace(address, "ADDRESS"))
    assert len(set(answers.values())) == 1, answers
    mails = {tuple(recipients): message for recipients, message in (smtp_server.next() for _ in range(3))}
    # the pending address gets a new confirmation link; the subscribed one its manage link, not a second subscription
    assert "/subscriptions/confirm/" in mails[("pending@example.com",)].get_body(preferencelist=("plain",)).get_content()
    known = mails[("known@example.com",)]
    assert "subscribed already" in known.get_body(preferencelist=("plain",)).get_content()
    link_in(known, "/subscriptions/")
    assert "/subscriptions/confirm/" not in known.get_body(preferencelist=("plain",)).get_content()
    assert Subscriber.objects.filter(address_key="known@example.com").count() == 1


def test_asking_again_for_a_pending_address_voids_the_earlier_link(client, components, smtp_server):
    subscribe(client)
    first = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    subscribe(client)
    second = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 302


def test_knowing_an_address_is_not_enough_to_change_its_subscription(client, components, smtp_server):
    confirmed_subscriber(client, smtp_server)
    subscribe(client, scope="some", components=[components["de1"].public_id])
    smtp_server.next()
    subscriber = Subscriber.objects.get()
    assert subscriber.all_components and subscriber.is_confirmed


@pytest.mark.parametrize("address, message", [
    ("not an address", "Enter an e-mail address"),
    ("", "Enter an e-mail address"),
    ("reader@", "Enter an e-mail address"),
])
def test_a_bad_address_is_refused_beside_its_field(client, components, smtp_server, address, message):
    response = subscribe(client, email=address)
    assert response.status_code == 400
    assert message in field_error(response, "email")
    assert "Nothing was sent" in alert(response)
    assert not Subscriber.objects.exists() and smtp_server.empty()


def test_choosing_some_components_needs_at_least_one(client, components, smtp_server):
    response = subscribe(client, scope="some")
    assert response.status_code == 400
    assert "Choose at least one component" in field_error(response, "components")
    assert not Subscriber.objects.exists()


def test_self_signup_is_limited_per_address(client, components, smtp_server, settings):
    settings.SIGNUP_PER_ADDRESS = 2
    for _ in range(2):
        assert subscribe(client).status_code == 200
        smtp_server.next()
    response = subscribe(client)
    assert response.status_code == 429
    assert "Too many subscription requests" in alert(response)
    assert smtp_server.empty()
    assert subscribe(client, email="other@example.com").status_code == 200  # another address is not held back


def test_self_signup_is_limited_per_client_address(client, components, smtp_server, settings):
    settings.SIGNUP_PER_IP = 3
    for number in range(3):
        assert subscribe(client, email=f"reader{number}@example.com").status_code == 200
    response = subscribe(client, email="reader9@example.com")
    assert response.status_code == 429
    from_elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert subscribe(from_elsewhere, email="reader9@example.com").status_code == 200
    assert Subscriber.objects.count() == 4


def test_a_confirmation_link_works_once(client, components, smtp_server):
    subscribe(client)
    path = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    assert client.post(path).status_code == 302
    again = client.post(path)
    assert again.status_code == 404 and "no longer valid" in text_of(again)


def test_a_confirmation_link_expires(client, components, smtp_server):
    subscribe(client)
    path = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    later = timezone.now() + timedelta(seconds=links.CONFIRM_MAX_AGE + 60)
    with mock.patch("time.time", return_value=later.timestamp()):
        response = client.get(path)
    assert response.status_code == 404 and "expired" in text_of(response)
    assert not Subscriber.objects.get().is_confirmed


def test_a_tampered_link_is_refused(client, components, smtp_server):
    subscribe(client)
    path = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    token = path.rsplit("/", 1)[1]
    tampered = path[: -len(token)] + token[:-1] + ("A" if token[-1] != "A" else "B")
    for response in (client.get(tampered), client.post(tampered)):
        assert response.status_code == 404 and "not valid" in text_of(response)
    assert not Subscriber.objects.get().is_confirmed
    # nor does a confirmation link open the manage page
    assert client.get("/subscriptions/" + token).status_code == 404


def test_the_manage_page_changes_the_components(client, components, smtp_server):
    manage = confirmed_subscriber(client, smtp_server)
    page = client.get(manage)
    assert page.status_code == 200 and "reader@example.com" in text_of(page)
    chosen = [components["de1"].public_id, components["mail"].public_id]
    response = client.post(manage, {"scope": "some", "components": chosen})
    assert response.status_code == 200 and "Saved" in text_of(response)
    subscriber = Subscriber.objects.get()
    assert not subscriber.all_components
    assert sorted(subscriber.components.values_list("public_id", flat=True)) == sorted(chosen)
    response = client.post(manage, {"scope": "some"})
    assert response.status_code == 400 and "Choose at least one" in field_error(response, "components")
    client.post(manage, {"scope": "all"})
    assert Subscriber.objects.get().all_components


def test_one_click_unsubscribe_deletes_the_subscriber(components, smtp_server):
    reader = Client(enforce_csrf_checks=True)
    manage = confirmed_subscriber(Client(), smtp_server)
    subscriber = Subscriber.objects.get()
    Delivery.objects.create(key=f"1.{subscriber.pk}", event_id=1, event_kind="incident.opened", subject="incident:x",
                            subscriber=subscriber, channel="email", address=subscriber.address, state="sent")
    url = links.unsubscribe_url(Subscriber.objects.get()).removeprefix("http://testserver")
    url = "/" + url.split("/", 3)[3]
    assert "Unsubscribe" in text_of(reader.get(url)) and Subscriber.objects.exists()  # a GET asks first
    # what a mail client sends for RFC 8058's List-Unsubscribe-Post: no cookie, no CSRF token
    response = reader.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "Unsubscribed" in text_of(response)
    assert not Subscriber.objects.exists()
    assert reader.get(manage).status_code == 404
    assert list(Delivery.objects.values_list("address", "subscriber")) == [("r…@example.com", None)]


def test_the_subscription_forms_need_their_csrf_token(components, smtp_server):
    reader = Client(enforce_csrf_checks=True)
    assert reader.post("/subscribe", {"channel": "email", "email": "a@example.com", "scope": "all"}).status_code == 403
    assert not Subscriber.objects.exists()


def test_every_write_is_audited_once_as_a_visitor_of_the_public_page(client, components, smtp_server):
    def entries_of(action):
        before = AuditEvent.objects.count()
        result = action()
        return result, list(AuditEvent.objects.order_by("id")[before:])

    _, [entry] = entries_of(lambda: subscribe(client))
    assert (entry.action, entry.actor_kind, entry.source, entry.address) == (
        "subscriber.subscribe", "visitor", "public", "127.0.0.1")
    assert "reader@example.com" not in entry.object_repr
    path = link_in(smtp_server.next()[1], "/subscriptions/confirm/")
    response, [entry] = entries_of(lambda: client.post(path))
    assert (entry.action, entry.source) == ("subscriber.confirm", "public")
    manage = response["Location"].split("?")[0]
    _, [entry] = entries_of(lambda: client.post(manage, {"scope": "some", "components": [components["zh1"].public_id]}))
    assert (entry.action, entry.source) == ("subscriber.change", "public")
    _, [entry] = entries_of(lambda: subscribe(client))
    assert (entry.action, entry.source) == ("subscriber.manage_link_request", "public")
    _, [entry] = entries_of(lambda: client.post(manage + "/unsubscribe"))
    assert (entry.action, entry.actor_kind, entry.source) == ("subscriber.unsubscribe", "visitor", "public")


def test_refused_requests_count_against_the_limit_too(client, components, smtp_server, settings):
    settings.SIGNUP_PER_IP = 2
    for _ in range(2):
        assert subscribe(client, email="not an address").status_code == 400
    assert subscribe(client).status_code == 429
    assert not Subscriber.objects.exists() and smtp_server.empty()


def test_a_pending_address_whose_link_expired_is_forgotten(client, components, smtp_server):
    subscribe(client, email="forgetful@example.com")
    smtp_server.next()
    long_ago = timezone.now() - timedelta(seconds=links.CONFIRM_MAX_AGE + 60)
    Subscriber.objects.update(confirmation_sent_at=long_ago, created_at=long_ago)
    subscribe(client, email="someone.else@example.com")
    assert list(Subscriber.objects.values_list("address", flat=True)) == ["someone.else@example.com"]


def test_the_subscription_pages_are_never_cached(client, components, smtp_server):
    manage = confirmed_subscriber(client, smtp_server)
    for path in ("/subscribe", manage, manage + "/unsubscribe"):
        assert "no-store" in client.get(path)["Cache-Control"], path
