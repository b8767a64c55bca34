"""The incident and maintenance screens in a real browser, as a responder in a hurry uses them: keys
instead of the mouse, a template that sets text and status at once, a maintenance window shown in the
page's zone and UTC while it is typed."""

import re

import pytest

from signalpost.console.models import MessageTemplate
from signalpost.status import services
from signalpost.status.models import Incident
from tests.routes import make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


@pytest.fixture
def responder_tab(browser, site, components):
    make_user("responder", "rita", PASSWORD)
    context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(5000)
    tab.script_errors = []
    tab.on("pageerror", lambda error: tab.script_errors.append(str(error)))
    tab.goto(site.url + "/console/login", wait_until="load")
    tab.get_by_label("Username").fill("rita")
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    tab.base_url = site.url
    yield tab
    context.close()


def focused_id(tab) -> str:
    return tab.evaluate("document.activeElement && document.activeElement.id")


def test_a_responder_opens_an_incident_without_the_mouse(responder_tab, components):
    # Its own template: the seeded defaults do not survive the database being emptied between tests.
    MessageTemplate.objects.get_or_create(name="Identified", kind="incident", defaults={
        "status": "identified", "body": "We have identified the cause of the problem and are working on a fix."})
    tab = responder_tab
    tab.goto(tab.base_url + "/console/incidents/", wait_until="load")
    with tab.expect_navigation():
        tab.keyboard.press("n")
    assert tab.url.endswith("/console/incidents/new")
    assert focused_id(tab) == "id_name"
    tab.keyboard.type("Volumes unreachable in zh1")

    tab.get_by_label("Start from a template").select_option(label="Identified")
    assert tab.locator("#id_status").input_value() == "identified"
    assert "identified the cause" in tab.locator("#id_body").input_value()
    tab.locator(".md.preview").filter(has_text="identified the cause").wait_for()
    tab.get_by_label("zh1.single").select_option("major_outage")

    tab.locator("#id_name").focus()
    with tab.expect_navigation():
        tab.keyboard.press("Control+Enter")
    incident = Incident.objects.get()
    assert tab.url.endswith(f"/console/incidents/{incident.public_id}")
    assert (incident.name, incident.status) == ("Volumes unreachable in zh1", "identified")
    assert tab.script_errors == []


def test_u_goes_to_the_update_and_r_resolves_after_asking(responder_tab, components):
    tab = responder_tab
    incident = services.open_incident(name="Slow API", components={components["de1"]: "degraded_performance"})
    tab.goto(tab.base_url + f"/console/incidents/{incident.public_id}", wait_until="load")
    tab.keyboard.press("u")
    assert focused_id(tab) == "id_body"
    tab.keyboard.type("typed")  # the key itself did not land in the text
    assert tab.locator("#id_body").input_value() == "typed"

    tab.locator("h1").click()  # out of the text box, where keys are shortcuts again
    questions = []
    tab.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    tab.keyboard.press("r")
    tab.wait_for_timeout(300)
    assert questions and questions[0].startswith("Resolve “Slow API” now?")
    assert Incident.objects.get(pk=incident.pk).status == "investigating"  # dismissed: nothing happened

    tab.once("dialog", lambda dialog: dialog.accept())
    with tab.expect_navigation():
        tab.keyboard.press("r")
    assert Incident.objects.get(pk=incident.pk).status == "resolved"
    assert tab.get_by_role("button", name="Reopen").is_visible()
    assert tab.script_errors == []


def test_the_window_shows_in_the_page_zone_and_utc_while_it_is_typed(responder_tab, components):
    tab = responder_tab
    tab.goto(tab.base_url + "/console/maintenance/new", wait_until="load")
    tab.locator("#id_time_zone").select_option("America/New_York")
    tab.locator("#id_scheduled_for").fill("2027-01-15T22:00")
    tab.locator("#id_scheduled_until").fill("2027-01-16T01:30")
    converted = tab.locator("[data-window-converted]")
    assert re.search(r"Window starts: 16 Jan 2027, 04:00 (CET|GMT\+1) · 16 Jan 2027, 03:00 UTC", converted.inner_text())
    assert re.search(r"Window ends: 16 Jan 2027, 07:30 (CET|GMT\+1) · 16 Jan 2027, 06:30 UTC", converted.inner_text())

    tab.locator("#id_scheduled_for").fill("2027-03-14T02:30")
    assert "does not exist in America/New_York" in converted.inner_text()
    assert tab.script_errors == []
