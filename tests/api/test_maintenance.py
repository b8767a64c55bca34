from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.events.models import Event
from signalpost.status import services
from signalpost.status.models import Incident

from .conftest import field_errors


def iso(moment) -> str:
    return moment.isoformat()


def schedule(writer, **fields):
    now = timezone.now()
    body = {"name": "Storage upgrade in ZH1", "scheduled_for": iso(now + timedelta(days=2)),
            "scheduled_until": iso(now + timedelta(days=2, hours=2)), "body": "Short interruptions expected.",
            "components": ["zh1.single", "Switzerland/zh2.cluster"], **fields}
    return writer.post("/api/v1/maintenance", body)


def test_it_schedules_maintenance(writer, components):
    response = schedule(writer, auto_complete=False)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "scheduled" and body["impact"] == "maintenance"
    assert body["auto_start"] is True and body["auto_complete"] is False
    assert body["url"].endswith(f"/maintenance/{body['id']}")
    assert {c["name"] for c in body["components"]} == {"zh1.single", "zh2.cluster"}
    assert body["scheduled_for"] < body["scheduled_until"]
    assert writer.get(f"/api/v1/maintenance/{body['id']}").json() == body


def test_it_refuses_a_window_that_ends_before_it_starts(writer, components):
    now = timezone.now()
    response = schedule(writer, scheduled_until=iso(now + timedelta(days=1)))
    assert response.status_code == 422
    assert "ends before it starts" in field_errors(response)["scheduled_until"]
    assert not Incident.objects.exists()


def test_it_refuses_an_unknown_component(writer, components):
    response = schedule(writer, components=["zh1.single", "Atlantis"])
    assert field_errors(response) == {"components": 'unknown component "Atlantis"'}
    assert not Incident.objects.exists()


def test_it_refuses_a_naive_window(writer, components):
    response = schedule(writer, scheduled_for="2030-01-01T02:00:00")
    assert list(field_errors(response)) == ["scheduled_for"]


def test_it_starts_extends_and_completes_maintenance(writer, components):
    maintenance_id = schedule(writer).json()["id"]
    path = f"/api/v1/maintenance/{maintenance_id}/updates"
    response = writer.post(path, {"status": "in_progress"})
    assert response.status_code == 201
    assert response.json()["status"] == "in_progress" and response.json()["started_at"] is not None
    assert writer.get(f"/api/v1/components/{components['zh1'].public_id}").json()["status"] == "under_maintenance"
    later = timezone.now() + timedelta(days=3)
    response = writer.post(path, {"status": "in_progress", "body": "Taking longer than anticipated.",
                                  "scheduled_until": iso(later)})
    assert response.status_code == 201
    assert Incident.objects.get(public_id=maintenance_id).scheduled_until == later
    response = writer.post(path, {"status": "completed"})
    body = response.json()
    assert body["status"] == "completed"
    assert body["updates"][0]["body"] == "The scheduled maintenance has been completed."
    statuses = [u["status"] for u in writer.get(path).json()["items"]]
    assert statuses == ["completed", "in_progress", "in_progress", "scheduled"]
    response = writer.post(path, {"status": "verifying"})
    assert response.status_code == 422 and "completed" in field_errors(response)["status"]


def test_it_refuses_an_incident_status_for_maintenance(writer, components):
    maintenance_id = schedule(writer).json()["id"]
    response = writer.post(f"/api/v1/maintenance/{maintenance_id}/updates", {"status": "resolved"})
    assert response.status_code == 422
    assert field_errors(response)["status"].startswith("must be one of: scheduled")


def test_it_renames_maintenance(writer, components):
    maintenance_id = schedule(writer).json()["id"]
    response = writer.patch(f"/api/v1/maintenance/{maintenance_id}", {"name": "Storage upgrade"})
    assert response.json()["name"] == "Storage upgrade"


def test_it_lists_upcoming_and_active_maintenance(reader, components):
    now = timezone.now()
    window = {"scheduled_until": now + timedelta(days=5), "components": [components["de1"]]}
    services.schedule_maintenance(name="Later", scheduled_for=now + timedelta(days=4), **window)
    running = services.schedule_maintenance(name="Now", scheduled_for=now + timedelta(days=1), **window)
    services.start_maintenance(running)
    services.open_incident(name="Not maintenance")

    def names(**query) -> list[str]:
        return [m["name"] for m in reader.get("/api/v1/maintenance", query).json()["items"]]

    assert names() == ["Later", "Now"]
    assert names(upcoming="true") == ["Later"]
    assert names(active="true") == ["Now"]
    assert names(status="in_progress") == ["Now"]
    assert names(status="scheduled", per_page=1, page=2) == []


@pytest.mark.parametrize("notify", [False, True])
def test_a_window_entered_after_it_ended_keeps_its_own_times_and_tells_nobody(writer, components, notify):
    now = timezone.now().replace(microsecond=0)
    began, ended = now - timedelta(days=2, hours=3), now - timedelta(days=2, hours=1)
    response = schedule(writer, scheduled_for=iso(began), scheduled_until=iso(ended),
                        deliver_notifications=notify)
    assert response.status_code == 201
    maintenance_id = response.json()["id"]
    with audit.acting(audit.SYSTEM):
        services.run_due_transitions()  # what the worker does when it looks
    body = writer.get(f"/api/v1/maintenance/{maintenance_id}").json()
    assert body["status"] == "completed"
    assert (body["started_at"], body["resolved_at"]) == (iso(began).replace("+00:00", "Z"),
                                                         iso(ended).replace("+00:00", "Z"))
    # Newest first by display time: the announcement came before the window, not when it was typed in.
    assert [(u["status"], u["display_at"], u["deliver_notifications"]) for u in body["updates"]] == [
        ("completed", body["resolved_at"], False), ("in_progress", body["started_at"], False),
        ("scheduled", body["started_at"], False)]
    assert Event.objects.filter(subject=f"incident:{maintenance_id}", notify=True).count() == 0


def test_an_overrun_without_a_new_end_keeps_the_window_open_until_completed(writer, components):
    now = timezone.now().replace(microsecond=0)
    response = schedule(writer, scheduled_for=iso(now - timedelta(minutes=30)),
                        scheduled_until=iso(now + timedelta(minutes=30)))
    maintenance_id = response.json()["id"]
    path = f"/api/v1/maintenance/{maintenance_id}/updates"
    with audit.acting(audit.SYSTEM):
        services.run_due_transitions()
    response = writer.post(path, {"status": "in_progress", "overrun": True})
    assert response.status_code == 201
    body = response.json()
    assert body["updates"][0]["body"] == "The maintenance is taking longer than anticipated."
    assert body["scheduled_until"] == iso(now + timedelta(minutes=30)).replace("+00:00", "Z")  # no new end needed
    assert Event.objects.filter(subject=f"incident:{maintenance_id}").latest("id").kind == "maintenance.overran"

    with audit.acting(audit.SYSTEM):
        assert services.run_due_transitions(now + timedelta(hours=3)) == []  # its old end passed: still open
    body = writer.get(f"/api/v1/maintenance/{maintenance_id}").json()
    assert (body["status"], body["resolved_at"]) == ("in_progress", None)
    assert writer.get(f"/api/v1/components/{components['zh1'].public_id}").json()["status"] == "under_maintenance"

    response = writer.post(path, {"status": "completed", "body": "Done at last."})
    assert response.json()["status"] == "completed" and response.json()["resolved_at"] is not None


def test_an_overrun_is_refused_for_a_window_that_is_not_running(writer, components):
    maintenance_id = schedule(writer).json()["id"]
    response = writer.post(f"/api/v1/maintenance/{maintenance_id}/updates", {"status": "scheduled", "overrun": True,
                                                                            "body": "Later than planned."})
    assert response.status_code == 422 and "running" in field_errors(response)["overrun"]
    assert Incident.objects.get(public_id=maintenance_id).auto_complete is True


def test_a_change_of_status_shown_before_the_latest_update_is_refused(writer, components):
    now = timezone.now()
    maintenance_id = schedule(writer, scheduled_for=iso(now + timedelta(minutes=5)),
                              display_at=iso(now - timedelta(minutes=30))).json()["id"]
    path = f"/api/v1/maintenance/{maintenance_id}/updates"
    writer.post(path, {"status": "scheduled", "body": "Moved to the new storage first.",
                       "display_at": iso(now - timedelta(minutes=10))})
    response = writer.post(path, {"status": "in_progress", "display_at": iso(now - timedelta(minutes=20))})
    assert response.status_code == 422
    assert "before the latest update" in field_errors(response)["display_at"]
    # News keeping the status may take its place in the list; the status stays.
    response = writer.post(path, {"status": "scheduled", "body": "Customers were told by mail.",
                                  "display_at": iso(now - timedelta(minutes=20))})
    body = response.json()
    assert body["status"] == "scheduled"
    assert [u["body"] for u in body["updates"]] == [
        "Moved to the new storage first.", "Customers were told by mail.", "Short interruptions expected."]
