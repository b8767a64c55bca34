"""The monitor form in a real browser: an admin creates a monitor, linking it to a component, and finds
it in the list."""

import pytest

from signalpost.monitors.models import Monitor
from tests.browsing import ASYNC_UNSAFE
from tests.routes import make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_tab(browser, start_server, components):
    server = start_server("monitors", worker=False, SIGNALPOST_OUTBOUND_ALLOW="127.0.0.1/32", **{ASYNC_UNSAFE: ""})
    make_user("admin", "ada", PASSWORD)
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(5000)
    tab.goto(server.url + "/console/login", wait_until="load")
    tab.get_by_label("Username").fill("ada")
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()
    tab.base_url = server.url
    yield tab
    context.close()


def test_an_admin_creates_a_monitor_in_the_form_and_sees_it_listed(admin_tab, components):
    tab = admin_tab
    tab.goto(tab.base_url + "/console/monitors/", wait_until="load")
    with tab.expect_navigation():
        tab.get_by_role("link", name="New monitor").click()
    with tab.expect_navigation():
        tab.get_by_role("link", name="TCP port").click()
    tab.get_by_label("Name").fill("Mail relay")
    tab.get_by_label("Target").fill("127.0.0.1:9")
    tab.get_by_label("Mail delivery: when down").select_option("partial_outage")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Create monitor").click()
    assert tab.get_by_role("heading", name="Mail relay").is_visible()
    assert "Partial outage" in tab.locator("#components-title + .table-wrap").inner_text()
    with tab.expect_navigation():
        tab.get_by_role("navigation", name="Console").get_by_role("link", name="Monitors").click()
    row = tab.get_by_role("row").filter(has_text="Mail relay")
    assert "TCP port" in row.inner_text() and "127.0.0.1:9" in row.inner_text()
    assert Monitor.objects.get().links.get().down_status == "partial_outage"
