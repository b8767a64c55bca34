"""The subscribers screens, as an admin uses them: search and filter, add (confirmed or asked to
confirm), remove, resume a paused webhook, export and import CSV (a preview first, nothing written while
any line is bad), and who may reach them."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.events.models import Event
from signalpost.notify import admin
from signalpost.notify.models import Delivery, DeliveryState, Subscriber

from .events_support import signed_in


@pytest.fixture
def admin_client(client, components):
    return signed_in(client, "ada", "admin")


def _add(address: str, channel: str = "email", **fields) -> Subscriber:
    return admin.add_subscriber(channel=channel, address=address, **fields)


def test_a_responder_cannot_see_the_subscribers(client, components):
    signed_in(client, "rita", "responder")
    assert client.get(reverse("console:subscribers")).status_code == 403


def test_the_list_searches_by_address_and_filters_by_channel_and_state(admin_client, components):
    _add("ana@example.com", confirmed=True)
    _add("bob@example.com")
    paused = _add("carla@example.org", confirmed=True)
    Subscriber.objects.filter(pk=paused.pk).update(paused_at=timezone.now(), paused_reason="kept failing")

    page = admin_client.get(reverse("console:subscribers"), {"q": "EXAMPLE.com"}).content.decode()
    assert "ana@example.com" in page and "bob@example.com" in page and "carla@example.org" not in page

    page = admin_client.get(reverse("console:subscribers"), {"state": "pending"}).content.decode()
    assert "bob@example.com" in page and "ana@example.com" not in page

    page = admin_client.get(reverse("console:subscribers"), {"state": "paused"}).content.decode()
    assert "carla@example.org" in page and "ana@example.com" not in page

    page = admin_client.get(reverse("console:subscribers"), {"channel": "webhook"}).content.decode()
    assert "No subscriber matches" in page

    assert admin_client.get(reverse("console:subscribers"), {"state": "asleep"}).status_code == 400


def test_the_list_is_paginated(admin_client, components):
    for n in range(55):
        _add(f"reader{n:02}@example.com", confirmed=True)
    first = admin_client.get(reverse("console:subscribers")).content.decode()
    second = admin_client.get(reverse("console:subscribers"), {"page": 2}).content.decode()
    assert "page 1 of 2" in first and "reader54@example.com" in first and "reader00@example.com" not in first
    assert "reader00@example.com" in second


def test_an_admin_adds_a_confirmed_address_that_is_told_at_once(admin_client, components):
    response = admin_client.post(reverse("console:subscriber_new"), {
        "channel": "email", "address": "Ops@Example.com", "confirmed": "on",
        "components": [components["zh1"].public_id]})
    subscriber = Subscriber.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:subscriber",
                                                                           args=[subscriber.public_id])
    assert subscriber.is_confirmed and subscriber.source == "admin" and not subscriber.all_components
    assert list(subscriber.components.all()) == [components["zh1"]]
    assert not Event.objects.filter(kind="subscriber.confirmation_requested").exists()
    [entry] = AuditEvent.objects.filter(action="subscriber.add")
    assert entry.actor == "ada" and entry.object_id == subscriber.public_id


def test_an_address_added_unconfirmed_is_asked_to_confirm(admin_client, components):
    admin_client.post(reverse("console:subscriber_new"), {"channel": "email", "address": "new@example.com"})
    subscriber = Subscriber.objects.get()
    assert not subscriber.is_confirmed
    [event] = Event.objects.filter(kind="subscriber.confirmation_requested")
    assert event.subject == f"subscriber:{subscriber.public_id}" and event.data["subscriber"] == subscriber.public_id


def test_a_bad_or_known_address_is_refused_beside_the_field(admin_client, components):
    response = admin_client.post(reverse("console:subscriber_new"), {"channel": "email", "address": "not an address"})
    assert response.status_code == 400
    assert "is not an e-mail address" in response.content.decode()
    _add("known@example.com")
    response = admin_client.post(reverse("console:subscriber_new"), {"channel": "email", "address": "KNOWN@example.com"})
    assert response.status_code == 400 and "already subscribed" in response.content.decode()
    assert Subscriber.objects.count() == 1


def test_a_webhook_at_a_private_address_is_refused_with_the_reason(admin_client, components, settings):
    settings.OUTBOUND_ALLOW = []
    response = admin_client.post(reverse("console:subscriber_new"),
                                 {"channel": "webhook", "address": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400 and "refused" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_removing_a_subscriber_cancels_what_was_waiting_for_it(admin_client, components):
    subscriber = _add("leaving@example.com", confirmed=True)
    waiting = Delivery.objects.create(key="1.x", event_id=1, event_kind="incident.opened", subject="incident:x",
                                      subscriber=subscriber, channel="email", address=subscriber.address)
    response = admin_client.post(reverse("console:subscriber_remove", args=[subscriber.public_id]))
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    waiting.refresh_from_db()
    assert waiting.state == DeliveryState.CANCELLED and waiting.address == "leaving@example.com"


def test_a_paused_webhook_is_resumed(admin_client, components, settings):
    settings.OUTBOUND_ALLOW = __import__("ipaddress").ip_network("127.0.0.1/32"),
    hook = _add("http://127.0.0.1:9/hook", channel="webhook", confirmed=True)
    Subscriber.objects.filter(pk=hook.pk).update(paused_at=timezone.now(), paused_reason="10 failures in an hour")
    page = admin_client.get(reverse("console:subscriber", args=[hook.public_id])).content.decode()
    assert "Resume" in page and "10 failures in an hour" in page
    admin_client.post(reverse("console:subscriber_resume", args=[hook.public_id]))
    hook.refresh_from_db()
    assert hook.paused_at is None and hook.paused_reason == ""
    assert AuditEvent.objects.filter(action="subscriber.resume").count() == 1


# --- CSV ------------------------------------------------------------------------------------------------


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_names_components_and_defuses_formulas(admin_client, components):
    _add("ana@example.com", confirmed=True, components=[components["zh1"].public_id, components["mail"].public_id])
    Subscriber.objects.create(channel="email", address="+cmd@example.com", address_key="+cmd@example.com")
    response = admin_client.get(reverse("console:subscriber_export"))
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert list(rows[0]) == ["channel", "address", "components", "confirmed", "created"]
    by_address = {row["address"]: row for row in rows}
    assert by_address["ana@example.com"]["components"] == "Mail delivery; Switzerland/zh1.single"
    assert by_address["ana@example.com"]["confirmed"].endswith("Z")
    assert "'+cmd@example.com" in by_address  # a spreadsheet shows it as text
    assert by_address["'+cmd@example.com"]["confirmed"] == ""


def test_export_then_import_gives_the_same_subscribers(admin_client, components, settings):
    settings.OUTBOUND_ALLOW = __import__("ipaddress").ip_network("127.0.0.1/32"),
    _add("ana@example.com", confirmed=True, components=[components["zh1"].public_id])
    _add("-bob@example.com")
    _add("http://127.0.0.1:9/hook", channel="webhook", confirmed=True, components=[components["de2"].public_id])
    exported = b"".join(admin_client.get(reverse("console:subscriber_export")).streaming_content)

    def described():
        return sorted((s.channel, s.address, s.all_components, sorted(c.name for c in s.components.all()),
                       s.confirmed_at.replace(microsecond=0) if s.confirmed_at else None,
                       s.created_at.replace(microsecond=0)) for s in Subscriber.objects.all())

    before = described()
    Subscriber.objects.all().delete()
    upload = io.BytesIO(exported)
    upload.name = "subscribers.csv"
    preview = admin_client.post(reverse("console:subscriber_import"), {"file": upload, "preview": "1"})
    assert preview.status_code == 200 and "3 new subscribers" in preview.content.decode()
    assert not Subscriber.objects.exists()  # a preview writes nothing
    response = admin_client.post(reverse("console:subscriber_import"), {"text": exported.decode("utf-8-sig"),
                                                                         "import": "1"})
    assert response.status_code == 302
    after = described()
    assert [row[:4] for row in after] == [row[:4] for row in before]
    assert [(row[4] is None, row[5]) for row in after] == [(row[4] is None, row[5]) for row in before]
    assert AuditEvent.objects.filter(action="subscriber.import").count() == 1
    # the one left unconfirmed is asked to confirm
    assert Event.objects.filter(kind="subscriber.confirmation_requested").count() == 2  # once added, once imported


def test_an_import_with_a_bad_line_writes_nothing_and_names_line_and_column(admin_client, components):
    text = ("channel,address,components\n"
            "email,ok@example.com,\n"
            "email,not-an-address,\n"
            "pager,x@example.com,\n"
            "email,c@example.com,Nowhere\n")
    response = admin_client.post(reverse("console:subscriber_import"), {"text": text, "import": "1"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Line 3, column address: is not an e-mail address" in page
    assert "Line 4, column channel: must be one of" in page
    assert "Line 5, column components: unknown component &quot;Nowhere&quot;" in page
    assert not Subscriber.objects.exists()


def test_all_confirmed_marks_every_imported_address_confirmed(admin_client, components):
    _add("known@example.com")
    text = "channel,address\nemail,a@example.com\nemail,KNOWN@example.com\n"
    admin_client.post(reverse("console:subscriber_import"), {"text": text, "all_confirmed": "on", "import": "1"})
    assert Subscriber.objects.get(address="a@example.com").is_confirmed
    assert not Subscriber.objects.get(address="known@example.com").is_confirmed  # already there: left as it was
    assert Subscriber.objects.count() == 2
