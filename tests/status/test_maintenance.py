"""Scheduled maintenance: a window that starts and completes on time by itself, and only once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from signalpost.status import derive, services
from signalpost.errors import InvalidInput
from signalpost.status.models import Incident, IncidentUpdate

from .conftest import HOUR, MINUTE, timeline


@pytest.fixture
def window(now):
    return now + HOUR, now + 3 * HOUR


@pytest.fixture
def maintenance(components, window, now):
    scheduled_for, scheduled_until = window
    return services.schedule_maintenance(
        name="Storage upgrade in zh1", scheduled_for=scheduled_for, scheduled_until=scheduled_until,
        body="We will upgrade the storage cluster.", components=[components["zh1"], components["zh2"]], now=now,
    )


def status_of(maintenance: Incident) -> str:
    return Incident.objects.get(pk=maintenance.pk).status


def update_statuses(maintenance: Incident) -> list[str]:
    return list(IncidentUpdate.objects.filter(incident=maintenance).order_by("display_at", "id")
                .values_list("status", flat=True))


def test_it_schedules_maintenance_without_touching_components_yet(maintenance, statuses_at, window, now):
    assert (maintenance.kind, maintenance.status, maintenance.impact) == ("maintenance", "scheduled", "maintenance")
    assert (maintenance.scheduled_for, maintenance.scheduled_until, maintenance.started_at) == (*window, None)
    assert update_statuses(maintenance) == ["scheduled"]
    assert set(statuses_at(now).values()) == {"operational"}
    assert derive.page_indicator(at=now)[0] == "none"


def test_it_refuses_a_window_that_ends_before_it_starts(components, window, now):
    scheduled_for, scheduled_until = window
    for until in [scheduled_for - MINUTE, scheduled_for]:
        with pytest.raises(InvalidInput) as refused:
            services.schedule_maintenance(name="Backwards", scheduled_for=scheduled_for, scheduled_until=until, now=now)
        assert refused.value.field == "scheduled_until"
    assert not Incident.objects.exists()


def test_it_refuses_an_unknown_component_or_a_naive_time(components, window, now):
    scheduled_for, scheduled_until = window
    with pytest.raises(InvalidInput) as refused:
        services.schedule_maintenance(name="M", scheduled_for=scheduled_for, scheduled_until=scheduled_until,
                                      components=["zh1.single"], now=now)
    assert refused.value.field == "components"
    with pytest.raises(InvalidInput) as refused:
        services.schedule_maintenance(name="M", scheduled_for=scheduled_for.replace(tzinfo=None),
                                      scheduled_until=scheduled_until, now=now)
    assert refused.value.field == "scheduled_for"
    assert not Incident.objects.exists()


def test_it_starts_at_the_scheduled_time_and_not_before(maintenance, window):
    scheduled_for, _ = window

    assert services.run_due_transitions(scheduled_for - timedelta(seconds=1)) == []
    assert status_of(maintenance) == "scheduled"

    [started] = services.run_due_transitions(scheduled_for)

    assert (started.status, started.display_at, started.deliver_notifications) == ("in_progress", scheduled_for, True)
    assert started.body == services.DEFAULT_BODIES["in_progress"]
    stored = Incident.objects.get(pk=maintenance.pk)
    assert (stored.status, stored.started_at, stored.resolved_at) == ("in_progress", scheduled_for, None)


def test_it_completes_at_the_end_of_the_window_and_not_before(maintenance, window):
    scheduled_for, scheduled_until = window
    services.run_due_transitions(scheduled_for)

    assert services.run_due_transitions(scheduled_until - timedelta(seconds=1)) == []
    assert status_of(maintenance) == "in_progress"

    [completed] = services.run_due_transitions(scheduled_until)

    assert (completed.status, completed.display_at) == ("completed", scheduled_until)
    stored = Incident.objects.get(pk=maintenance.pk)
    assert (stored.status, stored.resolved_at) == ("completed", scheduled_until)


def test_a_late_start_keeps_the_window_s_time_and_says_when_it_was_posted(maintenance, window):
    scheduled_for, _ = window
    late = scheduled_for + 10 * MINUTE  # the worker was down

    [update] = services.run_due_transitions(late)

    assert Incident.objects.get(pk=maintenance.pk).started_at == scheduled_for
    assert (update.display_at, update.created_at, update.posted_late) == (scheduled_for, late, True)


def test_it_does_not_start_maintenance_that_is_not_set_to_start_by_itself(components, window, now):
    scheduled_for, scheduled_until = window
    manual = services.schedule_maintenance(name="Manual", scheduled_for=scheduled_for, scheduled_until=scheduled_until,
                                           components=[components["de1"]], auto_start=False, now=now)

    assert services.run_due_transitions(scheduled_for + MINUTE) == []
    assert services.run_due_transitions(scheduled_until + MINUTE) == []
    assert status_of(manual) == "scheduled"
    assert derive.current_statuses([components["de1"]], at=scheduled_for + MINUTE)[components["de1"].pk] == "operational"

    services.start_maintenance(manual, now=scheduled_for + 2 * MINUTE)
    [completed] = services.run_due_transitions(scheduled_until + 2 * MINUTE)  # auto_complete still holds
    assert completed.status == "completed"


def test_it_does_not_complete_maintenance_that_is_not_set_to_complete_by_itself(components, window, now):
    scheduled_for, scheduled_until = window
    manual = services.schedule_maintenance(name="Manual", scheduled_for=scheduled_for, scheduled_until=scheduled_until,
                                           auto_complete=False, now=now)
    services.run_due_transitions(scheduled_for)

    assert services.run_due_transitions(scheduled_until + HOUR) == []
    assert status_of(manual) == "in_progress"

    services.complete_maintenance(manual, now=scheduled_until + 2 * HOUR)
    assert status_of(manual) == "completed"


def test_it_puts_components_under_maintenance_only_while_it_runs(maintenance, components, statuses_at, window, now):
    scheduled_for, scheduled_until = window
    services.run_due_transitions(scheduled_for)
    services.run_due_transitions(scheduled_until)

    assert statuses_at(scheduled_for - timedelta(seconds=1))["zh1"] == "operational"
    during = statuses_at(scheduled_for + HOUR)
    assert (during["zh1"], during["zh2"], during["de1"]) == ("under_maintenance", "under_maintenance", "operational")
    assert statuses_at(scheduled_until)["zh1"] == "operational"
    assert timeline(components["zh2"], now, scheduled_until + HOUR) == [
        (now, scheduled_for, "operational"),
        (scheduled_for, scheduled_until, "under_maintenance"),
        (scheduled_until, scheduled_until + HOUR, "operational"),
    ]


def test_it_extends_the_window_with_an_overrun_update(maintenance, window):
    scheduled_for, scheduled_until = window
    services.run_due_transitions(scheduled_for)
    new_end = scheduled_until + HOUR

    overrun = services.post_maintenance_update(
        maintenance, status="in_progress", body="This is taking longer than anticipated.",
        scheduled_until=new_end, now=scheduled_until - 5 * MINUTE,
    )

    assert overrun.body == "This is taking longer than anticipated."
    assert Incident.objects.get(pk=maintenance.pk).scheduled_until == new_end
    assert services.run_due_transitions(scheduled_until) == []
    assert status_of(maintenance) == "in_progress"
    [completed] = services.run_due_transitions(new_end)
    assert completed.display_at == new_end
    assert Incident.objects.count() == 1  # an overrun is an update, not a new maintenance


def test_it_refuses_an_overrun_that_ends_before_the_window_starts(maintenance, window):
    scheduled_for, _ = window

    with pytest.raises(InvalidInput) as refused:
        services.post_maintenance_update(maintenance, status="scheduled", scheduled_until=scheduled_for - MINUTE,
                                         now=scheduled_for - 10 * MINUTE)

    assert refused.value.field == "scheduled_until"


def test_it_takes_no_updates_once_completed(maintenance, window):
    scheduled_for, scheduled_until = window
    services.run_due_transitions(scheduled_for)
    services.run_due_transitions(scheduled_until)

    for status in ["completed", "in_progress"]:
        with pytest.raises(InvalidInput) as refused:
            services.post_maintenance_update(maintenance, status=status, body="More.", now=scheduled_until + MINUTE)
        assert refused.value.field == "status"
    assert update_statuses(maintenance) == ["scheduled", "in_progress", "completed"]


def test_it_refuses_to_move_a_maintenance_status_backwards(maintenance, window):
    scheduled_for, _ = window
    services.run_due_transitions(scheduled_for)
    services.post_maintenance_update(maintenance, status="verifying", body="Checking.", now=scheduled_for + HOUR)

    for status in ["in_progress", "scheduled"]:
        with pytest.raises(InvalidInput) as refused:
            services.post_maintenance_update(maintenance, status=status, now=scheduled_for + 2 * HOUR)
        assert refused.value.field == "status"
    stored = Incident.objects.get(pk=maintenance.pk)
    assert (stored.status, stored.monitoring_at) == ("verifying", scheduled_for + HOUR)


def test_it_refuses_incident_statuses_for_maintenance(maintenance, now):
    with pytest.raises(InvalidInput) as refused:
        services.post_update(maintenance, status="identified", now=now)

    assert refused.value.field == "status"


def test_it_performs_each_transition_once_when_run_twice(maintenance, window):
    scheduled_for, scheduled_until = window

    first = services.run_due_transitions(scheduled_until)  # starts and completes in one pass
    second = services.run_due_transitions(scheduled_until)

    assert [u.status for u in first] == ["in_progress", "completed"]
    assert second == []
    assert update_statuses(maintenance) == ["scheduled", "in_progress", "completed"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_performs_each_transition_once_with_two_workers_at_once(components, now):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL")
    windows = [services.schedule_maintenance(name=f"Maintenance {n}", scheduled_for=now - HOUR,
                                             scheduled_until=now - MINUTE, components=[components["zh1"]], now=now - 2 * HOUR)
               for n in range(4)]
    barrier = threading.Barrier(2)
    performed: list[list[IncidentUpdate]] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            performed.append(services.run_due_transitions(now))
        except BaseException as error:  # reported by the test thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sum(len(done) for done in performed) == 2 * len(windows)
    for maintenance in windows:
        assert update_statuses(maintenance) == ["scheduled", "in_progress", "completed"]
        assert status_of(maintenance) == "completed"


def test_it_dates_an_announcement_entered_after_the_fact(components):
    from datetime import timedelta

    import pytest
    from django.utils import timezone

    from signalpost.status import services
    from signalpost.errors import InvalidInput

    now = timezone.now()
    announced = now - timedelta(days=21)
    maintenance = services.schedule_maintenance(
        name="Unique IP service planned unavailability", scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=1, minutes=30), display_at=announced, now=now,
    )
    first = maintenance.updates.get()
    assert first.display_at == announced and first.created_at == now
    with pytest.raises(InvalidInput) as error:
        services.schedule_maintenance(name="Later", scheduled_for=now + timedelta(days=1),
                                      scheduled_until=now + timedelta(days=2), display_at=now + timedelta(hours=1))
    assert error.value.field == "display_at"
