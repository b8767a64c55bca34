"""The per-channel rate limits (SIGNALPOST_NOTIFY_RATE_EMAIL, _WEBHOOK, _CHAT): a delivery worker sends
no faster than the limit, and everything is still sent. Only a lower bound on the time taken is asserted:
a slow machine makes it longer, never shorter."""

import time

from signalpost.events.consumers import get
from signalpost.events.work import drain
from signalpost.notify.delivery import Deliverer
from signalpost.notify.models import Delivery
from signalpost.status import services

from .conftest import subscribe
from .test_webhook_deliveries import loopback_allowed, receiver  # noqa: F401 (fixtures)


def test_e_mail_goes_no_faster_than_its_rate_limit(sink, settings, components):
    settings.NOTIFY_RATE_EMAIL = 10.0  # a message every 0.1 s
    for n in range(12):
        subscribe(f"reader{n}@example.com")
    services.open_incident(name="Database outage", components={components["zh1"]: "major_outage"})
    drain(get("notifier"))
    Deliverer("test:1").drain()

    assert len(sink.messages()) == 12
    assert sink.arrived[-1] - sink.arrived[0] >= 11 * 0.1 * 0.95  # 12 starts, 0.1 s apart
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}


def test_webhooks_go_no_faster_than_their_rate_limit(loopback_allowed, receiver, sink, settings,  # noqa: F811
                                                     components):
    settings.NOTIFY_RATE_WEBHOOK = 4.0
    hook = receiver("204")
    for n in range(9):
        subscribe(f"{hook.url}/{n}", channel="webhook")
    for n in range(20):
        subscribe(f"reader{n}@example.com")  # e-mail has no limit: sent in the same batches
    services.open_incident(name="Database outage", components={components["zh1"]: "major_outage"})
    drain(get("notifier"))
    began = time.monotonic()
    Deliverer("test:1").drain()
    arrived = time.monotonic() - began

    assert len(hook.received) == 9 and len(sink.messages()) == 20
    assert arrived >= 2 * 0.95  # 9 webhooks at 4 a second: three seconds' worth, two waits between them
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
