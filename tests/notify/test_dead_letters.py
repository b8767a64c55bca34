"""The whole path of a dead letter, with the real parts: an incident is mailed through a real SMTP
server that refuses one address; the delivery fails and is in the console's dead-letter list, and the
team is told on its alert channel (a loopback receiver, through Apprise); once the mailbox works, an
admin's Retry sends it, and both attempts are on record."""

import ipaddress

from django.urls import reverse

from signalpost.events.consumers import get
from signalpost.events.work import drain
from signalpost.notify import admin
from signalpost.notify.models import Delivery, DeliveryState
from signalpost.status import services
from tests.console.events_support import signed_in

from .conftest import notify_and_send, subscribe
from .receiver import Receiver


def test_a_refused_mail_is_a_dead_letter_the_team_hears_of_and_an_admin_retries(client, components, sink, settings):
    settings.OUTBOUND_ALLOW = (ipaddress.ip_network("127.0.0.1/32"),)
    subscribe("ana@example.com")
    subscribe("bob@example.com")
    sink.refuse = {"bob@example.com"}
    with Receiver() as team:
        admin.add_team_channel(name="On-call", url=f"json://127.0.0.1:{team.port}/alerts", kinds=["delivery.failed"])
        incident = services.open_incident(name="Volumes unreachable", impact="major", body="Investigating.",
                                          components={components["zh1"]: "major_outage"})
        notify_and_send()
        assert sink.recipients() == {"ana@example.com": 1}
        failed = Delivery.objects.get(address="bob@example.com")
        assert failed.state == DeliveryState.FAILED

        drain(get("team_alerts"))
        [alert] = team.received
        assert alert["body"]["title"] == "A notification could not be delivered"
        assert "bob@example.com" in alert["body"]["message"]

    signed_in(client, "ada", "admin")
    listing = client.get(reverse("console:dead_letters")).content.decode()
    assert "bob@example.com" in listing
    page = client.get(reverse("console:incident_deliveries", args=[incident.public_id])).content.decode()
    assert "1 sent" in page and "1 failed" in page and "550" in page

    sink.refuse = set()
    client.post(reverse("console:delivery_retry", args=[failed.pk]))
    notify_and_send()
    assert sink.recipients() == {"ana@example.com": 1, "bob@example.com": 1}
    failed.refresh_from_db()
    assert failed.state == DeliveryState.SENT
    assert [a.ok for a in failed.attempt_set.order_by("at", "id")] == [False, True]
