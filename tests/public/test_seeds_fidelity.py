"""Seeds 000, 001 and 003 entered through /api/v1 (tests/e2e/seeds.py) and read on the public pages:
000's customer impact inside its maintenance window, 001's posts known by their date alone and its
503s that began hours before the first post (003's day-only incident: tests/postmortems/test_seeds.py)."""

import re

import pytest
from django.urls import reverse

from tests.e2e import seeds
from tests.console.postmortem_support import signed_in, team  # noqa: F401 - fixtures
from tests.postmortems.conftest import ApiCaller


@pytest.fixture
def seed_api(client, make_token) -> ApiCaller:
    return ApiCaller(client, make_token("admin"))


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def words(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def update_of(page: str, body_start: str) -> str:
    """The HTML of the update whose text begins so."""
    start = page.index(body_start)
    return page[page.rindex("<li", 0, start):page.index("</li>", start)]


def test_seed_000_shows_its_62_minutes_of_impact_inside_the_maintenance(seed_api, client):
    weekly = seeds.enter(seed_api, seeds.seed_000())["weekly"]
    assert weekly["impact_started_at"] == "2017-09-12T20:30:00Z"
    assert weekly["impact_ended_at"] == "2017-09-12T21:32:00Z"
    page = get(client, f"/maintenance/{weekly['id']}")
    facts = words(page[page.index('<dl class="facts">'):page.index("</dl>")])
    # In the page's zone (CEST): the window ran 20:00-22:25 UTC, customers were affected 20:30-21:32 UTC.
    assert "Ran Sep 12, 2017 22:00 CEST → Sep 13, 2017 00:25 CEST (2 hours 25 minutes)" in facts
    assert "Customer impact Sep 12, 2017 22:30 CEST → Sep 12, 2017 23:32 CEST (1 hour 2 minutes)" in facts
    assert '<time class="ts" datetime="2017-09-12T20:30:00Z">' in page
    history = words(get(client, "/history/2017-09"))
    assert "customer impact Sep 12, 2017 22:30 CEST – Sep 12, 2017 23:32 CEST (1 hour 2 minutes)" in history


def test_seed_001_shows_dates_alone_where_the_seed_has_no_time(seed_api, client):
    answers = seeds.enter(seed_api, seeds.seed_001())
    lost = answers["lost"]
    # The API gives back the date as it was entered, and the times as they were.
    first = lost["updates"][-1]
    assert first["display_at"] == "2022-06-10" and lost["started_at"] == "2022-06-10"
    assert lost["updates"][-2]["display_at"] == "2022-06-10T06:04:00Z"

    page = get(client, f"/incidents/{lost['id']}")
    opening = update_of(page, "An hypervisor has been lost on the Paris zone.")
    assert '<time class="day" datetime="2022-06-10">Jun 10, 2022</time>' in opening
    assert "00:00" not in words(opening) and "ago" not in words(opening)
    assert "Posted on Jun 10, 2022 (time not known)" in words(opening)
    # The timed updates keep their times; the updates are in the seed's order.
    assert "Jun 10, 2022 06:04 UTC" in words(update_of(page, "The server experienced a hardware failure."))
    facts = words(page[page.index('<dl class="facts">'):page.index("</dl>")])
    assert "Duration Jun 10, 2022 → Jun 10, 2022 09:10 UTC" in facts
    assert "minutes)" not in facts and "hours)" not in facts  # no duration counted from an invented midnight

    # Pulsar: neither time is known. Both its posts are on June 7, with no time and no duration.
    pulsar = get(client, f"/incidents/{answers['pulsar']['id']}")
    assert pulsar.count('<time class="day" datetime="2022-06-07">') >= 3
    assert not re.search(r"Jun 7, 2022 \d\d:\d\d", words(pulsar))
    history = get(client, "/history/2022-06")
    entry = history[history.index(answers["pulsar"]["name"]):]
    entry = words(entry[:entry.index("</article>")])
    assert "Jun 7, 2022 – Jun 7, 2022" in entry and "00:00" not in entry and "(" not in entry
    # June 8: newest first as in the seed, the untimed deployments post last on its day.
    june_8 = history[history.index("Wednesday, June 8, 2022"):history.index("Tuesday, June 7, 2022")]
    names = [answers[k]["name"] for k in ("errors_503", "down", "deployments")]
    assert [june_8.index(n) for n in names] == sorted(june_8.index(n) for n in names)


def test_seed_001_the_503s_count_from_16_30_though_first_posted_at_20_58(seed_api, client):
    answers = seeds.enter(seed_api, seeds.seed_001())
    errors = answers["errors_503"]
    assert errors["impact_started_at"] == "2022-06-08T16:30:00Z" and errors["impact_ended_at"] is None
    page = get(client, f"/incidents/{errors['id']}")
    facts = words(page[page.index('<dl class="facts">'):page.index("</dl>")])
    assert "Duration Jun 8, 2022 20:58 UTC → Jun 8, 2022 21:40 UTC (42 minutes)" in facts
    assert "Customer impact Jun 8, 2022 16:30 UTC → Jun 8, 2022 21:40 UTC (5 hours 10 minutes)" in facts


def report_rows(html: str) -> dict[str, tuple[str, str]]:
    """The reliability report's downtime table: (major, partial) per row."""
    return {html_name: (major, partial) for html_name, major, partial in
            re.findall(r'<tr(?: class="rel-total")?><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td><td>', html)}


def test_the_reliability_report_counts_the_seeds_customer_impact(seed_api, signed_in):
    seeds.enter(seed_api, seeds.seed_000())
    html = signed_in("vera").get(reverse("console:reliability") + "?start=2017-09&end=2017-09").content.decode()
    # Sites unreachable 20:30-21:32 inside the maintenance: 62 minutes of partial outage, not the whole window.
    assert report_rows(html)["The page (any component)"] == ("none", "1 hour 2 minutes")
    assert report_rows(html)["Switzerland / zh1.single"] == ("none", "1 hour 2 minutes")


def test_the_reliability_report_counts_the_503s_from_when_they_began(seed_api, signed_in):
    seeds.enter(seed_api, seeds.seed_001())
    html = signed_in("vera").get(reverse("console:reliability") + "?start=2022-06&end=2022-06").content.decode()
    # 16:30-21:40 for the 503s, and the three minutes of the retroactive add-on proxy outage.
    assert report_rows(html)["Reverse Proxies"] == ("none", "5 hours 13 minutes")
    # The 503s' time to resolve is the customers' time, 16:30 to 21:40.
    case = html[html.index(seeds.INCIDENTS_001["errors_503"][0]):]
    assert "5 hours 10 minutes" in case[:case.index("</tr>")]
