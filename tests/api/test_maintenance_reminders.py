"""A window's own reminders through the API: set when it is scheduled, changed or put back to the page's
default later, refused with the field named when they are not times before the start."""

from datetime import timedelta

from django.utils import timezone

from signalpost.notify.consumer import record_due_reminders
from signalpost.status.models import Incident

from .conftest import field_errors
from .test_maintenance import schedule


def test_a_window_is_scheduled_with_its_own_reminders(writer, components):
    body = schedule(writer, reminders=["1h", "48h", "90m"]).json()
    assert body["reminders"] == ["48h", "90m", "1h"]  # longest first
    assert writer.get(f"/api/v1/maintenance/{body['id']}").json()["reminders"] == ["48h", "90m", "1h"]


def test_without_reminders_a_window_follows_the_page(writer, components):
    assert schedule(writer).json()["reminders"] is None
    assert schedule(writer, reminders=[]).json()["reminders"] == []


def test_bad_reminders_are_refused_naming_the_field(writer, components):
    for bad in (["24"], ["0h"], ["-1h"], ["1d"], ["43201m"], ["1h"] * 11, ["721h"]):
        response = schedule(writer, reminders=bad)
        assert response.status_code == 422, bad
        assert list(field_errors(response)) == ["reminders"], bad
    assert not Incident.objects.exists()


def test_the_reminders_of_a_window_are_edited(writer, components):
    window_id = schedule(writer).json()["id"]
    path = f"/api/v1/maintenance/{window_id}"
    assert writer.patch(path, {"reminders": ["2h"]}).json()["reminders"] == ["2h"]
    assert writer.patch(path, {"reminders": []}).json()["reminders"] == []
    assert writer.patch(path, {"name": "Renamed"}).json()["reminders"] == []  # left as it was
    assert writer.patch(path, {"reminders": None}).json()["reminders"] is None
    response = writer.patch(path, {"reminders": ["soon"]})
    assert response.status_code == 422 and "24h or 30m" in field_errors(response)["reminders"]


def test_the_clock_follows_the_reminders_set_through_the_api(writer, components):
    now = timezone.now()
    window_id = schedule(writer, scheduled_for=(now + timedelta(hours=10)).isoformat(),
                         scheduled_until=(now + timedelta(hours=11)).isoformat(), reminders=["6h"]).json()["id"]
    start = Incident.objects.get(public_id=window_id).scheduled_for
    assert record_due_reminders(start - timedelta(hours=7)) == []
    [key] = record_due_reminders(start - timedelta(hours=5, minutes=59))
    assert f":{6 * 3600}:" in key
    assert record_due_reminders(start - timedelta(minutes=59)) == []  # not the page's 1-hour one
