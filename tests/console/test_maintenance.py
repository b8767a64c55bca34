"""The console's maintenance screens: a window typed in any time zone is stored as the instants meant,
shown back in the page's zone and UTC; an overrun extends it; it can be started or completed at once.
And the one function that turns a typed wall-clock time into an instant, around the DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from signalpost.console.localtime import LocalTimeError, aware_in_zone, zone_names
from signalpost.status import services
from signalpost.status.models import Incident

from .events_support import (
    assert_refused_beside,
    audit_actions,
    field_block,
    last_audit_id,
    row_counts,
    text,
)

# --- typed times in a zone ------------------------------------------------------------------------------


def test_a_wall_clock_time_becomes_the_instant_it_means_in_that_zone():
    assert aware_in_zone(datetime(2027, 1, 15, 22, 0), "America/New_York") == datetime(2027, 1, 16, 3, 0, tzinfo=UTC)
    assert aware_in_zone(datetime(2027, 7, 15, 22, 0), "America/New_York") == datetime(2027, 7, 16, 2, 0, tzinfo=UTC)
    assert aware_in_zone(datetime(2027, 7, 15, 22, 0), "UTC") == datetime(2027, 7, 15, 22, 0, tzinfo=UTC)
    # Just outside the changes, times are unambiguous.
    assert aware_in_zone(datetime(2027, 3, 14, 1, 59), "America/New_York") == datetime(2027, 3, 14, 6, 59, tzinfo=UTC)
    assert aware_in_zone(datetime(2027, 3, 14, 3, 0), "America/New_York") == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)


def test_a_time_in_the_skipped_hour_is_refused_with_what_happened():
    with pytest.raises(LocalTimeError) as refused:
        aware_in_zone(datetime(2027, 3, 14, 2, 30), "America/New_York")
    assert str(refused.value) == (
        "2027-03-14 02:30 does not exist in America/New_York: the clocks go forward an hour that night "
        "(EST to EDT) and skip this time. Choose a time before or after the change."
    )
    with pytest.raises(LocalTimeError) as refused:  # Lord Howe Island moves its clocks by half an hour
        aware_in_zone(datetime(2027, 10, 3, 2, 15), "Australia/Lord_Howe")
    assert "go forward 30 minutes" in str(refused.value)


def test_a_time_in_the_repeated_hour_is_refused_naming_both_instants():
    with pytest.raises(LocalTimeError) as refused:
        aware_in_zone(datetime(2027, 10, 31, 2, 30), "Europe/Zurich")
    message = str(refused.value)
    assert "2027-10-31 02:30 happens twice in Europe/Zurich" in message
    assert "00:30 UTC (CEST)" in message and "01:30 UTC (CET)" in message
    assert "Choose UTC" in message


def test_an_unknown_zone_is_refused():
    with pytest.raises(LocalTimeError):
        aware_in_zone(datetime(2027, 1, 1, 12, 0), "Mars/Olympus")


def test_every_iana_zone_is_offered_utc_first():
    names = zone_names()
    assert names[0] == "UTC"
    assert {"America/New_York", "Europe/Zurich", "Asia/Kolkata", "Australia/Lord_Howe"} <= set(names)
    assert "localtime" not in names and len(names) > 400


# --- scheduling -----------------------------------------------------------------------------------------


def schedule_form(fixture_components, **fields) -> dict:
    data = {"name": "Storage upgrade", "scheduled_for": "2027-01-15T22:00", "scheduled_until": "2027-01-16T01:30",
            "time_zone": "America/New_York",
            "components": [fixture_components["zh1"].public_id, fixture_components["de2"].public_id],
            "body": "We will upgrade the storage cluster.", "auto_start": "on", "auto_complete": "on",
            "deliver_notifications": "on"}
    data.update(fields)
    return data


def test_it_schedules_a_window_typed_in_new_york_and_shows_it_in_the_page_zone_and_utc(responder, components, client):
    since = last_audit_id()
    response = responder.post("/console/maintenance/new", schedule_form(components))
    maintenance = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/maintenance/{maintenance.public_id}"
    assert maintenance.scheduled_for == datetime(2027, 1, 16, 3, 0, tzinfo=UTC)  # 22:00 EST
    assert maintenance.scheduled_until == datetime(2027, 1, 16, 6, 30, tzinfo=UTC)
    assert (maintenance.auto_start, maintenance.auto_complete) == (True, True)
    assert {c.name for c in maintenance.components.all()} == {"zh1.single", "de2.compact"}
    assert audit_actions(since) == ["maintenance.schedule"]

    page = responder.get(response["Location"]).content.decode()
    assert "scheduled: 2027-01-16 03:00 UTC to 2027-01-16 06:30 UTC" in text(page)
    window = text(page[page.index('id="window-title"'):page.index('id="components-title"')])
    assert "Jan 16, 2027 04:00 CET – Jan 16, 2027 07:30 CET" in window  # the page's zone, Europe/Zurich
    assert "2027-01-16 03:00 UTC – 2027-01-16 06:30 UTC" in window

    public = client.get(f"/maintenance/{maintenance.public_id}").content.decode()
    assert "Storage upgrade" in public and "We will upgrade the storage cluster." in public
    assert 'datetime="2027-01-16T03:00:00Z"' in public


def test_the_form_defaults_to_the_page_zone_and_automatic_start_and_completion(responder, components):
    page = responder.get("/console/maintenance/new").content.decode()
    assert '<option value="Europe/Zurich" selected>' in field_block(page, "id_time_zone")
    assert "checked" in field_block(page, "id_auto_start") and "checked" in field_block(page, "id_auto_complete")
    assert "checked" in field_block(page, "id_deliver_notifications")
    assert 'data-window data-page-zone="Europe/Zurich"' in page and "data-window-converted" in page
    assert "<legend>Switzerland</legend>" in page and f'value="{components["zh1"].public_id}"' in page
    assert 'data-template-for="id_body"' in page and "Overrunning" in page


def test_unchecked_boxes_turn_automation_and_notification_off(responder, components):
    data = schedule_form(components)
    for box in ("auto_start", "auto_complete", "deliver_notifications"):
        del data[box]
    assert responder.post("/console/maintenance/new", data).status_code == 302
    maintenance = Incident.objects.get()
    assert (maintenance.auto_start, maintenance.auto_complete) == (False, False)
    assert maintenance.updates.get().deliver_notifications is False


@pytest.mark.parametrize("field, value, field_id, message", [
    ("name", "", "id_name", "This field is required."),
    ("scheduled_until", "2027-01-15T21:00", "id_scheduled_until",
     "must be after “Window starts” (the window ends before it starts)"),
    ("scheduled_for", "2027-03-14T02:30", "id_scheduled_for", "2027-03-14 02:30 does not exist in America/New_York"),
    ("scheduled_until", "2027-11-07T01:30", "id_scheduled_until", "happens twice in America/New_York"),
    ("scheduled_for", "", "id_scheduled_for", "This field is required."),
    ("scheduled_for", "15/01/2027 10pm", "id_scheduled_for", "Enter a date and time"),
    ("time_zone", "Eastern", "id_time_zone", "Select a valid choice."),
    ("body", "b" * 100_001, "id_body", "at most 100000 characters"),
    ("scheduled_for", "0001-01-01T00:00", "id_scheduled_for", "must be from 1970-01-01T00:00:00Z to 2200"),
    ("scheduled_until", "9999-12-31T23:59", "id_scheduled_until", "must be from 1970-01-01T00:00:00Z to 2200"),
    ("scheduled_until", "2200-01-01T00:00", "id_scheduled_until", "must be from 1970-01-01T00:00:00Z to 2200"),
    ("name", "Upgrade\x00", "id_name", "Null characters are not allowed."),
])
def test_it_refuses_a_bad_window_beside_the_field_and_saves_nothing(responder, components, field, value, field_id,
                                                                   message):
    before = row_counts()
    response = responder.post("/console/maintenance/new", schedule_form(components, **{field: value}))
    assert_refused_beside(response, field_id, message)
    assert row_counts() == before


def test_an_unknown_component_is_refused_beside_the_components(responder, components):
    before = row_counts()
    response = responder.post("/console/maintenance/new", schedule_form(components, components=["nosuchthing1"]))
    assert response.status_code == 400
    page = response.content.decode()
    errors = page[page.index("<legend>Affected components</legend>"):page.index('id="id_components_error"') + 200]
    assert "Select a valid choice. nosuchthing1 is not one of the available choices." in text(errors)
    assert row_counts() == before


# --- a window's page: updates, overruns, start and complete ------------------------------------------------


@pytest.fixture
def running(components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Storage upgrade", scheduled_for=now - timedelta(minutes=30), scheduled_until=now + timedelta(minutes=30),
        components=[components["zh1"]], body="Upgrading storage.")
    services.start_maintenance(maintenance)
    return Incident.objects.get(pk=maintenance.pk)


def test_an_overrun_extends_the_window_and_says_so(responder, running, client):
    new_end = (running.scheduled_until + timedelta(hours=1)).astimezone(UTC).replace(second=0, microsecond=0)
    since = last_audit_id()
    response = responder.post(f"/console/maintenance/{running.public_id}/update", {
        "status": "in_progress", "time_zone": "UTC", "scheduled_until": new_end.strftime("%Y-%m-%dT%H:%M"),
        "body": "The maintenance is taking longer than anticipated.", "deliver_notifications": "on",
    })
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.scheduled_until == new_end and running.status == "in_progress"
    assert audit_actions(since) == ["maintenance.update"]
    public = text(client.get(f"/maintenance/{running.public_id}").content.decode())
    assert "taking longer than anticipated" in public and "extended; originally until" in public
    page = text(responder.get(f"/console/maintenance/{running.public_id}").content.decode())
    assert f"{new_end:%Y-%m-%d %H:%M} UTC" in page and "The window now ends" in page


def test_an_overrun_without_a_new_end_keeps_the_window_open_past_its_end(responder, running, client):
    response = responder.post(f"/console/maintenance/{running.public_id}/update", {
        "status": "in_progress", "time_zone": "UTC", "overrun": "on", "body": "", "deliver_notifications": "on"})
    assert response.status_code == 302
    page = text(responder.get(f"/console/maintenance/{running.public_id}").content.decode())
    assert "The window stays open until it is completed" in page
    later = running.scheduled_until + timedelta(hours=2)
    assert services.run_due_transitions(later) == []  # the worker leaves it open past its old end
    running.refresh_from_db()
    assert (running.status, running.resolved_at, running.auto_complete) == ("in_progress", None, False)
    public = text(client.get(f"/maintenance/{running.public_id}").content.decode())
    assert "The maintenance is taking longer than anticipated." in public


def test_the_new_end_is_read_in_the_zone_chosen_for_it(responder, running):
    new_end = running.scheduled_until + timedelta(hours=2)
    local = new_end.astimezone(ZoneInfo("Asia/Kolkata"))
    response = responder.post(f"/console/maintenance/{running.public_id}/update", {
        "status": "in_progress", "time_zone": "Asia/Kolkata", "scheduled_until": local.strftime("%Y-%m-%dT%H:%M"),
        "body": "Overrunning.",
    })
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.scheduled_until == new_end.replace(second=0, microsecond=0)


@pytest.mark.parametrize("fields, field_id, message", [
    ({"status": "postponed"}, "id_status", "Select a valid choice."),
    ({"status": "scheduled"}, "id_status", "it cannot go back to scheduled"),
    ({"scheduled_until": "2020-01-01T00:00"}, "id_scheduled_until", "must be after"),
    ({"scheduled_until": "2027-03-14T02:30", "time_zone": "America/New_York"}, "id_scheduled_until",
     "does not exist in America/New_York"),
])
def test_it_refuses_a_bad_maintenance_update_beside_the_field(responder, running, fields, field_id, message):
    before = row_counts()
    data = {"status": "in_progress", "time_zone": "UTC", "body": "x", **fields}
    response = responder.post(f"/console/maintenance/{running.public_id}/update", data)
    assert_refused_beside(response, field_id, message)
    assert row_counts() == before


def test_it_starts_and_completes_now(responder, components):
    later = timezone.now() + timedelta(days=3)
    maintenance = services.schedule_maintenance(name="Router swap", scheduled_for=later,
                                                scheduled_until=later + timedelta(hours=1))
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert "Start now" in page and "Cancel the maintenance" in page and "Complete now" not in page

    since = last_audit_id()
    assert responder.post(f"/console/maintenance/{maintenance.public_id}/start").status_code == 302
    assert Incident.objects.get(pk=maintenance.pk).status == "in_progress"
    assert audit_actions(since) == ["maintenance.start"]
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert "Complete now" in page and "Start now" not in page and "Cancel the maintenance" not in page

    before = row_counts()  # a second click does not post a second "in progress"
    again = responder.post(f"/console/maintenance/{maintenance.public_id}/start")
    assert again.status_code == 400 and "Not started: the maintenance is already in progress" in again.content.decode()
    assert row_counts() == before

    since = last_audit_id()
    assert responder.post(f"/console/maintenance/{maintenance.public_id}/complete").status_code == 302
    assert Incident.objects.get(pk=maintenance.pk).status == "completed"
    assert audit_actions(since) == ["maintenance.complete"]
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert "Complete now" not in page and "Post an update" not in page

    before = row_counts()
    again = responder.post(f"/console/maintenance/{maintenance.public_id}/complete")
    assert again.status_code == 400 and "Not completed" in again.content.decode()
    assert row_counts() == before


def test_a_maintenance_update_text_can_be_corrected(responder, running):
    update = running.updates.order_by("id").first()
    response = responder.post(f"/console/updates/{update.public_id}/edit", {"body": "Upgrading the storage cluster."})
    assert response["Location"] == f"/console/maintenance/{running.public_id}"


# --- the list, and who may do what ----------------------------------------------------------------------


def test_the_list_shows_running_upcoming_and_past(viewer, running):
    now = timezone.now()
    services.schedule_maintenance(name="Next week's patching", scheduled_for=now + timedelta(days=7),
                                  scheduled_until=now + timedelta(days=7, hours=2))
    done = services.schedule_maintenance(name="Last month's move", scheduled_for=now - timedelta(days=30),
                                         scheduled_until=now - timedelta(days=30) + timedelta(hours=1))
    services.complete_maintenance(done)
    page = viewer.get("/console/maintenance/").content.decode()
    running_at, upcoming_at, past_at = (page.index(t) for t in ('id="running-title"', 'id="upcoming-title"',
                                                                  'id="past-title"'))
    assert running_at < page.index("Storage upgrade") < upcoming_at < page.index("Next week") < past_at
    assert page.index("Last month") > past_at
    assert 'href="/console/maintenance/new"' not in page


def test_a_viewer_gets_403_on_every_responder_page(viewer, running):
    before = row_counts()
    for path in ["/console/maintenance/new", f"/console/maintenance/{running.public_id}/update",
                 f"/console/maintenance/{running.public_id}/start", f"/console/maintenance/{running.public_id}/complete"]:
        assert viewer.get(path).status_code == 403, path
        assert viewer.post(path, {"status": "completed", "body": "x"}).status_code == 403, path
    assert row_counts() == before
    page = viewer.get(f"/console/maintenance/{running.public_id}")
    assert page.status_code == 200 and "Post an update" not in page.content.decode()


def test_a_window_called_off_before_it_starts_is_cancelled_and_stays_in_the_history(responder, components, client):
    later = timezone.now() + timedelta(days=3)
    maintenance = services.schedule_maintenance(name="Router swap", scheduled_for=later,
                                                scheduled_until=later + timedelta(hours=1),
                                                components=[components["zh1"]])
    since = last_audit_id()
    assert responder.post(f"/console/maintenance/{maintenance.public_id}/cancel").status_code == 302
    cancelled = Incident.objects.get(pk=maintenance.pk)
    assert (cancelled.status, cancelled.started_at) == ("cancelled", None) and cancelled.resolved_at is not None
    assert audit_actions(since) == ["maintenance.cancel"]
    assert cancelled.updates.order_by("-id").first().body == "The scheduled maintenance has been cancelled."
    page = responder.get(f"/console/maintenance/{maintenance.public_id}").content.decode()
    assert "Post an update" not in page and "Start now" not in page
    # Readers see it called off; it is no longer upcoming, and never put the component under maintenance.
    public = client.get(maintenance.public_path).content.decode()
    assert "Cancelled" in public
    assert "Router swap" not in client.get("/").content.decode()
    assert client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"] == []
    [listed] = client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]
    assert listed["status"] == "completed"  # Statuspage's clients know no other end

    before = row_counts()
    again = responder.post(f"/console/maintenance/{maintenance.public_id}/cancel")
    assert again.status_code == 400 and "Not cancelled: the maintenance is cancelled" in again.content.decode()
    assert row_counts() == before


def test_a_started_window_is_completed_not_cancelled(responder, components):
    maintenance = services.schedule_maintenance(name="Router swap", scheduled_for=timezone.now() - timedelta(minutes=5),
                                                scheduled_until=timezone.now() + timedelta(hours=1))
    services.start_maintenance(maintenance)
    again = responder.post(f"/console/maintenance/{maintenance.public_id}/cancel")
    assert again.status_code == 400
    assert "one that has started is completed, not cancelled" in again.content.decode()
