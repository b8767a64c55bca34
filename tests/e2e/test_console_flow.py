"""The responder's whole path through the console in a real browser, checked where readers look: the
public page, served from the published snapshot by a real `signalpost web` process."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from signalpost.status.models import Incident, Kind
from tests.routes import make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def set_up_page(site) -> None:
    site.api.patch("/api/v1/page", {"name": "Example Status", "time_zone": "Europe/Zurich"})
    site.api.post("/api/v1/groups", {"name": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh1.single", "group": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh2.cluster", "group": "Switzerland"})
    site.wait_for_text("/", "Example Status", "zh2.cluster")


@pytest.fixture
def console(browser, site):
    """A responder signed in through the login form, in a browser set to Tokyo time."""
    set_up_page(site)
    make_user("responder", "rita", PASSWORD)
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(5000)
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site.url + "/console/", wait_until="load")
    assert "/console/login" in tab.url  # signed out: sent to the login form
    tab.get_by_label("Username").fill("rita")
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Dashboard")
    yield tab
    assert errors == []
    context.close()


def test_a_responder_opens_updates_and_resolves_an_incident_and_readers_see_each_step(console, site):
    tab = console
    tab.get_by_role("link", name="Open an incident").click()
    tab.get_by_label("Title").fill("Volumes unreachable")
    tab.locator("#id_impact").select_option("major")
    tab.get_by_label("zh1.single").select_option("major_outage")
    tab.get_by_label("zh2.cluster").select_option("partial_outage")
    tab.locator("#id_body").fill("We are investigating **unreachable volumes** in ZH1 and ZH2.")
    expect(tab.locator(".md.preview strong")).to_have_text("unreachable volumes")  # the live preview
    with tab.expect_navigation():
        tab.get_by_role("button", name="Open incident").click()
    incident = Incident.objects.get(kind=Kind.INCIDENT)
    assert incident.affected.count() == 2

    site.wait_for_text("/", "Volumes unreachable", "unreachable volumes", "Major System Outage")
    page = site.wait_for_text(incident.public_path, "Switzerland (zh1.single, zh2.cluster)")
    assert "Investigating" in page

    tab.locator("#id_status").select_option("identified")
    tab.locator("#id_body").fill("A storage controller failed; we are moving volumes to its standby.")
    tab.get_by_label("zh2.cluster").select_option("operational")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Post update").click()
    site.wait_for_text(incident.public_path, "Identified", "moving volumes to its standby")
    site.wait_for_text("/", "moving volumes to its standby")

    tab.once("dialog", lambda dialog: dialog.accept())
    with tab.expect_navigation():
        tab.get_by_role("button", name="Resolve").first.click()
    site.wait_for_text(incident.public_path, "Resolved")
    site.wait_for_text("/", "All Systems Operational")
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_a_maintenance_scheduled_in_another_zone_shows_at_the_right_times(console, site, open_reader):
    tab = console
    tab.get_by_role("link", name="Schedule maintenance").click()
    tab.get_by_label("Title").fill("Storage firmware upgrade")
    tab.get_by_label("Time zone of the window").select_option("Asia/Tokyo")
    tab.locator("#id_scheduled_for").fill("2030-03-10T09:00")
    tab.locator("#id_scheduled_until").fill("2030-03-10T11:30")
    tab.get_by_label("zh1.single").check()
    tab.locator("#id_body").fill("Firmware upgrade of the storage controllers.")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Schedule", exact=True).click()

    maintenance = Incident.objects.get(kind=Kind.MAINTENANCE)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert maintenance.scheduled_for == datetime(2030, 3, 10, 9, 0, tzinfo=tokyo)
    assert maintenance.scheduled_until == datetime(2030, 3, 10, 11, 30, tzinfo=tokyo)
    # The console shows it back in the page's zone (Zurich: 01:00 CET) and in UTC (00:00).
    detail = tab.locator("main")
    expect(detail).to_contain_text("01:00")
    expect(detail).to_contain_text("00:00 UTC")

    # Readers are served the page's zone; a reader in Zurich sees 01:00–03:30 CET.
    site.wait_for_text(maintenance.public_path, "Storage firmware upgrade")
    reader = open_reader("Europe/Zurich")
    page = reader.open(maintenance.public_path)
    main = page.locator("main")
    expect(main).to_contain_text("Mar 10, 2030")
    expect(main).to_contain_text("01:00 CET")
    expect(main).to_contain_text("03:30 CET")
    expect(main).to_contain_text("zh1.single")
    # A reader in New York has the same window in their own time: 19:00 EST the evening before.
    page = open_reader("America/New_York").open(maintenance.public_path)
    expect(page.locator("main")).to_contain_text("19:00 EST")
    expect(page.locator("main")).to_contain_text("Mar 9, 2030")
