"""Rows stored out of the accepted range (by a version that did not refuse them, or by hand) do not stop
the page: the other incidents are still published, the lists still answer, and the page that cannot be
drawn is named."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from signalpost.public.models import SnapshotFile
from signalpost.status import services
from signalpost.status.models import Incident
from tests.publishing import publish, republish_everything


def published(path: str) -> bytes:
    return bytes(SnapshotFile.objects.get(path=path).body)


def _store_raw(incident: Incident, column: str, moment: str) -> None:
    """Writes the instant as the database takes it, as the API did before it refused such times (on
    PostgreSQL year 1 at +01:00 is kept as 1 BC)."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE status_incident SET {column} = %s WHERE id = %s", [moment, incident.pk])


@pytest.fixture
def zurich(transactional_db, components):
    services.update_page(time_zone="Europe/Zurich")
    return components


def test_a_maintenance_ending_in_year_9999_does_not_stop_publication(zurich, client, make_token):
    now = timezone.now()
    stuck = services.schedule_maintenance(name="Forever", scheduled_for=now + timedelta(days=1),
                                          scheduled_until=now + timedelta(days=2), components=[zurich["zh1"]])
    Incident.objects.filter(pk=stuck.pk).update(scheduled_until=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    republish_everything()
    response = client.post("/api/v1/incidents", {"name": "Everything is down", "impact": "critical",
                                                "components": {"zh1.single": "major_outage"}},
                           content_type="application/json", headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 201
    publish()
    assert b"Everything is down" in published("/")
    summary = json.loads(published("/api/v2/summary.json"))
    status = json.loads(published("/api/v2/status.json"))
    assert summary["status"]["indicator"] == status["status"]["indicator"] == "critical"
    assert "Everything is down" in [i["name"] for i in summary["incidents"]]


@pytest.mark.parametrize("column", ["started_at", "resolved_at"])
def test_an_incident_stored_at_year_1_does_not_break_the_lists(zurich, client, make_token, column):
    now = timezone.now()
    good = services.backfill_incident(name="Good", started_at=now - timedelta(days=2),
                                      resolved_at=now - timedelta(days=2) + timedelta(hours=1))
    bad = services.backfill_incident(name="Bad", started_at=now - timedelta(days=3),
                                     resolved_at=now - timedelta(days=3) + timedelta(hours=1))
    _store_raw(bad, column, "0001-01-01 00:00:00+01:00" if connection.vendor == "postgresql" else "0001-01-01 00:00:00")
    headers = {"Authorization": f"Bearer {make_token('read')}"}
    response = client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 200, response.content
    assert [i["name"] for i in response.json()["items"]] == ["Good"]
    assert client.get(f"/api/v1/incidents/{good.public_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/incidents/{bad.public_id}", headers=headers).status_code == 404
    republish_everything()
    assert b"Good" in published("/history")
    assert b"Bad" not in published("/history")
    assert client.get("/history").status_code == 200
    summary = json.loads(published("/api/v2/incidents.json"))
    assert [i["name"] for i in summary["incidents"]] == ["Good"]
