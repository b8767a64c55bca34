"""Never a flood: at most SIGNALPOST_NOTIFY_PER_HOUR messages per subscriber and hour; what is left goes
as one digest at the end of the hour."""

from datetime import timedelta

from django.utils import timezone

from signalpost.notify.delivery import Deliverer
from signalpost.notify.models import Delivery
from signalpost.events.consumers import get
from signalpost.events.work import drain
from signalpost.status import services

from .conftest import subscribe


def test_twenty_updates_in_an_hour_give_six_messages_and_one_digest(sink, components):
    subscribe("reader@example.com")
    incident = services.open_incident(name="Flapping", components={components["zh1"]: "major_outage"})
    for n in range(19):
        services.post_update(incident, status="identified", body=f"Update {n + 1}")
    drain(get("notifier"))
    now = timezone.now() + timedelta(seconds=1)
    Deliverer("test:1").drain(now)
    assert len(sink.messages()) == 6
    assert Delivery.objects.filter(state="held").count() == 14

    hour_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    Deliverer("test:1").drain(hour_end + timedelta(seconds=1))
    messages = sink.messages()
    assert len(messages) == 7
    digest = messages[-1]
    assert digest["Subject"] == "[Example Status] 14 more updates"
    text = digest.get_body(("plain",)).get_content()
    assert text.count("Flapping: Identified") == 14 and f"/incidents/{incident.public_id}" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [record] = Delivery.objects.filter(event_kind="digest")
    assert record.key == f"digest.{record.subscriber_id}.{now:%Y-%m-%dT%H}" and record.state == "sent"
    assert set(record.held.values_list("state", flat=True)) == {"digested"}
    assert record.held.count() == 14


def test_the_limit_is_per_subscriber(sink, settings, components):
    settings.NOTIFY_PER_HOUR = 2
    subscribe("a@example.com")
    subscribe("b@example.com")
    incident = services.open_incident(name="Flapping", components={components["zh1"]: "major_outage"})
    services.post_update(incident, status="identified")
    services.post_update(incident, status="monitoring")
    drain(get("notifier"))
    Deliverer("test:1").drain(timezone.now() + timedelta(seconds=1))
    assert sink.recipients() == {"a@example.com": 2, "b@example.com": 2}
