"""The accounts screens in Chromium: no serious accessibility violation (axe-core, WCAG 2 A/AA) in the light
theme on a laptop and the dark theme on a phone, and nothing the Content-Security-Policy blocks."""

import re

import pytest
from django.contrib.auth import get_user_model

from signalpost.accounts import services
from signalpost.accounts.models import Profile
from tests.browsing import ASYNC_UNSAFE
from tests.e2e.axe import AXE_CONTEXT, LOOKS, assert_accessible, require_axe

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def chromium(browser) -> object:
    require_axe()
    return browser


@pytest.mark.parametrize("look", list(LOOKS))
def test_the_accounts_screens_are_accessible(start_server, page, make_token, chromium, look):
    server = start_server("accounts", EMAIL_HOST="127.0.0.1", EMAIL_PORT="9", **{ASYNC_UNSAFE: ""})
    olivia = get_user_model().objects.create_user("olivia", email="olivia@example.com", password=PASSWORD)
    Profile.objects.create(user=olivia, role="owner")
    rita = get_user_model().objects.create_user("rita", email="rita@example.com", password=PASSWORD)
    Profile.objects.create(user=rita, role="responder")
    make_token("write", name="chat-ops")

    context = chromium.new_context(**AXE_CONTEXT, **LOOKS[look])
    blocked: list[str] = []
    tab = context.new_page()
    tab.set_default_timeout(10000)
    tab.on("console", lambda message: blocked.append(message.text)
           if "Content Security Policy" in message.text else None)

    def check(path: str, status: int = 200) -> None:
        response = tab.goto(server.url + path, wait_until="load")
        assert response.status == status, f"{path}: {response.status}"
        assert_accessible(tab, f"{path} ({look})")

    # A visitor's pages.
    check("/console/password-reset")
    tab.fill("#id_email", "not an address")
    tab.click("button[type=submit]")
    assert_accessible(tab, "the reset form with an error")
    check("/console/password-reset/sent")
    sent = services.invite("ines@example.com", "viewer", by=olivia)
    check("/" + sent.link.split("/", 3)[3])
    check("/console/invitations/not-a-token", 404)

    # The owner's pages.
    tab.goto(server.url + "/console/login")
    tab.fill("#id_username", "olivia")
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r".*/console/$"))
    for path in ("/console/users/", f"/console/users/{rita.pk}", "/console/users/invite", "/console/tokens/",
                 "/console/tokens/new", "/console/audit/", "/console/account"):
        check(path)
    tab.click("text=Set up two-factor authentication")
    tab.wait_for_selector(".qr svg")
    assert_accessible(tab, "the account page with a QR code")
    tab.goto(server.url + "/console/tokens/")
    tab.fill("#id_name", "ci")
    tab.click("text=Create the token")
    tab.wait_for_selector("#new-token")
    assert_accessible(tab, "the new token")
    tab.goto(server.url + "/console/users/invite")
    tab.fill("#id_email", "bad")
    tab.click("text=Create the invitation")
    tab.wait_for_selector(".field--error")
    assert_accessible(tab, "the invite form with an error")
    tab.goto(server.url + "/console/audit/?since=yesterday")
    assert_accessible(tab, "the audit log with a bad filter")
    context.close()
    assert blocked == []
