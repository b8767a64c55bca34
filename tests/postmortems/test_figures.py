"""The figures a postmortem states, computed from the record. Each example is worked out by hand in its
comment: real elapsed time, across midnight and across daylight-saving changes."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest

from signalpost.postmortems import services
from signalpost.postmortems.figures import compute
from signalpost.status import services as status
from signalpost.errors import InvalidInput

UTC = dt_timezone.utc
ZURICH = ZoneInfo("Europe/Zurich")
PACIFIC = ZoneInfo("America/Los_Angeles")


def past_incident(components, started_at: datetime, resolved_at: datetime, updates=(), name: str = "Outage",
                  affected=None):
    return status.backfill_incident(name=name, started_at=started_at, resolved_at=resolved_at,
                                    components=affected or {components["zh1"]: "major_outage"}, updates=list(updates))


def test_it_measures_an_outage_across_midnight(components):
    # 23:40 → 01:10 the next day, Zurich summer time: 1 h 30 min. First signal 23:31: 9 minutes to detect.
    started = datetime(2025, 7, 14, 23, 40, tzinfo=ZURICH)
    incident = past_incident(components, started, datetime(2025, 7, 15, 1, 10, tzinfo=ZURICH),
                             updates=[{"display_at": datetime(2025, 7, 14, 23, 52, tzinfo=ZURICH),
                                       "status": "identified", "body": "A switch."}])
    pm = services.create_postmortem(incidents=[incident], title="Night outage",
                                    first_signal_at=datetime(2025, 7, 14, 23, 31, tzinfo=ZURICH))
    figures = compute(pm)
    assert figures.total_duration == timedelta(hours=1, minutes=30)
    assert figures.time_to_detect == timedelta(minutes=9)
    assert figures.time_to_acknowledge == timedelta(minutes=12)  # the "identified" update at 23:52
    assert figures.time_to_resolve == timedelta(hours=1, minutes=30)
    assert figures.started_at == datetime(2025, 7, 14, 21, 40, tzinfo=UTC)


def test_it_measures_real_time_across_the_spring_forward_in_zurich(components):
    # 31 March 2024: clocks jump from 02:00 CET to 03:00 CEST. 01:30 CET (00:30 UTC) → 03:30 CEST (01:30 UTC)
    # reads as two hours on the wall clock but lasted one.
    started = datetime(2024, 3, 31, 1, 30, tzinfo=ZURICH)
    ended = datetime(2024, 3, 31, 3, 30, tzinfo=ZURICH)
    assert ended - started == timedelta(hours=2)  # the trap: same tzinfo, wall-clock arithmetic
    incident = past_incident(components, started, ended)
    pm = services.create_postmortem(incidents=[incident], title="Spring", timeline_zone="Europe/Zurich",
                                    first_signal_at=datetime(2024, 3, 31, 1, 50, tzinfo=ZURICH) - timedelta(hours=1),
                                    detected_at=datetime(2024, 3, 31, 3, 5, tzinfo=ZURICH))
    figures = compute(pm)
    assert figures.total_duration == timedelta(hours=1)
    # First signal 00:50 CET (23:50 UTC the day before) → detected 03:05 CEST (01:05 UTC): 1 h 15 min.
    assert figures.time_to_detect == timedelta(hours=1, minutes=15)
    # Detected 01:05 UTC → resolved 01:30 UTC.
    assert figures.time_to_resolve == timedelta(minutes=25)


def test_it_measures_real_time_across_the_fall_back_on_the_us_pacific_coast(components):
    # 3 November 2024: 02:00 PDT becomes 01:00 PST. 00:45 PDT (07:45 UTC) → 01:15 PST (09:15 UTC):
    # 1 h 30 min, though the wall clock moved 30 minutes.
    started = datetime(2024, 11, 3, 7, 45, tzinfo=UTC)
    ended = datetime(2024, 11, 3, 9, 15, tzinfo=UTC)
    assert (started.astimezone(PACIFIC).strftime("%H:%M %Z"), ended.astimezone(PACIFIC).strftime("%H:%M %Z")) == (
        "00:45 PDT", "01:15 PST")
    incident = past_incident(components, started, ended, updates=[
        {"display_at": datetime(2024, 11, 3, 8, 30, tzinfo=UTC), "status": "identified", "body": "Found."}])
    pm = services.create_postmortem(incidents=[incident], title="Fall", timeline_zone="America/Los_Angeles")
    figures = compute(pm)
    assert figures.total_duration == timedelta(hours=1, minutes=30)
    assert figures.time_to_acknowledge == timedelta(minutes=45)  # 01:30 PDT is 45 minutes after 00:45 PDT
    assert figures.time_to_detect is None  # nobody said when it first showed


def test_several_incidents_run_from_the_first_start_to_the_last_resolution(components):
    # 10:00-10:40 and 10:20-11:05 UTC: 1 h 5 min in all; detection is the first one's opening.
    first = past_incident(components, datetime(2025, 5, 6, 10, 0, tzinfo=UTC), datetime(2025, 5, 6, 10, 40, tzinfo=UTC),
                          name="API errors")
    second = past_incident(components, datetime(2025, 5, 6, 10, 20, tzinfo=UTC),
                           datetime(2025, 5, 6, 11, 5, tzinfo=UTC), name="Slow logins",
                           affected={components["de1"]: "partial_outage", components["mail"]: "degraded_performance"})
    pm = services.create_postmortem(incidents=[second, first], title="One cause")
    figures = compute(pm)
    assert figures.total_duration == timedelta(hours=1, minutes=5)
    assert figures.detected_at == datetime(2025, 5, 6, 10, 0, tzinfo=UTC)
    assert figures.time_to_resolve == timedelta(hours=1, minutes=5)
    assert figures.components == ["Switzerland / zh1.single", "Germany / de1.compact", "Mail delivery"]
    assert figures.groups == ["Switzerland", "Germany"]
    assert figures.affected == "Switzerland (zh1.single), Germany (de1.compact), Mail delivery"


def test_an_open_incident_has_no_duration_yet(components):
    incident = status.open_incident(name="Ongoing", components={components["zh1"]: "major_outage"})
    figures = compute(services.create_postmortem(incidents=[incident], title="Early draft"))
    assert figures.started_at is not None
    assert figures.ended_at is None and figures.total_duration is None and figures.time_to_resolve is None


def test_a_maintenance_is_detected_when_the_team_says_so(components):
    # The window ran 20:00-22:25 UTC; the breakage showed at 20:30, the page said so at 20:53.
    maintenance = status.schedule_maintenance(
        name="Weekly", scheduled_for=datetime(2017, 9, 12, 20, 0, tzinfo=UTC),
        scheduled_until=datetime(2017, 9, 12, 21, 0, tzinfo=UTC), components=[components["zh1"]],
        display_at=datetime(2017, 9, 12, 17, 46, tzinfo=UTC), auto_start=False, auto_complete=False,
        deliver_notifications=False)
    for state, at in [("in_progress", datetime(2017, 9, 12, 20, 0, tzinfo=UTC)),
                      ("completed", datetime(2017, 9, 12, 22, 25, tzinfo=UTC))]:
        status.post_maintenance_update(maintenance, status=state, display_at=at)
    pm = services.create_postmortem(incidents=[maintenance], title="Weekly")
    figures = compute(pm)
    assert figures.total_duration == timedelta(hours=2, minutes=25)
    assert figures.detected_at is None and figures.time_to_resolve is None  # the calendar opened it
    pm = services.update_postmortem(pm, first_signal_at=datetime(2017, 9, 12, 20, 30, tzinfo=UTC),
                                    detected_at=datetime(2017, 9, 12, 20, 30, tzinfo=UTC),
                                    acknowledged_at=datetime(2017, 9, 12, 20, 53, tzinfo=UTC))
    figures = compute(pm)
    assert (figures.time_to_detect, figures.time_to_acknowledge, figures.time_to_resolve) == (
        timedelta(0), timedelta(minutes=23), timedelta(hours=1, minutes=55))


def test_the_teams_instants_must_come_in_order(components):
    incident = past_incident(components, datetime(2025, 5, 6, 10, 0, tzinfo=UTC),
                             datetime(2025, 5, 6, 11, 0, tzinfo=UTC))
    pm = services.create_postmortem(incidents=[incident], title="Order")
    with pytest.raises(InvalidInput) as refused:
        services.update_postmortem(pm, first_signal_at=datetime(2025, 5, 6, 10, 5, tzinfo=UTC))
    assert refused.value.field == "first_signal_at" and "after the problem was detected" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        services.update_postmortem(pm, acknowledged_at=datetime(2025, 5, 6, 9, 59, tzinfo=UTC))
    assert refused.value.field == "acknowledged_at"
    with pytest.raises(InvalidInput) as refused:
        services.update_postmortem(pm, detected_at=datetime(2025, 5, 6, 10, 5))
    assert refused.value.field == "detected_at" and "time zone" in refused.value.message
    pm.refresh_from_db()
    assert (pm.first_signal_at, pm.detected_at, pm.acknowledged_at, pm.version) == (None, None, None, 1)
