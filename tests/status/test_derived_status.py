"""Derived status: several causes on one component, manual overrides, and the page indicator."""

import pytest

from signalpost.status import derive, services
from signalpost.errors import InvalidInput
from signalpost.status.models import StatusOverride

from .conftest import HOUR, MINUTE, timeline


def test_it_shows_the_worst_of_several_open_incidents(components, statuses_at, now):
    zh1 = components["zh1"]
    slow = services.open_incident(name="Slow API", impact="minor", components={zh1: "degraded_performance"}, now=now)
    down = services.open_incident(name="Storage down", impact="major", components={zh1: "major_outage"},
                                  now=now + MINUTE)
    assert statuses_at(now + MINUTE)["zh1"] == "major_outage"

    services.resolve_incident(down, now=now + 10 * MINUTE)
    assert statuses_at(now + 10 * MINUTE)["zh1"] == "degraded_performance"

    services.resolve_incident(slow, now=now + 20 * MINUTE)
    assert statuses_at(now + 20 * MINUTE)["zh1"] == "operational"


def test_it_lets_a_manual_override_win_while_it_is_set(components, statuses_at, now):
    zh1 = components["zh1"]
    services.open_incident(name="Storage down", impact="major", components={zh1: "major_outage"}, now=now)

    override = services.set_override(zh1, "operational", reason="False alarm from the probe", now=now + MINUTE)

    assert (override.status, override.reason, override.cleared_at) == ("operational", "False alarm from the probe", None)
    assert statuses_at(now + MINUTE)["zh1"] == "operational"

    assert services.clear_override(zh1, now=now + 5 * MINUTE) is True
    assert statuses_at(now + 5 * MINUTE)["zh1"] == "major_outage"
    assert services.clear_override(zh1, now=now + 6 * MINUTE) is False


def test_it_keeps_the_override_history(components, now):
    zh2 = components["zh2"]
    services.set_override(zh2, "degraded_performance", now=now - 3 * HOUR)
    services.set_override(zh2, "partial_outage", now=now - 2 * HOUR)  # replaces the first
    services.clear_override(zh2, now=now - HOUR)

    assert timeline(zh2, now - 4 * HOUR, now) == [
        (now - 4 * HOUR, now - 3 * HOUR, "operational"),
        (now - 3 * HOUR, now - 2 * HOUR, "degraded_performance"),
        (now - 2 * HOUR, now - HOUR, "partial_outage"),
        (now - HOUR, now, "operational"),
    ]
    assert list(StatusOverride.objects.filter(component=zh2).values_list("set_at", "cleared_at")) == [
        (now - 3 * HOUR, now - 2 * HOUR), (now - 2 * HOUR, now - HOUR)]


def test_it_refuses_an_override_with_an_unknown_status(components, now):
    with pytest.raises(InvalidInput) as refused:
        services.set_override(components["zh1"], "broken", now=now)

    assert refused.value.field == "status"
    assert not StatusOverride.objects.exists()


def test_it_says_all_systems_operational_when_calm(components, now):
    assert derive.page_indicator(at=now) == ("none", "All Systems Operational")


@pytest.mark.parametrize("impact, indicator, description", [
    ("minor", "minor", "Minor Service Outage"),
    ("major", "major", "Partial System Outage"),
    ("critical", "critical", "Major System Outage"),
])
def test_it_takes_the_indicator_from_an_open_incidents_impact(components, now, impact, indicator, description):
    services.open_incident(name="Something is wrong", impact=impact, now=now)

    assert derive.page_indicator(at=now) == (indicator, description)


@pytest.mark.parametrize("status, indicator", [
    ("degraded_performance", "minor"),
    ("partial_outage", "major"),
    ("major_outage", "critical"),
])
def test_it_takes_the_indicator_from_component_statuses(components, now, status, indicator):
    services.open_incident(name="Quiet impact", impact="none", components={components["de2"]: status}, now=now)

    assert derive.page_indicator(at=now)[0] == indicator


def test_it_takes_the_indicator_from_an_override_too(components, now):
    services.set_override(components["mail"], "partial_outage", now=now)

    assert derive.page_indicator(at=now)[0] == "major"


def test_it_shows_the_worst_of_impact_and_component_statuses(components, now):
    services.open_incident(name="A", impact="minor", components={components["zh1"]: "major_outage"}, now=now)
    services.open_incident(name="B", impact="major", now=now)

    assert derive.page_indicator(at=now)[0] == "critical"


def test_it_shows_maintenance_only_when_nothing_else_is_wrong(components, now):
    services.schedule_maintenance(name="Upgrade", scheduled_for=now, scheduled_until=now + HOUR,
                                  components=[components["zh1"]], now=now - HOUR)
    services.run_due_transitions(now)

    assert derive.page_indicator(at=now) == ("maintenance", "Service Under Maintenance")

    services.open_incident(name="Mail slow", impact="minor", now=now)
    assert derive.page_indicator(at=now)[0] == "minor"


def test_it_ignores_hidden_components(components, now):
    internal = services.create_component(name="Internal queue", hidden=True)
    hidden_group = services.create_group(name="Staging", hidden=True)
    staging = services.create_component(name="staging.api", group=hidden_group)

    services.set_override(internal, "major_outage", now=now)
    services.open_incident(name="Staging down", impact="none", components={staging: "major_outage"}, now=now)

    assert derive.page_indicator(at=now) == ("none", "All Systems Operational")
    assert derive.current_statuses([internal, staging], at=now) == {internal.pk: "major_outage",
                                                                   staging.pk: "major_outage"}


def test_it_reconstructs_the_indicator_at_a_past_moment(components, now):
    past = services.schedule_maintenance(name="Network upgrade", scheduled_for=now - 6 * HOUR,
                                         scheduled_until=now - 5 * HOUR, now=now - 7 * HOUR)
    services.run_due_transitions(now - 6 * HOUR)
    services.run_due_transitions(now - 5 * HOUR)
    services.backfill_incident(name="Storage down", impact="critical", started_at=now - 3 * HOUR,
                               resolved_at=now - HOUR, components={components["zh1"]: "degraded_performance"}, now=now)
    services.open_incident(name="Slow mail", impact="minor", display_at=now - 2 * HOUR, now=now)
    services.schedule_maintenance(name="Running now", scheduled_for=now - 10 * MINUTE,
                                  scheduled_until=now + HOUR, now=now - HOUR)
    services.run_due_transitions(now)

    assert past.updates.count() == 3
    assert derive.page_indicator(at=now - 6 * HOUR + MINUTE)[0] == "maintenance"
    assert derive.page_indicator(at=now - 4 * HOUR)[0] == "none"  # today's maintenance was not running then
    assert derive.page_indicator(at=now - 150 * MINUTE)[0] == "critical"  # resolved since, but open then
    assert derive.page_indicator(at=now)[0] == "minor"


def test_it_shows_an_outage_during_maintenance_rather_than_the_maintenance(components, statuses_at, now):
    zh1, zh2 = components["zh1"], components["zh2"]
    services.schedule_maintenance(name="Upgrade", scheduled_for=now, scheduled_until=now + HOUR,
                                  components=[zh1, zh2], now=now - HOUR)
    services.run_due_transitions(now)

    services.open_incident(name="Upgrade went wrong", impact="major", components={zh1: "partial_outage"},
                           now=now + MINUTE)

    during = statuses_at(now + MINUTE)
    assert (during["zh1"], during["zh2"]) == ("partial_outage", "under_maintenance")
    assert derive.page_indicator(at=now + MINUTE)[0] == "major"


def test_it_ignores_maintenance_of_hidden_components_in_the_indicator(components):
    from datetime import timedelta

    from django.utils import timezone

    from signalpost.status import derive, services

    internal = services.create_component(name="Internal batch", hidden=True)
    now = timezone.now()
    maintenance = services.schedule_maintenance(name="Batch upgrade", scheduled_for=now - timedelta(minutes=1),
                                                scheduled_until=now + timedelta(hours=1), components=[internal])
    services.start_maintenance(maintenance)
    assert derive.page_indicator()[0] == "none"


def test_it_refuses_two_ungrouped_components_with_one_name_even_past_the_service(components):
    import pytest
    from django.db import IntegrityError, transaction

    from signalpost.status.models import Component

    with pytest.raises(IntegrityError), transaction.atomic():
        Component.objects.create(name="Mail delivery")
