"""The monthly SLA report of a component: each month's uptime from its monitors' checks with maintenance
left out, the formula on the page, linked from the components screen, and the same rows as CSV."""

import csv
import io
import math
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest

from signalpost.monitors import hourly
from signalpost.monitors.models import Monitor, MonitorComponent, StateChange
from signalpost.presentation.times import uptime_text
from signalpost.presentation.zone import midnight
from signalpost.status import services

from .events_support import signed_in

HOUR = timedelta(hours=1)
ZURICH = ZoneInfo("Europe/Zurich")  # the page's zone


@pytest.fixture
def last_month(components):
    """zh1 watched all of last month; down 01:00–04:00 on its 10th, a maintenance running 02:00–04:00."""
    today = datetime.now(ZURICH).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    start, end = midnight(first, ZURICH).astimezone(dt_timezone.utc), midnight(today.replace(day=1), ZURICH)
    monitor = Monitor.objects.create(name="API", target="https://api.example.com/")
    MonitorComponent.objects.create(monitor=monitor, component=components["zh1"])
    outage = midnight(first.replace(day=10), ZURICH) + HOUR
    for at, before, after in [(start, "unknown", "up"), (outage, "up", "down"), (outage + 3 * HOUR, "down", "up")]:
        StateChange.objects.create(monitor=monitor, at=at, from_state=before, to_state=after)
    hours, hour = [], start
    while hour < end:
        hours.append(hourly.Hour(monitor.pk, "local", hour, 60))
        hour += HOUR
    hourly.write(hours)
    services.schedule_maintenance(name="Database upgrade", scheduled_for=outage + HOUR,
                                  scheduled_until=outage + 3 * HOUR, components=[components["zh1"]],
                                  deliver_notifications=False, now=end)
    services.run_due_transitions(now=end)
    watched_hours = (end - start) / HOUR
    return first, watched_hours


def test_the_report_states_the_formula_and_each_month_s_uptime_without_maintenance(client, components, last_month):
    first, watched_hours = last_month
    signed_in(client, "vera", "viewer")
    listing = client.get("/console/components/").content.decode()
    assert f'href="/console/components/{components["zh1"].public_id}/sla"' in listing
    response = client.get(f"/console/components/{components['zh1'].public_id}/sla")
    assert response.status_code == 200
    body = response.content.decode()
    assert ("uptime = (minutes watched − minutes in maintenance − minutes down outside maintenance) "
            "÷ (minutes watched − minutes in maintenance)") in body
    expected = math.floor(10000 * (1 - 1 / (watched_hours - 2))) / 100
    row = body[body.index(f"{first:%B %Y}"):]
    row = row[:row.index("</tr>")]
    assert f"<td>{int(watched_hours * 60)}</td><td>120</td><td>60</td><td>{uptime_text(expected)}</td>" in row
    this_month = body[body.index(f"{date.today().replace(day=1):%B %Y}"):]
    assert "No data" in this_month[:this_month.index("</tr>")]


def test_the_csv_has_the_same_rows(client, components, last_month):
    first, watched_hours = last_month
    signed_in(client, "vera", "viewer")
    response = client.get(f"/console/components/{components['zh1'].public_id}/sla.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 12
    month = next(r for r in rows if r["month"] == f"{first:%Y-%m}")
    assert month == {
        "month": f"{first:%Y-%m}", "minutes_watched": str(int(watched_hours * 60)),
        "minutes_in_maintenance": "120", "minutes_down_outside_maintenance": "60",
        "uptime_percent": f"{math.floor(10000 * (1 - 1 / (watched_hours - 2))) / 100:.2f}",
    }
    assert sum(1 for r in rows if r["uptime_percent"] == "") == 11  # nobody watched the other months


def test_a_component_no_monitor_watches_says_so(client, components):
    signed_in(client, "vera", "viewer")
    body = client.get(f"/console/components/{components['zh2'].public_id}/sla").content.decode()
    assert "No monitor watches zh2.cluster" in body


def test_an_unknown_component_is_not_found(client, components):
    signed_in(client, "vera", "viewer")
    assert client.get("/console/components/nosuchthing/sla").status_code == 404
    assert client.get("/console/components/nosuchthing/sla.csv").status_code == 404
