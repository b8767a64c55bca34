"""In Chromium: a reader subscribes to one component on the public page and confirms; an incident on that
component reaches them by e-mail (sent by the worker's notifier and deliveries jobs over real SMTP), one on
another component does not; the message's link opens the incident's page and its List-Unsubscribe header
ends the subscription in one click."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from signalpost.events.models import Handling
from signalpost.notify.models import Delivery, Subscriber
from tests.browsing import wait_until
from tests.e2e.test_subscribe_flow import mail_reader, mail_site, subscribed_reader  # noqa: F401 - fixtures
from tests.notify.signup_helpers import link_in, smtp_sink  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def test_a_reader_is_told_of_an_incident_on_their_component_only_and_leaves_from_the_message(
        mail_site, mail_reader, smtp_sink):
    site = mail_site
    site.api.patch("/api/v1/page", {"name": "Example Status"})
    site.api.post("/api/v1/groups", {"name": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh1.single", "group": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh2.cluster", "group": "Switzerland"})
    site.wait_for_text("/", "zh2.cluster", "/subscribe?component=")
    subscribed_reader(site, mail_reader, smtp_sink, "zh1.single", "reader@example.com")

    site.api.post("/api/v1/incidents", {"name": "Cluster rebalancing", "body": "Slow writes on zh2.",
                                        "components": {"zh2.cluster": "degraded_performance"}})
    incident = site.api.post("/api/v1/incidents", {"name": "zh1 unreachable", "body": "We are **on it**.",
                                                   "components": {"zh1.single": "major_outage"}})
    recipients, message = smtp_sink.next(timeout=60)
    assert recipients == ["reader@example.com"]
    assert message["Subject"] == "[Example Status] zh1 unreachable: Investigating"
    assert "<strong>on it</strong>" in message.get_body(("html",)).get_content()
    # Both incidents handled and every delivery gone: the other component's incident made none for them.
    wait_until(lambda: not Handling.objects.filter(consumer="notifier", state="pending").exists()
               and not Delivery.objects.filter(state="pending").exists(), timeout=30, what="the deliveries done")
    assert Delivery.objects.filter(address="reader@example.com").count() == 1
    assert smtp_sink.received.empty()

    page = mail_reader.open(link_in(message, f"/incidents/{incident['id']}"))
    expect(page.get_by_role("heading", name="zh1 unreachable")).to_be_visible()

    # The mail client's one click (RFC 8058), to the message's own List-Unsubscribe address.
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    answer = mail_reader.context.request.post(site.url + urlsplit(unsubscribe).path, data="List-Unsubscribe=One-Click",
                                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200 and "Unsubscribed" in answer.text()
    assert not Subscriber.objects.exists()
