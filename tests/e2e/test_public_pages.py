"""The public pages as a reader's browser shows them, after responders act through the management API
or time passes for the worker: real server process, real Chromium, the reader in their own time zone."""

import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browsing import Site

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")


def iso(moment: datetime) -> str:
    return moment.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_seconds_ago(seconds: int) -> datetime:
    return datetime.now(dt_timezone.utc).replace(microsecond=0) - timedelta(seconds=seconds)


def set_up_page(site: Site) -> dict:
    site.api.patch("/api/v1/page", {"name": "Example Status", "time_zone": "Europe/Zurich"})
    site.api.post("/api/v1/groups", {"name": "Switzerland"})
    component = site.api.post("/api/v1/components", {"name": "zh1.single", "group": "Switzerland"})
    site.api.post("/api/v1/components", {"name": "zh2.cluster", "group": "Switzerland"})
    site.wait_for_text("/", "Example Status", "zh2.cluster")
    return component


def test_it_shows_an_incident_opened_through_the_api_in_the_readers_time_zone(site, open_reader):
    set_up_page(site)
    reader = open_reader("America/New_York")
    page = reader.open("/")
    banner = page.get_by_role("heading", level=1)
    expect(banner).to_have_text("All Systems Operational")

    began = whole_seconds_ago(180)
    incident = site.api.post("/api/v1/incidents", {
        "name": "Database latency", "status": "investigating", "impact": "major",
        "body": "Queries to the primary take seconds; we are looking into it.",
        "components": {"Switzerland/zh1.single": "partial_outage"}, "display_at": iso(began),
    })
    updated = whole_seconds_ago(60)
    site.api.post(f"/api/v1/incidents/{incident['id']}/updates", {
        "status": "identified", "body": "A failing disk on the primary; failing over to the replica.",
        "display_at": iso(updated),
    })
    site.wait_for_text("/", "failing over to the replica")

    page = reader.open("/")
    expect(banner).not_to_have_text("All Systems Operational")
    expect(banner).to_have_text("Partial System Outage")
    main = page.locator("main")
    expect(main.get_by_role("link", name="Database latency")).to_be_visible()
    expect(main).to_contain_text("A failing disk on the primary; failing over to the replica.")
    expect(main).not_to_contain_text("we are looking into it")  # only the latest update on the front page

    page.get_by_role("link", name="Database latency").click()
    expect(page).to_have_url(f"{site.url}/incidents/{incident['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Database latency")
    for moment, body in [(updated, "failing over to the replica"), (began, "we are looking into it")]:
        expect(main).to_contain_text(body)
        stamp = page.locator(f'time.ts[datetime="{iso(moment)}"]').first
        local = moment.astimezone(NEW_YORK)
        # Rewritten from the page's zone (Zurich) into the reader's (New York).
        expect(stamp).to_contain_text(f"{local:%H:%M} {local.tzname()}")
        expect(stamp).to_contain_text(f"{local:%b} {local.day}, {local.year}")
        assert local.tzname() in ("EST", "EDT")
        assert "CET" not in stamp.inner_text()
    assert reader.errors == []


def _sleep_until(moment: datetime) -> None:
    wait = (moment - datetime.now(dt_timezone.utc)).total_seconds()
    assert wait < 10, "the window was scheduled too far ahead"
    if wait > 0:
        time.sleep(wait)


def test_it_starts_and_completes_a_maintenance_by_itself(site, open_reader):
    component = set_up_page(site)
    # A window that opens a moment from now; the site's worker starts and completes it on time.
    starts = datetime.now(dt_timezone.utc).replace(microsecond=0) + timedelta(seconds=3)
    ends = starts + timedelta(seconds=3)
    maintenance = site.api.post("/api/v1/maintenance", {
        "name": "Kernel upgrade", "scheduled_for": iso(starts), "scheduled_until": iso(ends),
        "body": "We are upgrading the kernel of zh1.single.", "components": ["Switzerland/zh1.single"],
        "auto_start": True, "auto_complete": True,
    })
    site.wait_for_text("/", "Kernel upgrade")
    reader = open_reader("Europe/Zurich")
    page = reader.open("/")
    row = page.locator(f"#component-{component['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("All Systems Operational")
    expect(page.get_by_role("heading", name="Scheduled maintenance")).to_be_visible()
    expect(row).to_contain_text("Operational")

    _sleep_until(starts)
    site.wait_for_text("/", "Maintenance in progress", "Under maintenance")
    page = reader.open("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service Under Maintenance")
    in_progress = page.locator("section", has=page.get_by_role("heading", name="Maintenance in progress"))
    expect(in_progress).to_contain_text("Kernel upgrade")
    expect(in_progress).to_contain_text("In progress")
    expect(in_progress).to_contain_text("Scheduled maintenance is currently in progress.")
    expect(row).to_contain_text("Under maintenance")

    _sleep_until(ends)
    site.wait_for_text(f"/maintenance/{maintenance['id']}", "Completed")
    site.wait_for_text("/", "All Systems Operational")
    page = reader.open("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("All Systems Operational")
    expect(page.get_by_role("heading", name="Maintenance in progress")).to_have_count(0)
    expect(row).to_contain_text("Operational")
    expect(row).not_to_contain_text("Under maintenance")

    page = reader.open(f"/maintenance/{maintenance['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kernel upgrade")
    main = page.locator("main")
    expect(main).to_contain_text("Completed")
    expect(main).to_contain_text("The scheduled maintenance has been completed.")
    # It ran exactly its window: started and completed on time by the worker.
    expect(page.locator(f'time.ts[datetime="{iso(starts)}"]').first).to_be_attached()
    expect(page.locator(f'time.ts[datetime="{iso(ends)}"]').first).to_be_attached()
    assert reader.errors == []


def day_section(page, heading: str):
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def test_it_shows_empty_days_and_an_incident_on_its_own_day_in_the_history(site, open_reader):
    set_up_page(site)
    # 23:30 UTC on March 10 is already March 11 in Zurich, the page's zone: that is its day.
    incident = site.api.post("/api/v1/incidents", {
        "name": "Login failures", "impact": "minor", "body": "Logins failed for some users.",
        "started_at": "2025-03-10T23:30:00Z", "resolved_at": "2025-03-11T00:15:00Z",
        "components": {"Switzerland/zh2.cluster": "partial_outage"},
    })
    site.wait_for_text("/history/2025-03", "Login failures")
    reader = open_reader("Europe/Zurich")
    page = reader.open("/history/2025-03")

    expect(page.get_by_role("heading", level=1)).to_have_text("Incident history")
    day_headings = page.locator("main h2")
    expect(day_headings).to_have_count(31)  # every day of a past month, newest first
    expect(day_headings.first).to_have_text("Monday, March 31, 2025")
    expect(day_headings.last).to_have_text("Saturday, March 1, 2025")

    day = day_section(page, "Tuesday, March 11, 2025")
    expect(day.get_by_role("link", name="Login failures")).to_have_attribute("href", f"/incidents/{incident['id']}")
    expect(day).to_contain_text("Affected: Switzerland (zh2.cluster)")
    expect(day).to_contain_text("45 minutes")
    expect(day).not_to_contain_text("No incidents reported")

    for empty in ["Monday, March 10, 2025", "Wednesday, March 12, 2025", "Saturday, March 1, 2025"]:
        expect(day_section(page, empty)).to_contain_text("No incidents reported.")
    expect(page.locator("main").get_by_text("No incidents reported.")).to_have_count(30)
    assert reader.errors == []


XSS_BODY = '<script>window.__pwned = 1; alert(1)</script><img src=x onerror="window.__pwned=2; alert(2)">'


def test_it_never_runs_a_script_posted_in_an_update(site, open_reader):
    set_up_page(site)
    incident = site.api.post("/api/v1/incidents", {
        "name": "Checkout <script>window.__pwned = 3</script> errors", "impact": "minor",
        "body": "Payments fail.", "components": {"zh1.single": "degraded_performance"},
    })
    site.api.post(f"/api/v1/incidents/{incident['id']}/updates", {"status": "identified", "body": XSS_BODY})
    site.wait_for_text("/", "__pwned = 1")
    reader = open_reader()

    for path in ["/", f"/incidents/{incident['id']}"]:
        page = reader.open(path)
        page.wait_for_timeout(300)  # an onerror handler would have fired by now
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        # Readers see exactly what was posted, as text.
        expect(page.locator("main")).to_contain_text("<script>window.__pwned = 1; alert(1)</script>")
        expect(page.locator("main")).to_contain_text("Checkout <script>window.__pwned = 3</script> errors")
        expect(page.locator("main img")).to_have_count(0)
    assert reader.dialogs == []


def test_it_shows_each_days_tooltip_on_the_uptime_bars(site, open_reader):
    set_up_page(site)
    reader = open_reader("Asia/Tokyo")
    page = reader.open("/")
    bars = page.locator(".bars").first.locator(".bar")
    expect(bars).to_have_count(90)
    today = bars.nth(89)
    today.hover()
    tooltip = page.locator(".tip")
    expect(tooltip).to_be_visible()
    now_zurich = datetime.now(ZoneInfo("Europe/Zurich"))
    expect(tooltip).to_contain_text(f"{now_zurich:%b} {now_zurich.day}, {now_zurich.year}")
    expect(tooltip).to_contain_text("100% uptime")
    assert reader.errors == []
