"""The real incident communications of shared/seeds/ (000, 001, 004), entered through the management
API of a running server (tests/e2e/seeds.py), read back in a browser: each page shows what the seed
shows, with its texts, times, components and groups."""

import pytest
from playwright.sync_api import expect

from . import seeds

pytestmark = pytest.mark.browser


def enter(site, seed: seeds.Seed) -> dict[str, dict]:
    answers = seeds.enter(site.api, seed)
    site.settle()
    return answers


def public_path(answer: dict) -> str:
    return f"/{'maintenance' if 'scheduled_for' in answer else 'incidents'}/{answer['id']}"


def in_order(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def stamp(page, iso_utc: str):
    """The absolute time shown for an instant (the first such on the page)."""
    return page.locator(f'time.ts[datetime="{iso_utc}"]').first


def day_section(page, heading: str):
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


# --- 000 ------------------------------------------------------------------------------------------


def test_it_shows_the_weekly_maintenance_report_of_seed_000(site, open_reader):
    maintenance = enter(site, seeds.seed_000())["weekly"]
    path = f"/maintenance/{maintenance['id']}"
    site.wait_for_text(path, "Maintenance has concluded")
    assert maintenance["status"] == "completed"
    assert maintenance["scheduled_until"].startswith("2017-09-12T21:00:00")  # the overrun needs no new end

    reader = open_reader("Europe/Zurich")
    page = reader.open(path)
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regular Weekly Maintenance")
    expect(main).to_contain_text("Completed")
    # The components, grouped by region with their member codes, as the seed lists them.
    expect(main).to_contain_text(
        "South Africa (sa1.compact), Germany (de1.compact), United Kingdom (uk1.compact), Finland (fi1.compact), "
        "Switzerland (zh1.single, zh2.single, zh1.compact, zh2.cluster), General (dev1.compact), On-premise servers"
    )

    # Newest first: Completed, the bug notice, the overrun, In progress, Scheduled.
    texts = seeds.TEXTS_000
    text = main.inner_text()
    assert in_order(text, texts["completed"], texts["bug"], texts["overrun"], texts["in_progress"],
                    texts["scheduled"]), text
    # At the seed's times, in the page's zone (CEST) for a reader in Zurich.
    for iso_utc, local in [
        ("2017-09-12T17:46:00Z", "Sep 12, 2017 19:46 CEST"),
        ("2017-09-12T20:00:00Z", "Sep 12, 2017 22:00 CEST"),
        ("2017-09-12T20:53:00Z", "Sep 12, 2017 22:53 CEST"),
        ("2017-09-12T21:32:00Z", "Sep 12, 2017 23:32 CEST"),
        ("2017-09-12T22:25:00Z", "Sep 13, 2017 00:25 CEST"),
        ("2017-09-12T21:00:00Z", "Sep 12, 2017 23:00 CEST"),  # the planned end of the window
    ]:
        expect(stamp(page, iso_utc)).to_have_text(local)
    expect(main).to_contain_text("Ended 1 hour 25 minutes after its scheduled end")
    overrun_update = page.locator("li").filter(has_text=texts["overrun"])
    expect(overrun_update).to_contain_text("22:53 CEST")
    # The report's "Time: 20:30 UTC - 21:32 UTC": customers' 62 minutes inside the window that ran 20:00-22:25.
    impact = page.locator(".facts__item").filter(has_text="Customer impact")
    expect(impact.locator('time.ts[datetime="2017-09-12T20:30:00Z"]')).to_have_text("Sep 12, 2017 22:30 CEST")
    expect(impact.locator('time.ts[datetime="2017-09-12T21:32:00Z"]')).to_have_text("Sep 12, 2017 23:32 CEST")
    expect(impact).to_contain_text("(1 hour 2 minutes)")
    expect(page.locator(".facts__item").filter(has_text="Ran")).to_contain_text("(2 hours 25 minutes)")
    assert reader.errors == []

    # The same page for a reader in New York: the same instants in their zone.
    page = open_reader("America/New_York").open(path)
    expect(stamp(page, "2017-09-12T20:53:00Z")).to_contain_text("16:53 EDT")
    expect(stamp(page, "2017-09-12T22:25:00Z")).to_contain_text("Sep 12, 2017 18:25 EDT")

    # In the history, on the day it ran.
    page = reader.open("/history/2017-09")
    day = day_section(page, "Tuesday, September 12, 2017")
    expect(day.get_by_role("link", name="Regular Weekly Maintenance")).to_have_attribute("href", path)
    expect(day).to_contain_text("Completed")


# --- 001 ------------------------------------------------------------------------------------------


def test_it_shows_the_june_2022_history_of_seed_001_day_by_day(site, open_reader):
    answers = enter(site, seeds.seed_001())
    # the maintenance's last update ("Completed") is the seed's last call: once it shows, all of it is published
    site.wait_for_text("/history/2022-06", "Unique IP service planned unavailability", "An hypervisor has been lost",
                       "Completed")
    reader = open_reader("UTC")
    page = reader.open("/history/2022-06")
    main = page.locator("main")

    # Newest day first, the empty days among them.
    week = ["Saturday, June 11, 2022", "Friday, June 10, 2022", "Thursday, June 9, 2022",
            "Wednesday, June 8, 2022", "Tuesday, June 7, 2022", "Monday, June 6, 2022", "Sunday, June 5, 2022"]
    assert in_order(main.inner_text(), *week)
    for empty in (week[0], week[-1]):
        expect(day_section(page, empty)).to_contain_text("No incidents reported.")

    expected_days = {
        week[1]: [("lost", "Infrastructure")],
        week[2]: [("mails", "Mails")],
        week[3]: [("errors_503", "Reverse Proxies"), ("down", "Infrastructure"), ("deployments", "Deployments")],
        week[4]: [("add_on_proxy", "Reverse Proxies"), ("pulsar", "Pulsar"), ("unique_ip", None)],
        week[5]: [("cellar", "Cellar")],
    }
    for heading, entries in expected_days.items():
        day = day_section(page, heading)
        expect(day).not_to_contain_text("No incidents reported")
        for key, component in entries:
            answer = answers[key]
            entry = day.locator("article").filter(has=page.get_by_role("link", name=answer["name"], exact=True))
            expect(entry).to_have_count(1)
            expect(entry.get_by_role("link", name=answer["name"])).to_have_attribute("href", public_path(answer))
            if component:
                expect(entry).to_contain_text(f"Affected: {component}")
            expect(entry).to_contain_text("Completed" if key == "unique_ip" else "Resolved")
    # The three incidents of June 8 newest first, as in the seed.
    assert in_order(day_section(page, week[3]).inner_text(), *(answers[k]["name"] for k in ("errors_503", "down", "deployments")))
    # The zone tag stays in the titles; the retroactive incident is marked, the others are not.
    expect(main.get_by_role("link", name="[PAR] An hypervisor has been lost")).to_be_visible()
    retroactive = day_section(page, week[4]).locator("article").filter(has_text=seeds.RETROACTIVE_001["name"])
    expect(retroactive).to_contain_text("Retroactive")
    expect(main.get_by_text("Retroactive", exact=True)).to_have_count(1)
    # The planned maintenance with its window.
    maintenance = day_section(page, week[4]).locator("article").filter(has_text=seeds.MAINTENANCE_001["name"])
    expect(maintenance.locator('time.ts[datetime="2022-06-07T20:00:00Z"]').first).to_have_text("Jun 7, 2022 20:00 UTC")
    expect(maintenance.locator('time.ts[datetime="2022-06-07T20:30:00Z"]').first).to_have_text("Jun 7, 2022 20:30 UTC")

    # An incident with its EDIT updates, each at its UTC time.
    page = reader.open(f"/incidents/{answers['lost']['id']}")
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("[PAR] An hypervisor has been lost")
    expect(main).to_contain_text("Infrastructure")
    expect(main).not_to_contain_text("Retroactive")
    for at, _status, body in seeds.TEXTS_001["lost"]:
        expect(main).to_contain_text(body)
        update = page.locator("li").filter(has_text=body)
        if len(at) == 10:  # the seed gives no time: the date alone, with no clock time invented
            expect(update.locator("time").first).to_have_text("Jun 10, 2022")
            expect(update.locator("time").first).to_have_attribute("class", "day")
            expect(update).to_contain_text("time not known")
        else:
            expect(update.locator("time.ts").first).to_have_text(f"Jun 10, 2022 {at[11:16]} UTC")
    assert in_order(main.inner_text(), *(body for _, _, body in reversed(seeds.TEXTS_001["lost"])))

    # The 503s: customers were affected from about 16:30, hours before the first post at 20:58.
    page = reader.open(f"/incidents/{answers['errors_503']['id']}")
    impact = page.locator(".facts__item").filter(has_text="Customer impact")
    expect(impact.locator('time.ts[datetime="2022-06-08T16:30:00Z"]')).to_have_text("Jun 8, 2022 16:30 UTC")
    expect(impact).to_contain_text("(5 hours 10 minutes)")
    expect(stamp(page, "2022-06-08T20:58:00Z")).to_have_text("Jun 8, 2022 20:58 UTC")

    # Pulsar: the seed gives neither time; both posts are on June 7 with no clock time and no duration.
    page = reader.open(f"/incidents/{answers['pulsar']['id']}")
    expect(page.locator(".facts time.ts")).to_have_count(0)
    expect(page.locator(".update__meta").first.locator("time").first).to_have_attribute("class", "day")
    expect(page.locator('main time.day[datetime="2022-06-07"]').first).to_have_text("Jun 7, 2022")

    # The impact list of the hypervisor that went down is a list.
    page = reader.open(f"/incidents/{answers['down']['id']}")
    expect(page.locator("main li li")).to_have_count(4)
    expect(page.locator("main")).to_contain_text("Logs were not served.")

    # The retroactive incident says it was recorded after the fact.
    page = reader.open(f"/incidents/{answers['add_on_proxy']['id']}")
    expect(page.locator("main")).to_contain_text("Retroactive")
    expect(page.locator("main")).to_contain_text("recorded after it happened")
    expect(stamp(page, "2022-06-07T14:45:00Z")).to_have_text("Jun 7, 2022 14:45 UTC")
    expect(stamp(page, "2022-06-07T14:48:00Z")).to_have_text("Jun 7, 2022 14:48 UTC")

    # The maintenance: announced three weeks ahead, its window, the start notice at 20:05.
    page = reader.open(f"/maintenance/{answers['unique_ip']['id']}")
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(seeds.MAINTENANCE_001["name"])
    expect(stamp(page, "2022-05-17T09:00:00Z")).to_have_text("May 17, 2022 09:00 UTC")
    expect(stamp(page, "2022-06-07T20:00:00Z")).to_have_text("Jun 7, 2022 20:00 UTC")
    expect(stamp(page, "2022-06-07T20:30:00Z")).to_have_text("Jun 7, 2022 20:30 UTC")
    start_notice = page.locator("li").filter(has_text="The maintenance is beginning")
    expect(start_notice).to_contain_text("In progress")
    expect(start_notice.locator("time.ts").first).to_have_text("Jun 7, 2022 20:05 UTC")
    assert in_order(main.inner_text(), "The downtime was reduced", "The maintenance is beginning",
                    "Applications will automatically be restarted once the maintenance is over.")

    # The mail provider is another company's: a third-party component, operational again now.
    page = reader.open("/")
    mails = page.locator(f"#component-{component_id(site, 'Mails')}")
    expect(mails).to_contain_text("Third-party")
    expect(mails).to_contain_text("Operational")
    expect(page.get_by_role("heading", level=1)).to_have_text("All Systems Operational")
    assert reader.errors == []


def component_id(site, name: str) -> str:
    components = site.api.call("GET", "/api/v1/components?per_page=100")["items"]
    return next(c["id"] for c in components if c["name"] == name)


# --- 004 ------------------------------------------------------------------------------------------


def test_it_shows_the_downtime_report_of_seed_004_with_its_window_and_duration(site, open_reader):
    incident = enter(site, seeds.seed_004())["downtime"]
    path = f"/incidents/{incident['id']}"
    site.wait_for_text(path, "Downtime on Nov 4")
    assert incident["retroactive"] is True

    reader = open_reader("UTC")
    page = reader.open(path)
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(seeds.TITLE_004)
    expect(main).to_contain_text("Retroactive")
    expect(main).to_contain_text("Backend")
    # The window and how long it lasted.
    expect(stamp(page, "2025-11-04T16:10:00Z")).to_have_text("Nov 4, 2025 16:10 UTC")
    expect(stamp(page, "2025-11-04T16:34:00Z")).to_have_text("Nov 4, 2025 16:34 UTC")
    expect(main).to_contain_text("24 minutes")
    # The report itself, paragraph by paragraph.
    paragraphs = seeds.BODY_004.split("\n\n")
    for paragraph in paragraphs:
        expect(main.locator("p").filter(has_text=paragraph[:60]).first).to_have_text(paragraph)

    page = reader.open("/history/2025-11")
    day = day_section(page, "Tuesday, November 4, 2025")
    expect(day.get_by_role("link", name=seeds.TITLE_004)).to_have_attribute("href", path)
    expect(day).to_contain_text("(24 minutes)")
    expect(day).to_contain_text("Affected: Backend")
    assert reader.errors == []
