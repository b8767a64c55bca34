"""Uptime from what monitors saw: time-weighted from state changes, over the hours their probes ran,
with the time nobody watched left out ("no data"); the hourly roll-ups behind it, and pruning."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from signalpost.monitors import hourly, store, uptime
from signalpost.monitors.models import CheckResult, HourlyRollup, MinuteRollup, Monitor, MonitorComponent, StateChange
from signalpost.status import services

UTC = dt_timezone.utc
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def make_monitor(name: str, interval: int = 60) -> Monitor:
    return Monitor.objects.create(name=name, target=f"https://{name}.example.com/", interval_seconds=interval)


def history(monitor: Monitor, changes: list[tuple[datetime, str]]) -> None:
    """State changes as the store would have written them."""
    state = "unknown"
    for at, to_state in changes:
        StateChange.objects.create(monitor=monitor, at=at, from_state=state, to_state=to_state)
        state = to_state


def probe_ran(monitor: Monitor, start: datetime, end: datetime, checks_per_hour: int = 60,
              location: str = "local") -> None:
    """Hourly roll-ups for every hour in [start, end): the probe was running then."""
    hour, rows = start, []
    while hour < end:
        rows.append(hourly.Hour(monitor.pk, location, hour, checks_per_hour))
        hour += HOUR
    hourly.write(rows)


@pytest.fixture
def watched(db):
    """Up from day 0; down 06:00–08:00 on day 2; paused from day 5 to day 6; its probe stopped on day 8."""
    monitor = make_monitor("api")
    history(monitor, [(T0, "up"), (T0 + 2 * DAY + 6 * HOUR, "down"), (T0 + 2 * DAY + 8 * HOUR, "up"),
                      (T0 + 5 * DAY, "unknown"), (T0 + 6 * DAY, "up")])
    probe_ran(monitor, T0, T0 + 5 * DAY)
    probe_ran(monitor, T0 + 6 * DAY, T0 + 8 * DAY)
    probe_ran(monitor, T0 + 9 * DAY, T0 + 10 * DAY)
    return monitor


def test_a_monitor_s_uptime_is_its_down_time_over_the_time_it_watched(watched):
    figures = uptime.monitor_uptime(watched.pk, T0, T0 + 10 * DAY)
    # Watched: days 0–5, 6–8 and 9–10 (paused on day 5, its probe stopped on day 8): 8 days, 2 hours down.
    assert figures.watched == 8 * DAY
    assert figures.down == 2 * HOUR
    assert figures.percent == 98.95  # 1 − 2 / 192, rounded down


def test_any_period_is_cut_from_the_same_history(watched):
    assert uptime.monitor_uptime(watched.pk, T0 + 2 * DAY, T0 + 3 * DAY).percent == 91.66  # 22 of 24 hours
    assert uptime.monitor_uptime(watched.pk, T0 + 2 * DAY + 7 * HOUR, T0 + 2 * DAY + 8 * HOUR).percent == 0.0
    assert uptime.monitor_uptime(watched.pk, T0 + 3 * DAY, T0 + 5 * DAY).percent == 100.0
    nobody = uptime.monitor_uptime(watched.pk, T0 + 8 * DAY, T0 + 9 * DAY)  # the probe was stopped
    assert (nobody.watched, nobody.percent) == (timedelta(), None)
    before = uptime.monitor_uptime(watched.pk, T0 - 30 * DAY, T0)
    assert before.percent is None
    year = uptime.monitor_uptime(watched.pk, T0 - 300 * DAY, T0 + 65 * DAY)
    assert (year.watched, year.down) == (8 * DAY, 2 * HOUR)


def test_the_probe_s_interval_does_not_change_the_figure(db):
    often, rarely = make_monitor("often", interval=10), make_monitor("rarely", interval=300)
    for monitor, per_hour in ((often, 360), (rarely, 12)):
        history(monitor, [(T0, "up"), (T0 + 3 * HOUR, "down"), (T0 + 3 * HOUR + 20 * timedelta(minutes=1), "up")])
        probe_ran(monitor, T0, T0 + DAY, checks_per_hour=per_hour)
    assert uptime.monitor_uptime(often.pk, T0, T0 + DAY) == uptime.monitor_uptime(rarely.pk, T0, T0 + DAY)
    assert uptime.monitor_uptime(often.pk, T0, T0 + DAY).percent == 98.61  # 20 minutes in 24 hours


def test_a_component_takes_the_worst_of_its_monitors_and_its_link_s_status(components):
    zh1 = components["zh1"]
    api, web = make_monitor("api"), make_monitor("web")
    MonitorComponent.objects.create(monitor=api, component=zh1)  # down: major outage
    MonitorComponent.objects.create(monitor=web, component=zh1, down_status="partial_outage")
    history(api, [(T0, "up"), (T0 + 10 * HOUR, "down"), (T0 + 11 * HOUR, "up")])
    history(web, [(T0 + 12 * HOUR, "up"), (T0 + 14 * HOUR, "down"), (T0 + 24 * HOUR, "up")])
    probe_ran(api, T0, T0 + 12 * HOUR)  # api's probe stops at noon, web's starts then
    probe_ran(web, T0 + 12 * HOUR, T0 + 2 * DAY)
    figures = uptime.component_uptime([zh1.pk, components["zh2"].pk], T0, T0 + 2 * DAY)
    assert list(figures) == [zh1.pk]  # zh2 has no monitor: not watched at all
    # 48 hours watched; 1 hour of major outage, 10 hours of partial outage at 30%.
    assert figures[zh1.pk].watched == 2 * DAY
    assert figures[zh1.pk].down == HOUR + 3 * HOUR
    assert figures[zh1.pk].percent == 91.66


def test_an_sla_month_leaves_out_maintenance(components):
    zh1 = components["zh1"]
    monitor = make_monitor("api")
    MonitorComponent.objects.create(monitor=monitor, component=zh1)
    march, april = T0.date(), T0.date().replace(month=4)
    start = datetime(2026, 3, 1, tzinfo=UTC) - HOUR  # midnight in Zurich
    history(monitor, [(start, "up"), (start + 10 * DAY, "down"), (start + 10 * DAY + 3 * HOUR, "up")])
    probe_ran(monitor, start, start + 40 * DAY)
    # A maintenance from 01:00 to 03:00 of the outage: two of its three hours are left out.
    services.schedule_maintenance(name="Database upgrade", scheduled_for=start + 10 * DAY + HOUR,
                                  scheduled_until=start + 10 * DAY + 3 * HOUR, components=[zh1],
                                  deliver_notifications=False, now=start + 20 * DAY)
    services.run_due_transitions(now=start + 20 * DAY)  # a window entered afterwards runs at its own times
    from zoneinfo import ZoneInfo

    rows = uptime.sla_months(zh1.pk, [march, april], ZoneInfo("Europe/Zurich"), start + 45 * DAY)
    assert [r.month for r in rows] == [march, april]
    assert rows[0].watched == 31 * DAY - HOUR  # March in Zurich is an hour short (summer time)
    assert rows[0].maintenance == 2 * HOUR
    assert rows[0].down == HOUR
    # (743 h − 2 h − 1 h) / (743 h − 2 h) = 740 / 741
    assert rows[0].percent == 99.86
    assert rows[1].watched == 9 * DAY + HOUR  # from April 1 00:00 in Zurich until the probe's last hour
    assert rows[1].percent == 100.0


# --- hourly roll-ups and pruning ----------------------------------------------------------------


def test_a_running_hour_adds_its_counts_and_an_ended_one_is_made_exact_from_its_results(db):
    monitor = make_monitor("api")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - 2 * HOUR
    latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]
    store.record("local", [store.Outcome(monitor.pk, now + i * timedelta(minutes=5), verdict, latency_ms=ms)
                           for i, (ms, verdict) in enumerate(zip(latencies, ["up"] * 7 + ["degraded", "down", "down"]))])
    store.record("local", [store.Outcome(monitor.pk, now + HOUR + timedelta(minutes=1), "up", latency_ms=7)])

    def hours():
        return hourly.read([monitor.pk], now - DAY, now + DAY)

    first, second = hours()
    assert (first.hour, first.checks, first.failures, first.degraded) == (now, 10, 2, 1)
    assert (first.latency_p50_ms, first.latency_p95_ms, first.latency_max_ms) == (50, 1000, 1000)
    assert (second.hour, second.checks, second.latency_p50_ms) == (now + HOUR, 1, 7)
    # A later batch in the same hour: its counts are added (nothing read back); the percentiles wait.
    store.record("local", [store.Outcome(monitor.pk, now + timedelta(minutes=57 + i), "up", latency_ms=ms)
                           for i, ms in enumerate([1, 2])])
    first = hours()[0]
    assert (first.checks, first.latency_p50_ms, first.latency_max_ms) == (12, 50, 1000)
    # The hour over, the probe's housekeeping computes it again from its raw results: exact.
    assert store.finish_hours(now, now + 2 * HOUR) == 2
    first = hours()[0]
    assert (first.checks, first.failures, first.degraded) == (12, 2, 1)
    assert (first.latency_p50_ms, first.latency_p95_ms, first.latency_max_ms) == (40, 1000, 1000)
    assert MinuteRollup.objects.filter(monitor=monitor).count() == 13


def test_locations_have_hours_of_their_own(db):
    monitor = make_monitor("api")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - HOUR
    store.record("zurich", [store.Outcome(monitor.pk, now, "up", latency_ms=10)])
    store.record("frankfurt", [store.Outcome(monitor.pk, now, "down", latency_ms=900)])
    rows = {h.location: h.latency_p50_ms for h in hourly.read([monitor.pk], now - DAY, now + DAY)}
    assert rows == {"zurich": 10, "frankfurt": 900}


def test_pruning_deletes_raw_results_and_minutes_in_batches_and_keeps_the_hours(db, settings):
    settings.MONITOR_RAW_DAYS, settings.MONITOR_MINUTE_DAYS, settings.MONITOR_HOURLY_DAYS = 3, 5, 30
    api, web = make_monitor("api"), make_monitor("web")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for monitor in (api, web):
        for days in (40, 10, 4, 1):  # an hour's worth of checks each, 7 per monitor and day
            start = now - days * DAY
            store.record("local", [store.Outcome(monitor.pk, start + i * timedelta(minutes=8), "up", latency_ms=20)
                                   for i in range(7)])
    assert CheckResult.objects.count() == 56
    pruned = store.prune(now, batch=5)
    assert pruned["raw"] == 42  # 40, 10 and 4 days ago
    assert CheckResult.objects.count() == 14
    assert not CheckResult.objects.filter(at__lt=now - 3 * DAY).exists()
    assert not MinuteRollup.objects.filter(minute__lt=now - 5 * DAY).exists()
    assert MinuteRollup.objects.filter(minute__gte=now - 5 * DAY).count() == 28
    # The hours stay (but the one older than their own retention): uptime and charts still have them.
    hours = hourly.read([api.pk], now - 365 * DAY, now + DAY)
    assert sum(h.checks for h in hours) == 21
    assert not HourlyRollup.objects.filter(day__lt=(now - 30 * DAY).date()).exists()
    assert pruned["hours"] >= 2
    again = store.prune(now, batch=5)
    assert (again["raw"], again["minutes"], again["hours"]) == (0, 0, 0)
