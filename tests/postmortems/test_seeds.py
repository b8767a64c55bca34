"""The postmortems of shared/seeds/ (000, 002, 003, 004), entered through the management API by one
token, approved by another and published (tests/e2e/seeds_postmortems.py), then read where readers
read them: each fact the seed states is on the public page, at the seed's times in the seed's zone,
and in the Markdown export. The last test does the same against a real server and its snapshot."""

import re
import time
import urllib.request

import pytest

from tests.browsing import ApiClient
from tests.e2e import seeds, seeds_postmortems

from .conftest import action_groups, section, text, timeline, token_of


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


@pytest.fixture
def publish_seed(author_api, reviewer_api, client):
    def publish(key: str) -> tuple[dict, str, str]:
        seed = seeds_postmortems.ALL[key]()
        pm = seeds_postmortems.enter(author_api, reviewer_api, seed)
        assert pm["status"] == "published" and pm["author"] != pm["approved_by"]
        path = f"/postmortems/{pm['id']}"
        return pm, get(client, path), get(client, path + ".md")

    return publish


def entries_of(seed_timeline: list[tuple[str, str]], day: str, offset_hours: int = 0) -> list[tuple[str, str, str]]:
    """The (UTC instant, time shown, text) the page should list for a seed's (local hh:mm, text)."""
    rows = []
    for local, words in seed_timeline:
        hours, minutes = (int(p) for p in local.split(":"))
        rows.append((f"{day}T{hours + offset_hours:02d}:{minutes:02d}:00Z", f"{hours:02d}:{minutes:02d}", words))
    return rows


# --- 000 ------------------------------------------------------------------------------------------


def test_seed_000_the_maintenance_report_reads_as_the_seed(publish_seed, client):
    pm, page, markdown = publish_seed("000")
    words = text(page)
    maintenance = pm["incidents"][0]
    assert maintenance["kind"] == "maintenance"

    assert "<h1 class=\"incident__title\">Regular Weekly Maintenance</h1>" in page
    assert "Scheduled Maintenance Report" in words  # what the document calls itself
    # Posted the morning after, in the page's zone like every posted time (the timeline is in UTC).
    assert pm["published_at"].startswith("2017-09-13T08:41:00")
    assert 'Published <time class="pm-time" datetime="2017-09-13T08:41:00Z">Sep 13, 2017 10:41 CEST</time>' in page
    assert f'href="/maintenance/{maintenance["id"]}"' in page
    assert seeds_postmortems.SUMMARY_000 in words
    assert "No data loss occurred." in words
    # The report's "Time: 20:30 UTC - 21:32 UTC" is an impact figure.
    assert '<th scope="row">Sites not reachable</th><td class="pm-figures__value">20:30 – 21:32 UTC</td>' in page

    # The timeline: every entry of the seed, in UTC, said once for the whole timeline.
    assert "All times UTC." in words
    assert "Tuesday, September 12, 2017" in words
    assert timeline(page) == entries_of(seeds_postmortems.TIMELINE_000, "2017-09-12")

    # The Actions & Mitigations table: each issue under its kind, with what was done.
    assert action_groups(page) == {
        "Preventive (process)": ["Not found case of public_html symlink removal during development & testing"],
        "Communication": ["Maintenance page updated late"],
    }
    actions = text(section(page, "pm-actions"))
    assert "We will adapt our testing process with more rigorous testing" in actions
    assert re.search(r"Maintenance page updated late Done", actions)
    assert "We updated our processes to update the status page immediately even if we are in a maintenance " \
           "window already." in actions
    assert "public_html symlink were unintentionally removed and replaced with an empty directory" in text(
        section(page, "pm-root-cause"))
    assert "please don't hesitate to contact us at or directly via Slack." in words

    # Figures from the record: the maintenance ran 20:00-22:25 UTC; the page said so at 20:53.
    numbers = text(section(page, "pm-numbers"))
    # The duration is the customers': the report's 20:30-21:32 UTC, inside a window that ran 20:00-22:25.
    assert "Duration 1 hour 2 minutes (Sep 12, 2017 20:30 UTC → Sep 12, 2017 21:32 UTC)" in numbers
    assert "Time to detect less than a minute" in numbers
    assert "Time to acknowledge 23 minutes" in numbers
    assert ("Switzerland (zh1.single, zh2.single, zh1.compact, zh2.cluster), General (dev1.compact), "
            "On-premise servers") in numbers

    # The maintenance's page and its month in the history lead to it.
    event = get(client, f"/maintenance/{maintenance['id']}")
    assert f'<a href="/postmortems/{pm["id"]}">Regular Weekly Maintenance</a>' in event
    assert "(Scheduled Maintenance Report, published Sep 13, 2017 10:41 CEST)" in text(event)
    history = get(client, "/history/2017-09")
    assert f'href="/postmortems/{pm["id"]}">Scheduled Maintenance Report</a>' in history

    assert markdown.startswith("# Regular Weekly Maintenance\n")
    assert "Scheduled Maintenance Report · Published Sep 13, 2017 10:41 CEST\n" in markdown
    assert "All times UTC." in markdown
    assert "- **20:53** Maintenance page updated that maintenance will take longer than usual." in markdown
    assert "### Communication\n\n- **Maintenance page updated late** (Done)" in markdown
    assert "| Sites not reachable | 20:30 – 21:32 UTC |" in markdown


# --- 002 ------------------------------------------------------------------------------------------


def test_seed_002_the_learning_review_keeps_its_pst_timeline_figure_and_groups(publish_seed):
    pm, page, markdown = publish_seed("002")
    words = text(page)
    assert "Learning review" in words and "Learning Review for our Feb 2 Origin Outage" in words
    assert '<th scope="row">Deploys whose metadata was overwritten</th><td class="pm-figures__value">5.2%</td>' in page
    assert "none of our enterprise clients were down for more than 10 minutes" in words

    # PST, named once, each entry at the seed's time of day.
    assert "All times PST." in words
    assert "Friday, February 2, 2018" in words
    assert timeline(page) == entries_of(seeds_postmortems.TIMELINE_002, "2018-02-02", offset_hours=8)
    # The prioritised recovery: the two tasks in their order, before the entries.
    intro = section(page, "pm-timeline")
    assert re.search(r"<ol>\s*<li>Immediately start triggering re-runs of builds.*?</li>\s*<li>Meanwhile restore "
                     r"the latest database backup", intro, re.S)

    assert action_groups(page) == {
        "Preventive (process)": ["Peer signoff", "Pre migration database snapshot"],
        "Preventive (tooling)": ["Enforced Auditing and Reviews"],
        "Improving recovery": ["Logging more deploy metadata", "Better internal documentation",
                               "Support for Triggering Rebuilds"],
    }
    assert "no-one, however experienced, should run a custom write query against live data" in text(
        section(page, "pm-actions"))
    assert "our database backup system is working well" in text(section(page, "pm-well"))
    assert "mount any database snapshot as a read-only database" in text(section(page, "pm-badly"))
    assert "“pointer” to a “tree object”" in text(section(page, "pm-root-cause"))
    numbers = text(section(page, "pm-numbers"))
    assert "Duration 6 hours 29 minutes (Feb 2, 2018 09:17 PST → Feb 2, 2018 15:46 PST)" in numbers
    assert "Time to resolve 6 hours 29 minutes" in numbers

    assert "All times PST." in markdown
    assert "- **09:17** The failed migration instantly triggered alerts for failed origin requests." in markdown
    assert "- **15:46** We registered all affected deploys" in markdown
    assert markdown.index("### Preventive (process)") < markdown.index("- **Peer signoff** (In progress)") \
        < markdown.index("### Preventive (tooling)") < markdown.index("### Improving recovery") \
        < markdown.index("- **Support for Triggering Rebuilds** (Open)")
    assert "| Deploys whose metadata was overwritten | 5.2% |" in markdown


# --- 003 ------------------------------------------------------------------------------------------


def test_seed_003_the_short_postmortem_names_its_regions_and_root_cause(publish_seed):
    pm, page, markdown = publish_seed("003")
    words = text(page)
    assert "Postmortem - Partial Outage on July 22nd 2015" in words
    assert "The largest impacted region was Joyent us-east-1 and Joyent eu-ams-1." in words
    numbers = text(section(page, "pm-numbers"))
    assert "Regions affected Joyent us-east-1, Joyent eu-ams-1 " in numbers + " "
    assert "AWS us-east-1" not in numbers  # rolled out there without harm
    assert "The underlying cause was a bug in a newly launched internal auditing tool." in text(
        section(page, "pm-root-cause"))
    assert "restored with a simple stop/start command" in text(section(page, "pm-recovery"))
    assert action_groups(page) == {"Preventive (process)": [
        "Tools that can affect uptime go through the release procedure for uptime changes"]}
    assert "We have changed our policy" in text(section(page, "pm-actions"))
    assert "We apologize again if you were one of the people affected." in text(section(page, "pm-closing"))
    assert "We sincerely apologize to those affected" in words
    assert "**Regions affected:** Joyent us-east-1, Joyent eu-ams-1" in markdown


def test_seed_003_is_known_by_its_day_alone(publish_seed, client):
    pm, _, _ = publish_seed("003")
    incident = pm["incidents"][0]
    page = get(client, f"/incidents/{incident['id']}")
    assert '<time class="day" datetime="2015-07-22">Jul 22, 2015</time>' in page
    assert not re.search(r"Jul 2[12], 2015 \d\d:\d\d", text(page))
    postmortem = text(get(client, f"/postmortems/{pm['id']}"))
    assert "Duration" not in postmortem  # no span worth stating between two dates
    assert "Time to resolve" not in postmortem


# --- 004 ------------------------------------------------------------------------------------------


def test_seed_004_the_downtime_report_says_plainly_that_the_root_cause_is_unknown(publish_seed, client):
    pm, page, markdown = publish_seed("004")
    words = text(page)
    assert seeds.TITLE_004 in words and "Downtime report" in words
    root = section(page, "pm-root-cause")
    assert '<p class="pm__unknown"><strong>Root cause unknown.</strong></p>' in root
    assert "I’m not entirely sure if the root cause for the outage can be discovered" in text(root)
    assert "kernel problem or hardware issue seems most likely" in text(root)
    assert timeline(page) == [
        ("2025-11-04T16:10:00Z", "16:10", seeds_postmortems.postmortem_004().timeline[0]["text"]),
        ("2025-11-04T16:34:00Z", "16:34", seeds_postmortems.postmortem_004().timeline[1]["text"]),
    ]
    assert "All times UTC." in words
    recovery = text(section(page, "pm-recovery"))
    assert "wait for a random time (up to 60 seconds) before they try to reconnect" in recovery
    assert "up to a maximum of 6 minutes between attempts" in recovery
    assert "Duration 24 minutes (Nov 4, 2025 16:10 UTC → Nov 4, 2025 16:34 UTC)" in text(section(page, "pm-numbers"))
    assert "Sorry for the downtime." in text(section(page, "pm-closing"))
    assert "All devices continue to show their content." in text(section(page, "pm-impact"))

    assert "## Root cause\n\n**Root cause unknown.**\n\nFor still unknown reasons" in markdown
    incident = get(client, f"/incidents/{pm['incidents'][0]['id']}")
    assert f'href="/postmortems/{pm["id"]}"' in incident


# --- through a real server: published into the snapshot readers are served -------------------------


def _served(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def _served_when(url: str, holds, timeout: float = 10.0) -> str:
    """What `url` serves once `holds(status, body)`; a loaded machine may take a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = _served(url)
        if holds(status, body):
            return body
        assert time.monotonic() < deadline, f"{url} answered {status} for {timeout} s"
        time.sleep(0.05)


def test_a_published_postmortem_reaches_readers_of_a_running_server(start_server, make_token):
    server = start_server("postmortems")
    author = ApiClient(server.url, token_of("arthur", "admin", "admin", "author"))
    reviewer = ApiClient(server.url, token_of("rita", "responder", "write", "reviewer"))
    seed = seeds_postmortems.postmortem_004()
    answers = seeds.enter(author, seed.incidents)
    draft = author.call("POST", "/api/v1/postmortems", {**seed.postmortem, "prefill_timeline": False,
                                                        "incidents": [answers["downtime"]["id"]]})
    page, incident = f"{server.url}/postmortems/{draft['id']}", f"{server.url}/incidents/{answers['downtime']['id']}"
    assert _served(page)[0] == 404  # a draft is nobody's to read

    author.call("POST", f"/api/v1/postmortems/{draft['id']}/request-review", {})
    reviewer.call("POST", f"/api/v1/postmortems/{draft['id']}/approve", None)
    author.call("POST", f"/api/v1/postmortems/{draft['id']}/publish", None)
    assert "Root cause unknown." in _served_when(page, lambda status, body: status == 200)
    assert _served(page + ".md")[1].startswith(f"# {seeds.TITLE_004}")
    _served_when(incident, lambda status, body: f'href="/postmortems/{draft["id"]}"' in body)

    author.call("POST", f"/api/v1/postmortems/{draft['id']}/unpublish", None)
    body = _served_when(page, lambda status, body: "Postmortem withdrawn" in body)
    assert "kernel problem" not in body
    _served_when(incident, lambda status, body: f'href="/postmortems/{draft["id"]}"' not in body)
