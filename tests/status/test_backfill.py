"""Backfilling a past incident: it tells the history truthfully and notifies nobody."""


import pytest

from signalpost.status import derive, services
from signalpost.errors import InvalidInput
from signalpost.status.models import Incident

from .conftest import HOUR, MINUTE, timeline


@pytest.fixture
def window(now):
    return now - 3 * HOUR, now - HOUR


def test_it_records_a_past_incident_as_retroactive_without_notifications(components, window, now):
    started_at, resolved_at = window

    incident = services.backfill_incident(
        name="Mail delivery delays", impact="minor", started_at=started_at, resolved_at=resolved_at,
        body="Mail was delayed.", components={components["mail"]: "degraded_performance"},
        updates=[{"display_at": started_at + 30 * MINUTE, "status": "monitoring", "body": "Queue draining."}],
        now=now,
    )

    stored = Incident.objects.get(pk=incident.pk)
    assert stored.retroactive
    assert (stored.status, stored.started_at, stored.resolved_at, stored.monitoring_at) == (
        "resolved", started_at, resolved_at, started_at + 30 * MINUTE)
    updates = list(stored.updates.order_by("display_at").values_list("status", "display_at", "deliver_notifications"))
    assert updates == [
        ("investigating", started_at, False),
        ("monitoring", started_at + 30 * MINUTE, False),
        ("resolved", resolved_at, False),
    ]
    assert all(u.created_at == now for u in stored.updates.all())  # when it was actually written down


def test_it_shows_the_outage_exactly_over_the_backfilled_window(components, window, now):
    started_at, resolved_at = window
    zh1, zh2 = components["zh1"], components["zh2"]

    services.backfill_incident(
        name="Storage outage", impact="critical", started_at=started_at, resolved_at=resolved_at,
        components={zh1: "major_outage"}, now=now,
        updates=[{"display_at": started_at + HOUR, "status": "identified",
                  "components": {zh1: "partial_outage", zh2: "degraded_performance"}}],
    )

    day_start = now - 24 * HOUR
    assert timeline(zh1, day_start, now) == [
        (day_start, started_at, "operational"),
        (started_at, started_at + HOUR, "major_outage"),
        (started_at + HOUR, resolved_at, "partial_outage"),
        (resolved_at, now, "operational"),
    ]
    assert timeline(zh2, day_start, now) == [
        (day_start, started_at + HOUR, "operational"),
        (started_at + HOUR, resolved_at, "degraded_performance"),
        (resolved_at, now, "operational"),
    ]
    assert set(derive.current_statuses(components.values(), at=now).values()) == {"operational"}
    assert derive.page_indicator(at=now) == ("none", "All Systems Operational")


def test_it_refuses_a_past_incident_resolved_before_it_started(components, window, now):
    started_at, resolved_at = window

    with pytest.raises(InvalidInput) as refused:
        services.backfill_incident(name="Backwards", started_at=resolved_at, resolved_at=started_at, now=now)

    assert refused.value.field == "resolved_at"
    assert not Incident.objects.exists()


def test_it_refuses_a_past_incident_in_the_future(components, now):
    with pytest.raises(InvalidInput) as refused:
        services.backfill_incident(name="Tomorrow", started_at=now - HOUR, resolved_at=now + HOUR, now=now)

    assert refused.value.field == "resolved_at"
    assert not Incident.objects.exists()


def test_it_refuses_an_extra_update_outside_the_window(components, window, now):
    started_at, resolved_at = window

    for n, at in [(0, started_at - MINUTE), (1, resolved_at + MINUTE)]:
        updates = [{"display_at": started_at + MINUTE, "status": "identified"}] * n + [
            {"display_at": at, "status": "identified"}]
        with pytest.raises(InvalidInput) as refused:
            services.backfill_incident(name="Outside", started_at=started_at, resolved_at=resolved_at,
                                       updates=updates, now=now)
        assert refused.value.field == f"updates[{n}].display_at"
    assert not Incident.objects.exists()


def test_it_refuses_a_bad_extra_update(components, window, now):
    started_at, resolved_at = window
    inside = started_at + MINUTE
    cases = [
        ({"display_at": inside, "status": "resolved"}, "updates[0].status"),
        ({"display_at": inside, "status": "sleeping"}, "updates[0].status"),
        ({"display_at": inside, "status": "identified", "components": {"zh1": "major_outage"}},
         "updates[0].components"),
        ({"status": "identified"}, "updates[0].display_at"),
    ]
    for update, field in cases:
        with pytest.raises(InvalidInput) as refused:
            services.backfill_incident(name="Bad", started_at=started_at, resolved_at=resolved_at,
                                       updates=[update], now=now)
        assert refused.value.field == field
    assert not Incident.objects.exists()


def test_it_does_not_disturb_a_component_that_is_down_now(components, window, now):
    started_at, resolved_at = window
    zh1 = components["zh1"]
    services.open_incident(name="Down now", impact="major", components={zh1: "major_outage"},
                           display_at=now - 30 * MINUTE, now=now)

    services.backfill_incident(name="Earlier", started_at=started_at, resolved_at=resolved_at,
                               components={zh1: "partial_outage"}, now=now)

    assert derive.current_statuses([zh1], at=now)[zh1.pk] == "major_outage"
    assert [s.status for s in derive.component_status_timeline(zh1, started_at - HOUR, now)] == [
        "operational", "partial_outage", "operational", "major_outage"]
