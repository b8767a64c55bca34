"""A reader subscribes in Chromium on the public page to one component, gets the confirmation mail (real
SMTP, sent by the worker), confirms, and leaves with a mail client's one-click unsubscribe."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from signalpost.notify.models import Subscriber
from tests.browsing import ASYNC_UNSAFE, ApiClient, Reader, Site
from tests.notify.signup_helpers import link_in, smtp_sink  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_site(start_server, make_token, smtp_sink) -> Site:
    """The site with its worker sending mail to the test's SMTP server."""
    server = start_server("e2e-mail", **{ASYNC_UNSAFE: "", "EMAIL_HOST": "127.0.0.1",
                                         "EMAIL_PORT": str(smtp_sink.port)})
    return Site(server, ApiClient(server.url, make_token("admin")))


@pytest.fixture
def mail_reader(browser, mail_site):
    """A reader's browser tab on that site."""
    context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    yield Reader(context, mail_site.url)
    context.close()


def subscribed_reader(site: Site, reader, mailbox, component: str, address: str) -> str:
    """The reader subscribes to `component` from its row on the front page and confirms through the mail;
    returns the manage page's path. (Later steps, such as being told of an incident, start from here.)"""
    page = reader.open("/")
    page.get_by_role("link", name=f"Subscribe to updates about {component}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to updates")
    expect(page.get_by_role("checkbox", name=component)).to_be_checked()
    expect(page.get_by_role("radio", name="Only the ones I choose")).to_be_checked()
    page.get_by_role("radio", name="Webhook").check()  # only the chosen channel's fields are shown
    expect(page.get_by_label("URL", exact=True)).to_be_visible()
    expect(page.get_by_label("E-mail address", exact=True)).to_be_hidden()
    page.get_by_role("radio", name="E-mail").check()
    expect(page.get_by_label("URL", exact=True)).to_be_hidden()
    page.get_by_label("E-mail address", exact=True).fill(address)
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    recipients, message = mailbox.next(timeout=30)
    assert recipients == [address]
    page.goto(site.url + link_in(message, "/subscriptions/confirm/"))
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("status")).to_contain_text("Subscription confirmed")
    return urlsplit(page.url).path


def test_a_reader_subscribes_to_one_component_confirms_and_unsubscribes_with_one_click(mail_site, mail_reader,
                                                                                        smtp_sink):
    site = mail_site
    site.api.patch("/api/v1/page", {"name": "Example Status"})
    site.api.post("/api/v1/groups", {"name": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh1.single", "group": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh2.cluster", "group": "Switzerland"})
    site.wait_for_text("/", "zh2.cluster", "/subscribe?component=")
    reader = mail_reader

    manage = subscribed_reader(site, reader, smtp_sink, "zh1.single", "reader@example.com")
    subscriber = Subscriber.objects.get()
    assert subscriber.is_confirmed and [c.name for c in subscriber.components.all()] == ["zh1.single"]

    page = reader.open(manage)
    expect(page.get_by_role("checkbox", name="zh1.single")).to_be_checked()
    expect(page.get_by_role("checkbox", name="zh2.cluster")).not_to_be_checked()
    unsubscribe = page.get_by_role("link", name="Stop all updates").get_attribute("href")
    assert re.fullmatch(r"/subscriptions/[^/]+/unsubscribe", unsubscribe)

    # The mail client's one click (RFC 8058): a POST without cookies or CSRF token.
    answer = reader.context.request.post(site.url + unsubscribe, data="List-Unsubscribe=One-Click",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200 and "Unsubscribed" in answer.text()
    assert not Subscriber.objects.exists()
    page.goto(site.url + manage)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
