"""The public page of components that monitors watch: their uptime and bars from the checks, "No data"
for the days nobody watched, and a response-time chart; components without monitors keep the bars
their incidents make."""

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest

from signalpost.monitors import hourly
from signalpost.monitors.models import Monitor, MonitorComponent, StateChange
from signalpost.presentation.times import uptime_text
from signalpost.presentation.zone import midnight
from tests.public.test_pages import bars, component_html
from tests.publishing import publish

UTC = dt_timezone.utc
HOUR = timedelta(hours=1)
ZURICH = ZoneInfo("Europe/Zurich")  # the page's zone
SVG = "{http://www.w3.org/2000/svg}"


def day_start(days_ago: int) -> datetime:
    return midnight(datetime.now(ZURICH).date() - timedelta(days=days_ago), ZURICH).astimezone(UTC)


def probe_ran(monitor: Monitor, start: datetime, end: datetime, p50: int | None = None) -> None:
    rows, hour = [], start
    while hour < end:
        rows.append(hourly.Hour(monitor.pk, "local", hour, 60, latency_p50_ms=p50, latency_p95_ms=p50 and p50 * 3,
                                latency_max_ms=p50 and p50 * 4))
        hour += HOUR
    hourly.write(rows)


@pytest.fixture
def watched(components):
    """zh1: watched 10 to 5 days ago and 3 days ago to yesterday, down 06:00–08:00 eight days ago."""
    monitor = Monitor.objects.create(name="API", target="https://api.example.com/")
    MonitorComponent.objects.create(monitor=monitor, component=components["zh1"])
    outage = day_start(8) + 6 * HOUR
    for at, before, after in [(day_start(10), "unknown", "up"), (outage, "up", "down"), (outage + 2 * HOUR, "down", "up")]:
        StateChange.objects.create(monitor=monitor, at=at, from_state=before, to_state=after)
    probe_ran(monitor, day_start(10), day_start(5))
    probe_ran(monitor, day_start(3), day_start(1))
    return monitor


def test_days_nobody_watched_say_no_data_and_the_uptime_is_the_checks(client, components, watched):
    publish()
    page = client.get("/").content.decode()
    zh1 = component_html(page, components["zh1"])
    days = bars(zh1)
    assert len(days) == 90
    unwatched = list(range(0, 79)) + [84, 85, 88, 89]  # 89 days ago … 11 days ago, 5 and 4, yesterday, today
    assert all(days[i][0] == "no_data" and "No data" in days[i][1] for i in unwatched), days
    watched_days = [79, 80, 81, 82, 83, 86, 87]  # 10 … 6 days ago, 3 and 2 days ago
    assert all(days[i][0] == "operational" for i in watched_days if i != 81)
    status, title = days[81]  # eight days ago: 2 hours down
    hours = (day_start(7) - day_start(8)) / HOUR
    assert status == "major_outage" and f"{uptime_text(math.floor(10000 * (1 - 2 / hours)) / 100)} uptime" in title
    watched_hours = ((day_start(5) - day_start(10)) + (day_start(1) - day_start(3))) / HOUR
    expected = math.floor(10000 * (1 - 2 / watched_hours)) / 100
    assert re.search(r'legend__uptime">([\d.]+%) uptime', zh1).group(1) == uptime_text(expected)


def test_a_component_without_monitors_keeps_its_incident_bars(client, components, watched):
    publish()
    page = client.get("/").content.decode()
    zh2 = component_html(page, components["zh2"])
    assert {status for status, _ in bars(zh2)} == {"operational"}
    assert 'legend__uptime">100% uptime' in zh2
    assert "Response times" not in zh2


def test_the_response_time_chart_is_valid_svg_with_its_figures_in_words(client, components, watched):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    probe_ran(watched, now - 20 * HOUR, now + HOUR, p50=40)
    hourly.write([hourly.Hour(watched.pk, "local", now, 60, latency_p50_ms=90, latency_p95_ms=300, latency_max_ms=400)])
    publish()
    page = client.get("/").content.decode()
    zh1 = component_html(page, components["zh1"])
    svg_text = re.search(r"<svg class=\"rt-chart\".*?</svg>", zh1, re.S).group(0)
    svg = ET.fromstring(svg_text)  # well-formed XML
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Response times of zh1.single, last 24 hours"
    desc = svg.find(f"{SVG}desc").text
    assert "p50 90 ms in the latest hour, between 40 and 90 ms" in desc
    assert "p95 300 ms in the latest hour, at most 300 ms" in desc
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 2 and all(len(line.get("points").split()) == 21 for line in lines)
    assert "style=" not in svg_text  # the page's Content-Security-Policy forbids style attributes
    assert "p50 90 ms in the latest hour" in re.search(r'<p class="rt__figures">(.*?)</p>', zh1).group(1)
