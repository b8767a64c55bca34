"""Incidents: opening, updating, resolving and reopening, and the input a responder gets refused."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from signalpost.status import derive, services
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import (
    AffectedComponent,
    Incident,
    IncidentComponent,
    IncidentUpdate,
)

from .conftest import MINUTE, timeline


@pytest.fixture
def outage(components, now):
    """zh1 down and de1 slow since `now`."""
    return services.open_incident(
        name="Connectivity issues in zh1", impact="major", body="We are investigating.",
        components={components["zh1"]: "major_outage", components["de1"]: "degraded_performance"}, now=now,
    )


def changes(update: IncidentUpdate) -> dict[str, tuple[str, str]]:
    return {ac.component.name: (ac.old_status, ac.new_status)
            for ac in AffectedComponent.objects.filter(update=update).select_related("component")}


def test_it_shows_the_component_statuses_an_incident_opens_with(outage, statuses_at, now):
    assert statuses_at(now) == {
        "zh1": "major_outage", "zh2": "operational", "de1": "degraded_performance",
        "de2": "operational", "mail": "operational",
    }
    assert statuses_at(now - timedelta(seconds=1))["zh1"] == "operational"
    assert (outage.status, outage.impact, outage.started_at, outage.resolved_at) == ("investigating", "major", now, None)
    first = outage.updates.get()
    assert (first.status, first.body, first.display_at, first.deliver_notifications) == (
        "investigating", "We are investigating.", now, True)
    assert changes(first) == {"zh1.single": ("operational", "major_outage"),
                              "de1.compact": ("operational", "degraded_performance")}


def test_it_changes_component_statuses_with_an_update_and_records_old_and_new(outage, components, statuses_at, now):
    later = now + 10 * MINUTE

    update = services.post_update(
        outage, status="identified", body="A switch failed.", now=later,
        components={components["zh1"]: "partial_outage", components["zh2"]: "degraded_performance"},
    )

    assert changes(update) == {"zh1.single": ("major_outage", "partial_outage"),
                               "zh2.cluster": ("operational", "degraded_performance")}
    assert statuses_at(later) == {
        "zh1": "partial_outage", "zh2": "degraded_performance", "de1": "degraded_performance",
        "de2": "operational", "mail": "operational",
    }
    assert statuses_at(later - timedelta(seconds=1))["zh1"] == "major_outage"
    assert Incident.objects.get(pk=outage.pk).status == "identified"
    assert set(IncidentComponent.objects.filter(incident=outage).values_list("component__name", "status")) == {
        ("zh1.single", "partial_outage"), ("zh2.cluster", "degraded_performance"),
        ("de1.compact", "degraded_performance"),
    }


def test_it_changes_the_impact_with_an_update(outage, now):
    services.post_update(outage, status="identified", impact="critical", now=now + MINUTE)

    assert Incident.objects.get(pk=outage.pk).impact == "critical"


def test_it_returns_every_component_to_operational_when_resolved(outage, components, statuses_at, now):
    end = now + 30 * MINUTE

    update = services.resolve_incident(outage, now=end)

    assert changes(update) == {"zh1.single": ("major_outage", "operational"),
                               "de1.compact": ("degraded_performance", "operational")}
    assert set(statuses_at(end).values()) == {"operational"}
    assert statuses_at(end - timedelta(seconds=1))["zh1"] == "major_outage"
    resolved = Incident.objects.get(pk=outage.pk)
    assert (resolved.status, resolved.resolved_at) == ("resolved", end)
    assert update.body == "This incident has been resolved."


def test_it_records_when_monitoring_began_and_when_it_was_resolved(outage, now):
    services.post_update(outage, status="monitoring", body="A fix is in place.", now=now + 5 * MINUTE)
    services.post_update(outage, status="identified", body="It came back.", now=now + 8 * MINUTE)
    services.post_update(outage, status="monitoring", body="Fixed again.", now=now + 12 * MINUTE)
    assert Incident.objects.get(pk=outage.pk).monitoring_at == now + 5 * MINUTE

    services.resolve_incident(outage, now=now + 20 * MINUTE, display_at=now + 19 * MINUTE)

    resolved = Incident.objects.get(pk=outage.pk)
    assert (resolved.monitoring_at, resolved.resolved_at) == (now + 5 * MINUTE, now + 19 * MINUTE)
    assert list(resolved.updates.values_list("status", flat=True)) == [
        "resolved", "monitoring", "identified", "monitoring", "investigating"]


def test_it_sets_monitoring_at_for_an_incident_opened_as_monitoring(components, now):
    incident = services.open_incident(name="Slow mail", status="monitoring", now=now)

    assert incident.monitoring_at == now


def test_it_refuses_an_update_to_a_resolved_incident_unless_reopened(outage, now):
    services.resolve_incident(outage, now=now + MINUTE)

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", body="Again?", now=now + 2 * MINUTE)

    assert refused.value.field == "status"
    assert outage.updates.count() == 2
    assert Incident.objects.get(pk=outage.pk).status == "resolved"


def test_it_reopens_a_resolved_incident_and_sets_components_again(outage, components, statuses_at, now):
    services.resolve_incident(outage, now=now + 10 * MINUTE)

    services.post_update(outage, status="identified", body="The outage is back.", reopen=True,
                         components={components["zh1"]: "partial_outage"}, now=now + 20 * MINUTE)

    reopened = Incident.objects.get(pk=outage.pk)
    assert (reopened.status, reopened.resolved_at) == ("identified", None)
    assert statuses_at(now + 20 * MINUTE)["zh1"] == "partial_outage"
    assert statuses_at(now + 20 * MINUTE)["de1"] == "operational"
    assert timeline(components["zh1"], now, now + 30 * MINUTE) == [
        (now, now + 10 * MINUTE, "major_outage"),
        (now + 10 * MINUTE, now + 20 * MINUTE, "operational"),
        (now + 20 * MINUTE, now + 30 * MINUTE, "partial_outage"),
    ]

    services.resolve_incident(reopened, now=now + 40 * MINUTE)
    assert Incident.objects.get(pk=outage.pk).resolved_at == now + 40 * MINUTE
    assert statuses_at(now + 40 * MINUTE)["zh1"] == "operational"


def test_it_refuses_a_reopening_shown_before_the_resolution(outage, components, statuses_at, now):
    services.resolve_incident(outage, now=now + 10 * MINUTE)

    # Shown before the resolution, the reopening would sort under it and the outage it reports would vanish.
    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", reopen=True, components={components["zh1"]: "major_outage"},
                             display_at=now + 5 * MINUTE, now=now + 20 * MINUTE)

    assert refused.value.field == "display_at"
    assert Incident.objects.get(pk=outage.pk).status == "resolved"
    assert statuses_at(now + 20 * MINUTE)["zh1"] == "operational"


def test_it_refuses_reopening_straight_into_resolved(outage, now):
    services.resolve_incident(outage, now=now + MINUTE)

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="resolved", reopen=True, now=now + 2 * MINUTE)

    assert refused.value.field == "status"
    assert outage.updates.count() == 2


def test_it_refuses_an_unknown_component(outage, components, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", components={"zh9.missing": "major_outage"}, now=now)
    assert refused.value.field == "components"
    assert "zh9.missing" in refused.value.message

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", components={"zh9.missing": "major_outage"}, now=now)
    assert refused.value.field == "components"
    assert Incident.objects.count() == 1 and outage.updates.count() == 1


def test_it_refuses_a_status_that_does_not_exist(outage, components, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", status="panicking", now=now)
    assert refused.value.field == "status"

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="scheduled", now=now)  # a maintenance status
    assert refused.value.field == "status"

    zh2 = components["zh2"]
    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", components={zh2: "on_fire"}, now=now)
    assert refused.value.field == f"components.{zh2.public_id}"
    assert "on_fire" in refused.value.message

    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", components={zh2: "down"}, now=now)
    assert refused.value.field == f"components.{zh2.public_id}"
    assert Incident.objects.count() == 1 and outage.updates.count() == 1
    assert not IncidentComponent.objects.filter(component=zh2).exists()


def test_it_refuses_a_new_incident_that_starts_resolved(components, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Was down", status="resolved", now=now)

    assert refused.value.field == "status"
    assert not Incident.objects.exists()


def test_it_refuses_a_display_time_in_the_future(outage, components, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", display_at=now + 2 * MINUTE, now=now)
    assert refused.value.field == "display_at"

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", display_at=now + timedelta(seconds=61), now=now)
    assert refused.value.field == "display_at"
    assert Incident.objects.count() == 1 and outage.updates.count() == 1


def test_it_refuses_a_display_time_without_a_time_zone(outage, now):
    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", display_at=now.replace(tzinfo=None), now=now)

    assert refused.value.field == "display_at"


def test_it_tolerates_a_client_clock_up_to_a_minute_ahead_and_shows_it_at_once(components, statuses_at, now):
    zh1 = components["zh1"]

    incident = services.open_incident(name="Down", display_at=now + timedelta(seconds=45),
                                      components={zh1: "major_outage"}, now=now)
    update = services.post_update(incident, status="identified", display_at=now + timedelta(seconds=50),
                                  components={zh1: "partial_outage"}, now=now)

    # A responder whose laptop clock runs ahead must not see the page claim all is well for that minute.
    assert statuses_at(now)["zh1"] == "partial_outage"
    assert derive.page_indicator(at=now)[0] == "major"
    assert update.display_at <= now


def test_it_refuses_a_display_time_before_the_incident_started(outage, now):
    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", display_at=now - MINUTE, now=now + MINUTE)

    assert refused.value.field == "display_at"
    assert outage.updates.count() == 1


def test_it_accepts_a_backdated_update_inside_the_incident(outage, components, now):
    services.post_update(outage, status="identified", components={components["zh1"]: "partial_outage"},
                         display_at=now + 5 * MINUTE, now=now + 15 * MINUTE)

    assert timeline(components["zh1"], now, now + 20 * MINUTE) == [
        (now, now + 5 * MINUTE, "major_outage"),
        (now + 5 * MINUTE, now + 20 * MINUTE, "partial_outage"),
    ]


def test_it_refuses_the_maintenance_impact_for_an_incident(outage, components, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", impact="maintenance", now=now)
    assert refused.value.field == "impact"

    with pytest.raises(InvalidInput) as refused:
        services.post_update(outage, status="identified", impact="maintenance", now=now)
    assert refused.value.field == "impact"

    with pytest.raises(InvalidInput) as refused:
        services.edit_incident(outage, impact="maintenance", now=now)
    assert refused.value.field == "impact"

    with pytest.raises(InvalidInput) as refused:
        services.backfill_incident(name="Was down", impact="maintenance", started_at=now - 2 * MINUTE,
                                   resolved_at=now - MINUTE, now=now)
    assert refused.value.field == "impact"
    assert Incident.objects.get().impact == "major"


def test_it_refuses_an_unknown_impact(outage, now):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", impact="huge", now=now)
    assert refused.value.field == "impact"

    with pytest.raises(InvalidInput) as refused:
        services.edit_incident(outage, impact="huge", now=now)
    assert refused.value.field == "impact"


def test_it_edits_the_title_and_impact(outage, now):
    services.edit_incident(outage, name="Network outage in zh1", impact="critical", now=now)

    edited = Incident.objects.get(pk=outage.pk)
    assert (edited.name, edited.impact) == ("Network outage in zh1", "critical")
    with pytest.raises(InvalidInput) as refused:
        services.edit_incident(outage, name="  ", now=now)
    assert refused.value.field == "name"


def test_it_finds_incidents_and_components_by_their_public_ids(outage, components):
    assert services.find_incident(outage.public_id) == outage
    assert services.find_incident(outage.public_id, kind="incident") == outage
    with pytest.raises(NotFound):
        services.find_incident(outage.public_id, kind="maintenance")

    assert services.find_components([components["zh1"].public_id, "Mail delivery", "Germany/de1.compact"]) == [
        components["zh1"], components["mail"], components["de1"]]
    with pytest.raises(InvalidInput) as refused:
        services.find_components(["nope"])
    assert refused.value.field == "components"


def test_it_refuses_a_resolution_shown_before_the_latest_update(components):
    from datetime import timedelta

    import pytest
    from django.utils import timezone

    from signalpost.status import services
    from signalpost.errors import InvalidInput

    now = timezone.now()
    incident = services.open_incident(name="Slow API", components={components["zh1"]: "degraded_performance"},
                                      display_at=now - timedelta(hours=2), now=now)
    services.post_update(incident, status="identified", display_at=now - timedelta(hours=1), now=now)
    with pytest.raises(InvalidInput) as error:
        services.resolve_incident(incident, display_at=now - timedelta(minutes=90), now=now)
    assert error.value.field == "display_at"
    incident.refresh_from_db()
    assert incident.status == "identified" and incident.resolved_at is None


def test_the_upgrade_gives_an_open_incident_the_status_of_its_latest_update_shown(transactional_db, components):
    now = timezone.now()
    incident = services.open_incident(name="Slow volumes", body="Looking.", components={components["zh1"]: "major_outage"},
                                      display_at=now - timedelta(minutes=60), now=now)
    services.post_update(incident, status="identified", components={components["zh1"]: "partial_outage"},
                         display_at=now - timedelta(minutes=10), now=now)
    services.post_update(incident, status="monitoring", components={components["zh1"]: "degraded_performance"},
                         display_at=now - timedelta(minutes=30), now=now)
    # As the previous version left it: the last update posted had taken over.
    Incident.objects.filter(pk=incident.pk).update(status="monitoring")
    IncidentComponent.objects.filter(incident=incident).update(status="degraded_performance")

    executor = MigrationExecutor(connection)
    executor.migrate([("status", "0007_impact_window_and_date_only")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    incident.refresh_from_db()
    assert incident.status == "identified"
    assert list(IncidentComponent.objects.filter(incident=incident).values_list("status", flat=True)) == [
        "partial_outage"]
