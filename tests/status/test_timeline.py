"""Component status over any past interval, and the uptime figures computed from it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signalpost.status import derive, services
from signalpost.status.derive import Segment

from .conftest import HOUR, MINUTE, timeline


@pytest.fixture
def busy_day(components, now):
    """A day on zh1: a slow morning, a storage outage overlapping it, then an override."""
    zh1 = components["zh1"]
    start = now - 24 * HOUR
    slow = services.open_incident(name="Slow API", impact="minor", components={zh1: "degraded_performance"},
                                  display_at=start + 2 * HOUR, now=now)
    down = services.open_incident(name="Storage down", impact="critical", components={zh1: "major_outage"},
                                  display_at=start + 3 * HOUR, now=now)
    services.post_update(down, status="identified", components={zh1: "partial_outage"},
                         display_at=start + 4 * HOUR, now=now)
    services.resolve_incident(down, display_at=start + 5 * HOUR, now=now)
    services.resolve_incident(slow, display_at=start + 6 * HOUR, now=now)
    services.set_override(zh1, "degraded_performance", now=start + 10 * HOUR)
    services.clear_override(zh1, now=start + 11 * HOUR)
    return start


def assert_covers(segments: list[Segment], start, end) -> None:
    assert segments[0].start == start and segments[-1].end == end
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start, "segments must be contiguous"
        assert before.status != after.status, "equal neighbours must be merged"
        assert before.start < before.end


def test_it_reconstructs_a_days_status_as_contiguous_segments(busy_day, components, now):
    start = busy_day

    segments = derive.component_status_timeline(components["zh1"], start, now)

    assert_covers(segments, start, now)
    assert [(s.start - start, s.status) for s in segments] == [
        (timedelta(0), "operational"),
        (2 * HOUR, "degraded_performance"),
        (3 * HOUR, "major_outage"),
        (4 * HOUR, "partial_outage"),
        (5 * HOUR, "degraded_performance"),
        (6 * HOUR, "operational"),
        (10 * HOUR, "degraded_performance"),
        (11 * HOUR, "operational"),
    ]


@pytest.mark.parametrize("offset, length", [
    (timedelta(0), timedelta(microseconds=1)),
    (3 * HOUR + 30 * MINUTE, 10 * MINUTE),          # inside the outage
    (2 * HOUR + 59 * MINUTE, 2 * HOUR + 17 * MINUTE),  # across several changes
    (90 * MINUTE, 7 * HOUR),
    (-48 * HOUR, 96 * HOUR),                        # from long before into the future
])
def test_it_covers_exactly_any_interval_asked_for(busy_day, components, offset, length):
    start = busy_day + offset

    segments = derive.component_status_timeline(components["zh1"], start, start + length)

    assert_covers(segments, start, start + length)
    full = derive.component_status_timeline(components["zh1"], busy_day - 48 * HOUR, busy_day + 48 * HOUR)
    for segment in segments:  # every piece agrees with the status read from the whole day
        assert [s.status for s in full if s.start <= segment.start < s.end] == [segment.status]


def test_it_merges_adjacent_equal_statuses(components, now):
    zh2 = components["zh2"]
    first = services.open_incident(name="Slow", components={zh2: "degraded_performance"},
                                   display_at=now - 3 * HOUR, now=now)
    services.post_update(first, status="identified", components={zh2: "degraded_performance"},
                         display_at=now - 2 * HOUR, now=now)
    services.open_incident(name="Still slow", components={zh2: "degraded_performance"},
                           display_at=now - 90 * MINUTE, now=now)
    services.resolve_incident(first, display_at=now - HOUR, now=now)

    assert timeline(zh2, now - 4 * HOUR, now) == [
        (now - 4 * HOUR, now - 3 * HOUR, "operational"),
        (now - 3 * HOUR, now, "degraded_performance"),
    ]


def test_it_refuses_an_interval_that_ends_before_it_starts(components, now):
    with pytest.raises(ValueError):
        derive.component_status_timeline(components["zh1"], now, now - HOUR)
    with pytest.raises(ValueError):
        derive.component_timelines(list(components.values()), now, now)


def test_it_gives_one_operational_segment_for_a_calm_component(components, now):
    assert timeline(components["de2"], now - 90 * 24 * HOUR, now) == [(now - 90 * 24 * HOUR, now, "operational")]


def test_it_counts_a_calm_day_as_fully_up(components, now):
    segments = derive.component_status_timeline(components["de1"], now - 24 * HOUR, now)

    assert derive.uptime_percent(segments) == 100.0
    assert derive.uptime_percent([]) == 100.0


def test_it_counts_an_hour_of_major_outage_in_a_day(components, now):
    de1 = components["de1"]
    services.backfill_incident(name="Down", started_at=now - 5 * HOUR, resolved_at=now - 4 * HOUR,
                               components={de1: "major_outage"}, now=now)

    assert derive.uptime_percent(derive.component_status_timeline(de1, now - 24 * HOUR, now)) == 95.83


def test_it_weighs_a_partial_outage_at_thirty_percent(components, now):
    de1 = components["de1"]
    services.backfill_incident(name="Half down", started_at=now - 5 * HOUR, resolved_at=now - 4 * HOUR,
                               components={de1: "partial_outage"}, now=now)
    services.backfill_incident(name="Slow", started_at=now - 3 * HOUR, resolved_at=now - 2 * HOUR,
                               components={de1: "degraded_performance"}, now=now)

    # 1 h partial = 0.3 h down in 24 h; degraded performance counts as up.
    assert derive.uptime_percent(derive.component_status_timeline(de1, now - 24 * HOUR, now)) == 98.75


def test_it_counts_maintenance_as_up(components, now):
    de2 = components["de2"]
    services.schedule_maintenance(name="Upgrade", scheduled_for=now - 5 * HOUR, scheduled_until=now - 2 * HOUR,
                                  components=[de2], now=now - 6 * HOUR)
    services.run_due_transitions(now - 5 * HOUR)
    services.run_due_transitions(now - 2 * HOUR)

    segments = derive.component_status_timeline(de2, now - 24 * HOUR, now)
    assert "under_maintenance" in [s.status for s in segments]
    assert derive.uptime_percent(segments) == 100.0


def test_it_reads_many_components_timelines_in_a_constant_number_of_queries(page, now):
    group = services.create_group(name="Fleet")
    fleet = [services.create_component(name=f"node{n:02}", group=group) for n in range(50)]

    def timelines_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            timelines = derive.component_timelines(fleet, now - 30 * 24 * HOUR, now)
        assert len(timelines) == len(fleet)
        return len(queries)

    calm = timelines_queries()
    for n in range(20):
        start = now - (n + 2) * 24 * HOUR
        affected = {c: "partial_outage" if i % 2 else "major_outage" for i, c in enumerate(fleet[n:n + 10])}
        services.backfill_incident(name=f"Outage {n}", started_at=start, resolved_at=start + HOUR,
                                   components=affected, now=now,
                                   updates=[{"display_at": start + 30 * MINUTE, "status": "identified",
                                             "components": {fleet[n]: "degraded_performance"}}])
        services.set_override(fleet[-1 - n], "degraded_performance", now=start)
        services.clear_override(fleet[-1 - n], now=start + MINUTE)
    services.schedule_maintenance(name="Fleet upgrade", scheduled_for=now - 2 * HOUR,
                                                scheduled_until=now + HOUR, components=fleet, now=now - 3 * HOUR)
    services.run_due_transitions(now - 2 * HOUR)

    busy = timelines_queries()

    assert busy == calm <= 3
    assert derive.component_status_timeline(fleet[0], now - 3 * HOUR, now)[-1].status == "under_maintenance"


def test_it_never_rounds_an_outage_up_to_100_percent():
    from datetime import datetime, timedelta
    from datetime import timezone as tz

    from signalpost.status.derive import Segment, uptime_percent

    start = datetime(2026, 1, 1, tzinfo=tz.utc)
    ninety_days = [Segment(start, start + timedelta(days=90) - timedelta(minutes=3), "operational"),
                   Segment(start + timedelta(days=90) - timedelta(minutes=3), start + timedelta(days=90), "major_outage")]
    assert uptime_percent(ninety_days) == 99.99
