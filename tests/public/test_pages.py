"""The public HTML pages, as a reader gets them: /, /history, /incidents/<id>, /maintenance/<id>."""

import html
import math
import re
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from signalpost.public import views
from signalpost.status import services

ZURICH = ZoneInfo("Europe/Zurich")
UTC = dt_timezone.utc


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def local_today() -> date:
    return timezone.now().astimezone(ZURICH).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZURICH)


def component_html(page: str, component) -> str:
    start = page.index(f'id="component-{component.public_id}"')
    end = page.find('<li class="row"', start + 1)
    return page[start:end if end != -1 else len(page)]


def bars(fragment: str) -> list[tuple[str, str | None]]:
    """(status, title) per day; a calm day is a bare bar whose tooltip public.js writes from its index."""
    return [(status or "operational", html.unescape(title) if title else None)
            for status, title in re.findall(r'<li class="bar(?: bar--(\w+))?"(?: title="([^"]*)")?></li>', fragment)]


def text(fragment: str) -> str:
    """The words a reader sees, tags dropped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- the front page -------------------------------------------------------------------------


def test_it_says_all_systems_operational_when_nothing_is_wrong(client, components):
    page = get(client, "/")
    assert '<section class="banner banner--none"' in page
    assert "All Systems Operational" in page
    assert "<title>Example Status</title>" in page


@pytest.mark.parametrize("cause, indicator, description", [
    ("minor incident", "minor", "Minor Service Outage"),
    ("partial outage", "major", "Partial System Outage"),
    ("critical incident", "critical", "Major System Outage"),
    ("maintenance", "maintenance", "Service Under Maintenance"),
])
def test_it_shows_the_banner_of_the_page_indicator(client, components, cause, indicator, description):
    now = timezone.now()
    if cause == "minor incident":
        services.open_incident(name="Slow dashboards", impact="minor")
    elif cause == "partial outage":
        services.set_override(components["de1"], "partial_outage")
    elif cause == "critical incident":
        services.open_incident(name="Everything down", impact="critical",
                               components={components["zh1"]: "major_outage"})
    else:
        window = services.schedule_maintenance(name="Upgrade", scheduled_for=now - timedelta(minutes=5),
                                               scheduled_until=now + timedelta(hours=1), components=[components["zh2"]])
        services.start_maintenance(window)
    page = get(client, "/")
    assert f'<section class="banner banner--{indicator}"' in page
    assert f'<h1 class="banner__text">{description}</h1>' in page


def test_it_shows_an_open_incident_with_its_latest_update(client, components):
    now = timezone.now()
    incident = services.open_incident(
        name="Sites unreachable in Zurich", impact="major", body="We are **investigating**.",
        components={components["zh1"]: "major_outage", components["zh2"]: "partial_outage"},
        display_at=now - timedelta(hours=2), now=now,
    )
    services.post_update(incident, status="identified", body="A symlink was removed; restoring it.",
                         display_at=now - timedelta(minutes=30), now=now)
    page = get(client, "/")
    assert "Active incidents" in page
    assert f'href="/incidents/{incident.public_id}"' in page
    assert "Sites unreachable in Zurich" in page
    assert "A symlink was removed; restoring it." in page
    assert "investigating</strong>" not in page  # only the latest update is on the front page
    assert "Identified" in page
    assert "30 minutes ago" in page
    assert "Switzerland (zh1.single, zh2.cluster)" in page
    assert "All 2 updates" in page


def test_it_shows_running_and_upcoming_maintenance_with_their_windows(client, components):
    now = timezone.now().replace(microsecond=0)
    upcoming = services.schedule_maintenance(
        name="Database upgrade", scheduled_for=now + timedelta(days=3), scheduled_until=now + timedelta(days=3, hours=2),
        body="We will upgrade the database.", components=[components["de1"]],
    )
    running = services.schedule_maintenance(
        name="Regular weekly maintenance", scheduled_for=now - timedelta(minutes=10),
        scheduled_until=now + timedelta(minutes=50), components=[components["zh1"], components["zh2"]],
    )
    services.start_maintenance(running)
    page = get(client, "/")
    current = page[page.index("Maintenance in progress</h2>"):page.index("Scheduled maintenance</h2>")]
    assert "Regular weekly maintenance" in current
    assert "Scheduled maintenance is currently in progress." in current
    assert "Switzerland (zh1.single, zh2.cluster)" in current
    scheduled = page[page.index("Scheduled maintenance</h2>"):page.index("Components</h2>")]
    assert "Database upgrade" in scheduled and f'href="/maintenance/{upcoming.public_id}"' in scheduled
    assert f'datetime="{(now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")}"' in scheduled
    assert "in 3 days" in scheduled
    # The components under maintenance say so.
    assert 'status--under_maintenance">Under maintenance' in component_html(page, components["zh1"])


def test_it_never_shows_hidden_components_or_hidden_groups(client, components):
    secret_group = services.create_group(name="Internal", hidden=True)
    services.create_component(name="billing-db", group=secret_group)
    services.update_component(components["de2"], hidden=True)
    services.open_incident(name="Outage", components={components["de1"]: "major_outage",
                                                      components["de2"]: "major_outage"})
    page = get(client, "/")
    assert "Internal" not in page and "billing-db" not in page
    assert "de2.compact" not in page
    assert "Germany (de1.compact)" in page
    assert "de1.compact" in page


def test_it_shows_a_component_marked_only_show_if_degraded_only_while_degraded(client, components):
    services.update_component(components["de2"], only_show_if_degraded=True)
    assert "de2.compact" not in get(client, "/")
    services.set_override(components["de2"], "degraded_performance")
    assert 'status--degraded_performance">Degraded performance' in component_html(get(client, "/"), components["de2"])


def test_it_renders_a_fresh_install_with_nothing_in_it(client, db):
    page = get(client, "/")
    assert "All Systems Operational" in page and "No components are published yet." in page
    assert "No incidents reported." in get(client, "/history")


def test_it_marks_third_party_components(client, components):
    page = get(client, "/")
    assert "Third-party" in component_html(page, components["mail"])
    assert "Third-party" not in component_html(page, components["zh1"])


def test_it_shows_the_group_header_with_the_worst_status_of_its_members(client, components):
    services.set_override(components["zh2"], "partial_outage")
    page = get(client, "/")
    header = re.search(r'<h3 class="group__head"><span class="group__name">Switzerland</span>(.*?)</h3>', page)
    assert header and "Partial outage" in header.group(1)
    germany = re.search(r'<h3 class="group__head"><span class="group__name">Germany</span>(.*?)</h3>', page)
    assert germany and "Operational" in germany.group(1)


def test_it_colours_a_day_with_a_major_outage_and_lowers_the_uptime(client, components):
    yesterday = local_today() - timedelta(days=1)
    services.backfill_incident(
        name="Hypervisor lost", impact="critical", started_at=at_local(yesterday, 12),
        resolved_at=at_local(yesterday, 14), components={components["zh1"]: "major_outage"},
    )
    page = get(client, "/")
    zh1 = component_html(page, components["zh1"])
    days = bars(zh1)
    assert len(days) == 90
    status, title = days[-2]  # oldest first: yesterday is the one before today
    assert status == "major_outage"
    assert title.startswith(f"{yesterday:%b} {yesterday.day}, {yesterday.year}\n")
    hours_in_day = (at_local(yesterday + timedelta(days=1), 0) - at_local(yesterday, 0)) / timedelta(hours=1)
    two_hours_of_day = math.floor(10000 * (1 - 2 / hours_in_day)) / 100  # rounded down
    assert f"{two_hours_of_day}% uptime" in title
    assert "Major outage" in title and "Hypervisor lost" in title
    assert all(s == "operational" for s, _ in days[:-2] + days[-1:])
    uptime = float(re.search(r'legend__uptime">([\d.]+)% uptime', zh1).group(1))
    assert 99.8 < uptime < 100
    zh2 = component_html(page, components["zh2"])
    assert all(s == "operational" for s, _ in bars(zh2))
    assert 'legend__uptime">100% uptime' in zh2


def test_it_shows_days_before_a_component_started_as_no_data(client, components):
    services.update_component(components["de1"], start_date=local_today() - timedelta(days=9))
    de1 = component_html(get(client, "/"), components["de1"])
    statuses = [s for s, _ in bars(de1)]
    assert statuses == ["no_data"] * 80 + ["operational"] * 10


def test_it_says_when_the_page_was_rendered_and_links_history_and_api(client, components):
    page = get(client, "/")
    footer = page[page.index("<footer"):]
    assert "Last updated" in footer and '<time class="ts" datetime="' in footer
    assert 'href="/history"' in footer and 'href="/api/v2/summary.json"' in footer


def test_it_renders_the_front_page_in_a_bounded_number_of_queries(client, page, django_assert_max_num_queries):
    groups = [services.create_group(name=f"Region {n}") for n in range(4)]
    now = timezone.now()

    def add(first: int, count: int) -> None:
        made = [services.create_component(name=f"node-{n}", group=groups[n % 4] if n % 5 else None)
                for n in range(first, first + count)]
        for n in range(4):
            incident = services.open_incident(name=f"Incident {first + n}", components={made[n]: "partial_outage"})
            services.post_update(incident, status="identified", body="Found it.")
            if n % 2:
                services.resolve_incident(incident)
        services.backfill_incident(name="Old", started_at=now - timedelta(days=3), resolved_at=now - timedelta(days=2),
                                   components={made[1]: "major_outage"})
        services.schedule_maintenance(name="Later", scheduled_for=now + timedelta(days=1),
                                      scheduled_until=now + timedelta(days=1, hours=1), components=made[:3])

    add(0, 5)
    with CaptureQueriesContext(connection) as few:
        assert get(client, "/").count('<li class="row"') == 5
    add(5, 35)
    with CaptureQueriesContext(connection) as many:
        with django_assert_max_num_queries(16):
            assert get(client, "/").count('<li class="row"') == 40
    assert len(many.captured_queries) == len(few.captured_queries)


def test_it_renders_from_a_bare_request_with_nothing_about_the_reader(client, components):
    services.open_incident(name="Slow", components={components["zh1"]: "degraded_performance"})
    response = views.index(HttpRequest())
    response.render()
    assert response.status_code == 200
    assert b"Slow" in response.content
    served = client.get("/")
    assert "Set-Cookie" not in served and "Cookie" not in served.get("Vary", "")
    assert b"csrfmiddlewaretoken" not in served.content


def test_it_has_no_inline_script_or_style(client, components):
    incident = services.open_incident(name="Inline", components={components["zh1"]: "major_outage"})
    for path in ("/", "/history", incident.public_path):
        page = get(client, path)
        assert "<style" not in page and " style=" not in page
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/public/public.js" defer>']
        assert '<link rel="stylesheet" href="/static/public/public.css">' in page
        assert '<html lang="en"' in page and 'name="viewport"' in page


# --- history ---------------------------------------------------------------------------------


def _month_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def test_it_lists_every_day_of_a_past_month_newest_first(client, components):
    month = _month_before(local_today(), 2)
    last_day = (_month_before(local_today(), 1) - timedelta(days=1)).day
    services.backfill_incident(name="Mails delivery issues", impact="minor", started_at=at_local(month.replace(day=9), 10),
                               resolved_at=at_local(month.replace(day=9), 16), components={components["mail"]: "partial_outage"},
                               resolution_body="Our provider's incident is over.")
    page = get(client, f"/history/{month:%Y-%m}")
    titles = re.findall(r'<h2 class="day__title"[^>]*>([^<]+)</h2>', page)
    expected = [date(month.year, month.month, d) for d in range(last_day, 0, -1)]
    assert titles == [f"{d:%A}, {d:%B} {d.day}, {d.year}" for d in expected]
    assert page.count("No incidents reported.") == last_day - 1
    ninth = page[page.index(f"{month:%B} 9, {month.year}</h2>"):]
    ninth = ninth[:ninth.index('<section class="day"')]
    assert "Mails delivery issues" in ninth and "Retroactive" in ninth
    assert "Our provider&#x27;s incident is over." in ninth or "Our provider's incident is over." in ninth
    assert "Minor impact" in ninth and "Affected: Mail delivery" in text(ninth)


def test_it_lists_the_current_month_up_to_today(client, components):
    today = local_today()
    page = get(client, "/history")
    titles = re.findall(r'<h2 class="day__title"[^>]*>([^<]+)</h2>', page)
    assert titles[0] == f"{today:%A}, {today:%B} {today.day}, {today.year}"
    assert len(titles) == today.day
    assert f"{today:%B} {today.year}" in page


def test_it_places_an_incident_on_the_local_day_it_began(client, components):
    # 00:30 in Zurich is still the previous day in UTC.
    day = _month_before(local_today(), 1).replace(day=15)
    services.backfill_incident(name="Just after midnight", started_at=at_local(day, 0, 30),
                               resolved_at=at_local(day, 1, 30), components={components["zh1"]: "major_outage"})
    page = get(client, f"/history/{day:%Y-%m}")
    section = page[page.index(f"{day:%B} 15, {day.year}</h2>"):]
    section = section[:section.index('<section class="day"')]
    assert "Just after midnight" in section


def test_it_moves_between_months(client, components):
    old = _month_before(local_today(), 2)
    services.backfill_incident(name="Long ago", started_at=at_local(old.replace(day=3), 9),
                               resolved_at=at_local(old.replace(day=3), 10))
    current = get(client, "/history")
    previous = _month_before(local_today(), 1)
    assert f'href="/history/{previous:%Y-%m}" rel="prev"' in current
    assert 'rel="next"' not in current
    older = get(client, f"/history/{old:%Y-%m}")
    assert f'href="/history/{previous:%Y-%m}" rel="next"' in older
    assert 'rel="prev"' not in older  # nothing happened before it
    assert "Long ago" in older


def test_it_shows_maintenance_in_the_history_with_its_window(client, components):
    now = timezone.now().replace(microsecond=0)
    window = services.schedule_maintenance(name="Kernel upgrade", scheduled_for=now - timedelta(minutes=30),
                                           scheduled_until=now + timedelta(minutes=30), components=[components["zh1"]])
    services.start_maintenance(window, now=now - timedelta(minutes=20))
    page = get(client, "/history")
    assert "Kernel upgrade" in page
    entry = page[page.index("Kernel upgrade"):]
    entry = entry[:entry.index("</article>")]
    assert 'label--maintenance">Maintenance' in entry
    assert f'datetime="{(now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}"' in entry
    assert "ongoing" in entry


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "0000-01", "1969-12"])
def test_it_answers_404_for_a_month_that_does_not_exist(client, page, month):
    assert client.get(f"/history/{month}").status_code == 404


# --- one incident or maintenance ---------------------------------------------------------------


def test_it_shows_every_update_of_an_incident_newest_first(client, components):
    started = datetime(2017, 9, 12, 17, 46, tzinfo=UTC)
    incident = services.backfill_incident(
        name="Regular Weekly Maintenance fallout", impact="major", started_at=started,
        resolved_at=datetime(2017, 9, 12, 22, 25, tzinfo=UTC), body="We are investigating.",
        components={components["zh1"]: "major_outage", components["zh2"]: "major_outage",
                    components["mail"]: "degraded_performance"},
        updates=[{"display_at": datetime(2017, 9, 12, 20, 53, tzinfo=UTC), "status": "identified",
                  "body": "Maintenance is taking **longer** than anticipated."}],
        resolution_body="All affected sites are back online.",
    )
    page = get(client, f"/incidents/{incident.public_id}")
    assert "<h1 class=\"incident__title\">Regular Weekly Maintenance fallout</h1>" in page
    assert "Major impact" in page and "Resolved" in page
    assert "Switzerland (zh1.single, zh2.cluster), Mail delivery" in page
    order = [page.index(s) for s in ("All affected sites are back online.", "taking <strong>longer</strong>",
                                      "We are investigating.")]
    assert order == sorted(order)
    statuses = re.findall(r'<p class="update__status">([^<]+)</p>', page)
    assert statuses == ["Resolved", "Identified", "Investigating"]
    assert '<time class="ts" datetime="2017-09-12T20:53:00Z">Sep 12, 2017 22:53 CEST</time>' in page
    assert "Retroactive" in page and "recorded after it happened" in page
    assert page.count("(added later, at") == 3  # every update was written long after its display time
    assert "4 hours 39 minutes" in page  # 17:46 → 22:25 UTC
    assert re.search(r'<time class="ago" datetime="2017-09-12T22:25:00Z" title="Sep 13, 2017 00:25 CEST">\d+ years ago</time>', page)


def test_it_shows_an_open_incident_as_ongoing_with_relative_times(client, components):
    now = timezone.now()
    incident = services.open_incident(name="Deployments failing", components={components["de1"]: "partial_outage"},
                                      display_at=now - timedelta(hours=2), now=now)
    page = get(client, incident.public_path)
    assert "ongoing" in page and "2 hours so far" in page
    assert "2 hours ago" in page
    assert "de1.compact: Partial outage" in page  # what the update did to the component


def test_it_shows_a_maintenance_window_and_its_overrun(client, components):
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(hours=3)
    window = services.schedule_maintenance(name="Regular weekly maintenance", scheduled_for=start,
                                           scheduled_until=start + timedelta(hours=1), components=[components["zh1"]],
                                           body="We are conducting regular maintenance on our systems.", now=start - timedelta(days=1))
    services.start_maintenance(window, now=start)
    services.post_maintenance_update(window, status="in_progress", body="Maintenance is taking longer than anticipated.",
                                     now=start + timedelta(minutes=53))
    services.complete_maintenance(window, now=start + timedelta(hours=1, minutes=30))
    page = get(client, f"/maintenance/{window.public_id}")
    assert "Scheduled maintenance" in page
    assert re.findall(r'<p class="update__status">([^<]+)</p>', page) == ["Completed", "In progress", "In progress", "Scheduled"]
    assert f'datetime="{start.strftime("%Y-%m-%dT%H:%M:%SZ")}"' in page
    assert "Ended 30 minutes after its scheduled end" in page
    assert "1 hour 30 minutes" in page
    assert "Switzerland (zh1.single)" in page


def test_it_answers_404_for_an_unknown_id_or_the_wrong_kind(client, components):
    incident = services.open_incident(name="Real")
    window = services.schedule_maintenance(name="Planned", scheduled_for=timezone.now() + timedelta(days=1),
                                           scheduled_until=timezone.now() + timedelta(days=1, hours=1))
    assert client.get("/incidents/doesnotexist").status_code == 404
    assert client.get(f"/incidents/{window.public_id}").status_code == 404
    assert client.get(f"/maintenance/{incident.public_id}").status_code == 404
    assert client.get(f"/maintenance/{window.public_id}").status_code == 200


def test_it_never_runs_markup_from_an_update_body(client, components):
    incident = services.open_incident(
        name="<b>Name</b>", components={components["zh1"]: "major_outage"},
        body='<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3))',
    )
    for path in ("/", incident.public_path, "/history"):
        page = get(client, path)
        assert "<script>alert" not in page
        assert not re.search(r"<img[^>]*onerror", page)
        assert 'href="javascript:' not in page
        assert "<b>Name</b>" not in page and "&lt;b&gt;Name&lt;/b&gt;" in page


def test_it_orders_groups_and_ungrouped_components_as_created_or_positioned(client, components):
    from signalpost.status import services

    services.update_component(components["mail"], position=1)  # ties with Switzerland: the group goes first
    html = client.get("/").content.decode()
    assert html.index("Switzerland") < html.index("Mail delivery") < html.index("Germany")


def test_it_shows_a_maintenance_window_extended_by_an_overrun_update(client, components):
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.status import services

    now = timezone.now().replace(microsecond=0)
    maintenance = services.schedule_maintenance(
        name="Regular weekly maintenance", scheduled_for=now - timedelta(minutes=50),
        scheduled_until=now + timedelta(minutes=10), components=[components["zh1"]], now=now - timedelta(days=2),
    )
    services.start_maintenance(maintenance, now=now - timedelta(minutes=50))
    services.post_maintenance_update(maintenance, status="in_progress",
                                     body="Maintenance is taking longer than anticipated.",
                                     scheduled_until=now + timedelta(minutes=70), now=now - timedelta(minutes=5))
    html = client.get(f"/maintenance/{maintenance.public_id}").content.decode()
    assert "Maintenance is taking longer than anticipated." in html
    assert "The window now ends" in html
    assert "extended; originally until" in html
    maintenance.refresh_from_db()
    assert maintenance.scheduled_until == now + timedelta(minutes=70)
