"""The upgrade that adds the customer impact window and date-only times keeps what was there: a past
incident recorded before it keeps its times, reads the same on the API and the pages, and counts the
same downtime, its own start and resolution standing as its impact window."""

from datetime import UTC, datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from signalpost.status import derive
from signalpost.status.models import Component, Incident

BEFORE = [("status", "0006_page_without_change_seq"), ("postmortems", "0004_built_in_templates")]


def test_a_backfill_recorded_before_the_upgrade_keeps_its_window(transactional_db, api, client):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    component = old.get_model("status", "Component").objects.create(public_id="oldcomponent", name="zh1.single")
    started, resolved = datetime(2025, 6, 2, 8, 0, tzinfo=UTC), datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
    incident = old.get_model("status", "Incident").objects.create(
        public_id="oldincident0", kind="incident", name="Connectivity", status="resolved", impact="major",
        retroactive=True, started_at=started, resolved_at=resolved, created_at=resolved, updated_at=resolved)
    update = old.get_model("status", "IncidentUpdate")
    opening = update.objects.create(public_id="oldupdate000", incident=incident, status="investigating",
                                    body="Packets are lost.", display_at=started, created_at=resolved)
    closing = update.objects.create(public_id="oldupdate001", incident=incident, status="resolved",
                                    body="Fixed.", display_at=resolved, created_at=resolved)
    changes = old.get_model("status", "AffectedComponent")
    changes.objects.create(update=opening, component=component, old_status="operational", new_status="major_outage")
    changes.objects.create(update=closing, component=component, old_status="major_outage", new_status="operational")
    old.get_model("status", "IncidentComponent").objects.create(incident=incident, component=component,
                                                                status="operational")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    upgraded = Incident.objects.get(public_id="oldincident0")
    assert (upgraded.started_at, upgraded.resolved_at) == (started, resolved)
    assert (upgraded.started_on, upgraded.resolved_on, upgraded.impact_started_at, upgraded.impact_ended_at) == (
        None, None, None, None)
    assert upgraded.impact_window == (started, resolved)  # its own times stand for the customers' window
    body = api.get("/api/v1/incidents/oldincident0").json()
    assert (body["started_at"], body["resolved_at"]) == ("2025-06-02T08:00:00Z", "2025-06-02T09:30:00Z")
    assert (body["impact_started_at"], body["impact_ended_at"]) == (None, None)
    assert [u["display_at"] for u in body["updates"]] == ["2025-06-02T09:30:00Z", "2025-06-02T08:00:00Z"]
    segments = derive.component_status_timeline(Component.objects.get(public_id="oldcomponent"),
                                                datetime(2025, 6, 2, 7, tzinfo=UTC), datetime(2025, 6, 2, 11, tzinfo=UTC))
    assert [(s.start.hour, s.start.minute, s.status) for s in segments] == [
        (7, 0, "operational"), (8, 0, "major_outage"), (9, 30, "operational")]
    page = client.get("/incidents/oldincident0").content.decode()
    assert "(1 hour 30 minutes)" in page and "Customer impact" not in page
