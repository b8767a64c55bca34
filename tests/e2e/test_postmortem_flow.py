"""A postmortem from the console to the reader, in a real browser against a real `signalpost web`: the
author writes it for a resolved incident (a section, a timeline entry, an action item) and asks a
colleague to review it; the colleague approves and publishes it; a reader finds it on the public page
and from the incident's own page."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from signalpost.postmortems.models import Postmortem
from signalpost.status import services
from tests.e2e.axe import AXE_CONTEXT, AXE_JS, BLOCKING, LOOKS, axe_violations, describe
from tests.routes import make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def sign_in(browser, site, username: str):
    context = browser.new_context(timezone_id="America/Los_Angeles", locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(5000)
    tab.script_errors = []
    tab.on("pageerror", lambda error: tab.script_errors.append(str(error)))
    tab.on("dialog", lambda dialog: dialog.accept())  # "Publish …?" is answered yes
    tab.goto(site.url + "/console/login", wait_until="load")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    return tab


def check_accessibility(browser, signed_in_tab, urls: list[str]) -> None:
    """axe-core on the editor's pages, as the signed-in user sees them (the accessibility suite walks the
    console with placeholder ids, which cannot reach a postmortem). Its context ignores the CSP, so
    that axe can be injected; the flow itself runs with the CSP enforced."""
    if not AXE_JS.exists():
        return
    problems = []
    for look, settings in LOOKS.items():
        context = browser.new_context(storage_state=signed_in_tab.context.storage_state(), **AXE_CONTEXT, **settings)
        try:
            tab = context.new_page()
            for url in urls:
                tab.goto(url, wait_until="load")
                found = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
                if found:
                    problems.append(f"{url} [{look}]:\n{describe(found)}")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_a_postmortem_goes_from_the_author_to_the_reviewer_to_the_public(browser, site, components):
    services.update_page(time_zone="Europe/Zurich")
    now = timezone.now().replace(second=0, microsecond=0)
    incident = services.backfill_incident(
        name="Deploys fail on the origin", impact="major", started_at=now - timedelta(hours=3),
        resolved_at=now - timedelta(hours=1), body="Sites fail to load for some deploys.",
        components={components["zh1"]: "major_outage"})
    make_user("responder", "alice", PASSWORD)
    make_user("responder", "bob", PASSWORD)

    # The author starts it from the incident's console page.
    tab = sign_in(browser, site, "alice")
    tab.goto(f"{site.url}/console/incidents/{incident.public_id}", wait_until="load")
    with tab.expect_navigation():
        tab.get_by_role("link", name="Write a postmortem").click()
    tab.locator("input[name=template][value=learning_review]").check()
    with tab.expect_navigation():
        tab.get_by_role("button", name="Start the draft").click()
    pm = Postmortem.objects.get()
    assert tab.url.endswith(f"/console/postmortems/{pm.public_id}")

    # A section, previewed as readers will see it, then saved.
    tab.get_by_label("Time zone of the document").select_option("America/Los_Angeles")
    summary = tab.locator("#id_summary")
    summary.fill("A data migration **overwrote** deploy metadata.")
    expect(tab.locator("#preview-summary strong")).to_have_text("overwrote")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Save the document").click()
    expect(tab.locator(".message--success")).to_contain_text("Saved as version")

    # A timeline entry, in the document's zone.
    tab.locator("#entry-add summary").click()
    pst = (now - timedelta(hours=3, minutes=10)).astimezone(ZoneInfo("America/Los_Angeles"))
    tab.locator("#id_new-entry-at").fill(pst.strftime("%Y-%m-%dT%H:%M"))
    tab.locator("#id_new-entry-text").fill("Alerts for failed origin requests.")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Add the entry").click()
    entry = pm.timeline.get(text="Alerts for failed origin requests.")
    assert entry.at == now - timedelta(hours=3, minutes=10)

    # An action item.
    tab.locator("#item-add summary").click()
    tab.locator("#id_new-item-title").fill("Peer sign-off for write queries")
    tab.locator("#id_new-item-kind").select_option(label="Preventive (process)")
    tab.locator("#id_new-item-owner").fill("Infrastructure")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Add the action item").click()
    expect(tab.locator("#action-items")).to_contain_text("Peer sign-off for write queries")

    # Review, from a colleague.
    check_accessibility(browser, tab, [f"{site.url}/console/postmortems/{pm.public_id}{path}" for path in
                                       ("", "/versions", "/print")]
                        + [f"{site.url}/console/{path}" for path in ("postmortems/", "action-items/", "reliability/")])
    tab.get_by_label("Reviewer").select_option(label="bob")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Request review").click()
    expect(tab.locator("#workflow")).to_contain_text("In review by bob")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log out").click()
    assert site.server.get(pm.public_path)[0] == 404  # not public while in review
    tab.context.close()

    # The reviewer approves, then publishes.
    tab = sign_in(browser, site, "bob")
    tab.goto(f"{site.url}/console/postmortems/{pm.public_id}", wait_until="load")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Approve version").click()
    expect(tab.locator(".message--success")).to_contain_text("Approved")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Publish").click()
    expect(tab.locator(".message--success")).to_contain_text("Published")
    assert tab.script_errors == []
    tab.context.close()

    # A reader finds it on its page and from the incident's page.
    site.wait_for_text(pm.public_path, "overwrote", "Alerts for failed origin requests.",
                       "Peer sign-off for write queries")
    reader_context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    reader = reader_context.new_page()
    reader.set_default_timeout(5000)
    site.wait_for_text(incident.public_path, pm.public_path)
    reader.goto(site.url + incident.public_path, wait_until="load")
    with reader.expect_navigation():
        reader.get_by_role("link", name=pm.title).click()
    assert reader.url.endswith(pm.public_path)
    expect(reader.get_by_role("heading", level=1)).to_have_text(pm.title)
    expect(reader.locator("#pm-summary + .md strong")).to_have_text("overwrote")
    expect(reader.locator(".pm-actions")).to_contain_text("Peer sign-off for write queries")
    reader_context.close()
