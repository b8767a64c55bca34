"""Upgrading to hourly roll-ups: the minute roll-ups kept so far become hours, so that pruning the
minutes afterwards loses none of the coverage uptime is computed from."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from signalpost.monitors import hourly

BEFORE = [("monitors", "0003_monitor_kinds")]


def test_the_minutes_kept_before_the_upgrade_become_hours(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    monitor = old.get_model("monitors", "Monitor").objects.create(public_id="oldmonitor00", name="API",
                                                                  target="https://api.example.com/")
    minute = old.get_model("monitors", "MinuteRollup")
    start = datetime(2026, 5, 1, 23, 58, tzinfo=UTC)
    for i, (checks, failures, p50, p95, high) in enumerate([(6, 0, 40, 90, 100), (6, 3, 60, 300, 900),
                                                            (6, 0, 50, 80, 85)]):
        minute.objects.create(monitor=monitor, location="local", minute=start + i * timedelta(minutes=1),
                              checks=checks, failures=failures, degraded=0, latency_p50_ms=p50,
                              latency_p95_ms=p95, latency_max_ms=high)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    hours = hourly.read([monitor.pk], start - timedelta(hours=1), start + timedelta(hours=2))
    assert [(h.hour, h.checks, h.failures, h.latency_p50_ms, h.latency_p95_ms, h.latency_max_ms) for h in hours] == [
        (datetime(2026, 5, 1, 23, tzinfo=UTC), 12, 3, 40, 300, 900),
        (datetime(2026, 5, 2, 0, tzinfo=UTC), 6, 0, 50, 80, 85),
    ]
