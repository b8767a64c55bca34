"""A monitor's verdicts as the status core sees them: a cause of the derived status, with its reason,
on the public page and in its uptime, and back to operational when the monitor recovers."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from signalpost.events.models import Event
from signalpost.monitors import store
from signalpost.monitors.models import CheckResult, MinuteRollup, Monitor, MonitorComponent, StateChange
from signalpost.status import derive, services
from signalpost.status.models import ComponentSignal
from tests.publishing import publish

SECOND = timedelta(seconds=1)


@pytest.fixture
def now() -> datetime:
    return datetime.now(dt_timezone.utc).replace(microsecond=0) - timedelta(minutes=30)


@pytest.fixture
def monitor(components):
    monitor = Monitor.objects.create(name="API health", target="https://api.example.com/health",
                                     interval_seconds=10)
    MonitorComponent.objects.create(monitor=monitor, component=components["zh1"])
    return monitor


def checks(monitor, location, start, verdicts, reason="HTTP 503 Service Unavailable"):
    """Record one check every interval from `start` (u: up, x: down, d: degraded), one batch each."""
    at = start
    for letter in verdicts:
        verdict = {"u": "up", "x": "down", "d": "degraded"}[letter]
        store.record(location, [store.Outcome(monitor.pk, at, verdict, latency_ms=40,
                                              status_code=503 if letter == "x" else 200,
                                              reason=reason if letter != "u" else "")])
        at += timedelta(seconds=monitor.interval_seconds)
    return at


def test_three_failures_make_the_component_a_major_outage_with_the_monitor_as_its_reason(components, monitor, now):
    zh1 = components["zh1"]
    after = checks(monitor, "local", now, "uxx")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "operational"

    after = checks(monitor, "local", after, "x")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "major_outage"
    [reason] = derive.status_reasons([zh1], after)[zh1.pk]
    assert (reason.kind, reason.status, reason.wins) == ("monitor", "major_outage", True)
    assert reason.reason == "monitor 'API health' down: HTTP 503 Service Unavailable from 1 of 1 location"

    event = Event.objects.filter(kind="component.signal_changed").get()
    assert event.subject == f"component:{zh1.public_id}"
    assert event.data["statuses"][zh1.public_id]["after"] == "major_outage"
    assert Event.objects.filter(kind="monitor.state_changed").count() == 2  # unknown → up, up → down


def test_it_recovers_after_two_successes_and_the_interval_stays_in_the_timeline(components, monitor, now):
    zh1 = components["zh1"]
    down_at = now + 3 * 10 * SECOND
    after = checks(monitor, "local", now, "uxxxuu")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "operational"
    up_at = now + 5 * 10 * SECOND
    segments = [(s.start, s.end, s.status) for s in derive.component_status_timeline(zh1, now, after)]
    assert segments == [(now, down_at, "operational"), (down_at, up_at, "major_outage"),
                        (up_at, after, "operational")]
    changes = list(StateChange.objects.values_list("from_state", "to_state"))
    assert changes == [("unknown", "up"), ("up", "down"), ("down", "up")]
    assert not ComponentSignal.objects.filter(end__isnull=True).exists()


def test_an_override_outweighs_the_monitor(components, monitor, now):
    zh1 = components["zh1"]
    after = checks(monitor, "local", now, "uxxx")
    services.set_override(zh1, "operational", reason="the probe is wrong", now=after)
    assert derive.current_statuses([zh1], after)[zh1.pk] == "operational"
    reasons = derive.status_reasons([zh1], after)[zh1.pk]
    assert [(r.kind, r.wins) for r in reasons] == [("override", True), ("monitor", False)]


def test_a_component_linked_with_its_own_rule_takes_that_status(components, monitor, now):
    de1 = components["de1"]
    MonitorComponent.objects.create(monitor=monitor, component=de1, down_status="partial_outage")
    after = checks(monitor, "local", now, "uxxx")
    statuses = derive.current_statuses([components["zh1"], de1], after)
    assert (statuses[components["zh1"].pk], statuses[de1.pk]) == ("major_outage", "partial_outage")


def test_slow_answers_make_it_degraded_performance(components, monitor, now):
    zh1 = components["zh1"]
    after = checks(monitor, "local", now, "uddd", reason="slow: 2300 ms (above 1000 ms)")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "degraded_performance"


def test_two_locations_must_agree(components, monitor, now):
    zh1 = components["zh1"]
    checks(monitor, "zurich", now, "u")
    after = checks(monitor, "frankfurt", now, "uxxx")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "operational"  # 1 of 2: not a majority
    after = checks(monitor, "zurich", after, "xxx")
    assert derive.current_statuses([zh1], after)[zh1.pk] == "major_outage"
    assert derive.status_reasons([zh1], after)[zh1.pk][0].reason.endswith("from 2 of 2 locations")


def test_flapping_is_damped_to_one_change_per_interval(components, now):
    monitor = Monitor.objects.create(name="Flappy", target="https://flappy.example.com/", interval_seconds=60,
                                     failures_to_down=1, successes_to_up=1)
    at = now
    for letter in "uxuxux":
        store.record("local", [store.Outcome(monitor.pk, at, "up" if letter == "u" else "down")])
        at += 20 * SECOND  # three checks per interval
    changes = list(StateChange.objects.values_list("to_state", "at"))
    assert changes == [("up", now), ("down", now + 60 * SECOND)]


def test_results_are_rolled_up_per_minute(monitor, now):
    minute = now.replace(second=0)
    store.record("local", [store.Outcome(monitor.pk, minute + i * SECOND, "down" if i == 3 else "up", latency_ms=ms)
                           for i, ms in enumerate([10, 20, 30, 40, 500])])
    rollup = MinuteRollup.objects.get()
    assert (rollup.checks, rollup.failures, rollup.latency_p50_ms, rollup.latency_p95_ms, rollup.latency_max_ms) == (
        5, 1, 30, 500, 500)
    store.record("local", [store.Outcome(monitor.pk, minute + 50 * SECOND, "up", latency_ms=5)])
    rollup.refresh_from_db()
    assert (rollup.checks, rollup.latency_p50_ms) == (6, 20)


def test_old_raw_results_are_pruned_and_roll_ups_kept(monitor, settings):
    settings.MONITOR_RAW_DAYS = 14
    now = datetime.now(dt_timezone.utc)
    old = (now - timedelta(days=15)).replace(second=0, microsecond=0)  # seven checks in one minute
    recent = now - timedelta(days=1)
    store.record("local", [store.Outcome(monitor.pk, old + i * SECOND, "up") for i in range(7)]
                 + [store.Outcome(monitor.pk, recent, "up")])
    assert store.prune_raw(now, batch=3) == 7
    assert list(CheckResult.objects.values_list("at", flat=True)) == [recent]
    assert MinuteRollup.objects.count() == 2


def test_the_public_page_shows_the_outage_and_then_operational_again(client, components, monitor):
    zh1 = components["zh1"]
    now = datetime.now(dt_timezone.utc) - timedelta(minutes=5)
    checks(monitor, "local", now, "uxxx")
    publish()
    page = client.get("/").content.decode()
    row = page[page.index(f'id="component-{zh1.public_id}"'):]
    row = row[:row.find('<li class="row"', 1)]
    assert "Major outage" in row
    summary = client.get("/api/v2/components.json").json()
    assert {c["name"]: c["status"] for c in summary["components"]}["zh1.single"] == "major_outage"

    checks(monitor, "local", now + 40 * SECOND, "uu")
    publish()
    summary = client.get("/api/v2/components.json").json()
    assert {c["name"]: c["status"] for c in summary["components"]}["zh1.single"] == "operational"


def test_yesterday_s_outage_seen_by_a_monitor_colours_its_bar_and_lowers_the_uptime(client, components, monitor):
    import re
    from zoneinfo import ZoneInfo

    from tests.public.test_pages import bars, component_html

    zurich = ZoneInfo("Europe/Zurich")  # the page's zone
    yesterday = (datetime.now(zurich) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    monitor.interval_seconds = 600
    monitor.save()
    checks(monitor, "local", yesterday - timedelta(minutes=30), "uxxxxxxuu")  # down from 12:00 to 12:50
    page = client.get("/").content.decode()
    zh1 = component_html(page, components["zh1"])
    status, title = bars(zh1)[-2]
    assert status == "major_outage" and "Major outage" in title
    # Its uptime is over the time the monitor watched (11:30 to the end of the 12:00 hour, the hours its
    # probe ran): 50 minutes down in 90; the days before, nothing watched it.
    uptime = float(re.search(r'legend__uptime">([\d.]+)% uptime', zh1).group(1))
    assert uptime == 44.44
    assert {s for s, _ in bars(zh1)[:-2]} == {"no_data"}
    assert all(s == "operational" for s, _ in bars(component_html(page, components["zh2"])))
