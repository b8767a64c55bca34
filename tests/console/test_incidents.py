"""The console's incident screens, as a responder under stress uses them: one form opens an incident,
the incident's page takes updates, resolves and reopens it, corrects an update's text, and a past
incident is recorded after the fact. Every write shows on the public page and leaves one audit entry."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from signalpost.accounts.models import AuditEvent
from signalpost.status import services
from signalpost.status.models import Incident, IncidentComponent, IncidentUpdate

from .events_support import (
    assert_refused_beside,
    audit_actions,
    field_block,
    last_audit_id,
    row_counts,
    text,
)


def open_form(components, **fields) -> dict:
    data = {"name": "Database failover in zh1", "status": "investigating", "impact": "major",
            "body": "We are **investigating** errors on zh1.", "deliver_notifications": "on"}
    for component in components.values():
        data[f"component_{component.public_id}"] = ""
    data.update(fields)
    return data


def statuses(incident: Incident) -> dict[str, str]:
    return {link.component.name: link.status
            for link in IncidentComponent.objects.filter(incident=incident).select_related("component")}


# --- opening ------------------------------------------------------------------------------------------


def test_it_opens_an_incident_with_two_components_in_one_post(responder, components, client):
    zh1, zh2 = components["zh1"], components["zh2"]
    since = last_audit_id()
    response = responder.post("/console/incidents/new", open_form(components, **{
        f"component_{zh1.public_id}": "major_outage", f"component_{zh2.public_id}": "degraded_performance",
    }))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/incidents/{incident.public_id}"
    assert (incident.name, incident.status, incident.impact) == ("Database failover in zh1", "investigating", "major")
    assert statuses(incident) == {"zh1.single": "major_outage", "zh2.cluster": "degraded_performance"}
    update = incident.updates.get()
    assert update.deliver_notifications is True

    event = AuditEvent.objects.get(pk__gt=since)
    assert (event.action, event.actor, event.source) == ("incident.open", "rita", "console")

    front = client.get("/").content.decode()
    assert "Database failover in zh1" in front
    assert "Major outage" in text(front)
    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert "<strong>investigating</strong> errors on zh1." in public
    assert "zh1.single: Major outage" in text(public)

    page = responder.get(response["Location"]).content.decode()
    assert "is open and on the public page" in page


def test_the_form_offers_every_component_grouped_and_not_affected_by_default(responder, components):
    page = responder.get("/console/incidents/new").content.decode()
    assert 'autofocus' in field_block(page, "id_name")
    assert "<legend>Switzerland</legend>" in page and "<legend>Germany</legend>" in page
    assert "<legend>Not in a group</legend>" in page
    mail = field_block(page, f"id_component_{components['mail'].public_id}")
    assert '<option value="" selected>Not affected</option>' in mail
    assert "major_outage" in mail and "under_maintenance" not in mail
    assert 'data-preview="body-preview"' in page and 'class="md preview"' in page
    assert 'data-template-for="id_body"' in page and 'data-status="identified"' in page
    notify = field_block(page, "id_deliver_notifications")
    assert "checked" in notify and "Notify subscribers" in notify


def test_it_takes_a_display_time_from_a_few_minutes_ago_in_the_page_zone(responder, components):
    began = (timezone.now() - timedelta(minutes=7)).replace(second=0, microsecond=0)
    local = began.astimezone(ZoneInfo("Europe/Zurich"))  # the page's zone
    response = responder.post("/console/incidents/new", open_form(components, display_at=local.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 302
    assert Incident.objects.get().started_at == began


@pytest.mark.parametrize("field, value, field_id, message", [
    ("name", "   ", "id_name", "This field is required."),
    ("status", "fixed", "id_status", "Select a valid choice. fixed is not one of the available choices."),
    ("status", "resolved", "id_status", "Select a valid choice."),
    ("impact", "maintenance", "id_impact", "Select a valid choice."),
    ("component", "under_maintenance", "id_component", "Select a valid choice."),
    ("body", "x" * 100_001, "id_body", "Ensure this value has at most 100000 characters"),
    ("display_at", "2026-03-29T02:30", "id_display_at", "2026-03-29 02:30 does not exist in Europe/Zurich"),
    ("display_at", "yesterday-ish", "id_display_at", "Enter a date and time"),
    ("display_at", "2099-01-01T10:00", "id_display_at", "is in the future"),
])
def test_it_refuses_bad_input_beside_the_field_and_saves_nothing(responder, components, field, value, field_id,
                                                                  message):
    zh1 = components["zh1"]
    if field == "component":
        field, field_id = f"component_{zh1.public_id}", f"id_component_{zh1.public_id}"
    before = row_counts()
    response = responder.post("/console/incidents/new", open_form(components, **{field: value}))
    assert_refused_beside(response, field_id, message)
    assert "Nothing was saved" in response.content.decode()
    assert row_counts() == before


# --- the incident's page: updates, resolving, reopening ---------------------------------------------------


@pytest.fixture
def incident(components):
    return services.open_incident(name="Database failover", impact="major", body="Investigating.",
                                  components={components["zh1"]: "major_outage", components["zh2"]: "partial_outage"})


def update_form(incident: Incident, components, **fields) -> dict:
    current = {link.component_id: link.status for link in IncidentComponent.objects.filter(incident=incident)}
    data = {"status": incident.status, "impact": incident.impact, "body": "", "deliver_notifications": "on",
            "reopen": "True" if incident.status == "resolved" else "False"}
    for component in components.values():
        data[f"component_{component.public_id}"] = current.get(component.pk, "")
    data.update(fields)
    return data


def test_the_update_form_starts_from_what_the_incident_says_now(responder, incident, components):
    page = responder.get(f"/console/incidents/{incident.public_id}").content.decode()
    zh1 = field_block(page, f"id_component_{components['zh1'].public_id}")
    assert '<option value="major_outage" selected>' in zh1 and "Not affected" not in zh1
    de1 = field_block(page, f"id_component_{components['de1'].public_id}")
    assert '<option value="" selected>Not affected</option>' in de1
    assert '<option value="investigating" selected>' in field_block(page, "id_status")
    assert '<option value="major" selected>' in field_block(page, "id_impact")
    assert 'data-shortcut="u" data-focus="id_body"' in page
    assert 'data-shortcut="r"' in page and "data-confirm=" in page
    assert f'href="/incidents/{incident.public_id}"' in page


def test_it_posts_an_update_that_changes_only_what_changed(responder, incident, components, client):
    since = last_audit_id()
    response = responder.post(f"/console/incidents/{incident.public_id}/update", update_form(
        incident, components, status="identified", impact="critical", body="The primary database failed over.",
        **{f"component_{components['zh2'].public_id}": "operational",
           f"component_{components['de1'].public_id}": "degraded_performance"},
    ))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.impact) == ("identified", "critical")
    update = incident.updates.order_by("-id").first()
    changed = {c.component.name: (c.old_status, c.new_status) for c in update.component_changes.select_related("component")}
    assert changed == {"zh2.cluster": ("partial_outage", "operational"), "de1.compact": ("operational", "degraded_performance")}
    assert audit_actions(since) == ["incident.update"]
    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert "The primary database failed over." in public


def test_it_resolves_with_one_button_and_reopens_from_the_same_form(responder, incident, components, client):
    since = last_audit_id()
    response = responder.post(f"/console/incidents/{incident.public_id}/resolve")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert set(statuses(incident).values()) == {"operational"}
    assert audit_actions(since) == ["incident.resolve"]

    page = responder.get(f"/console/incidents/{incident.public_id}").content.decode()
    assert "Reopen this incident" in page and 'data-shortcut="r"' not in page
    assert '<input type="hidden" name="reopen" value="True"' in page
    assert '"resolved"' not in field_block(page, "id_status")

    since = last_audit_id()
    response = responder.post(f"/console/incidents/{incident.public_id}/update", update_form(
        incident, components, status="investigating", body="The errors are back.",
        **{f"component_{components['zh1'].public_id}": "partial_outage"}))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("investigating", None)
    assert audit_actions(since) == ["incident.reopen"]
    assert "The errors are back." in client.get("/").content.decode()


def test_it_resolves_through_the_update_form_returning_components_to_operational(responder, incident, components):
    response = responder.post(f"/console/incidents/{incident.public_id}/update", update_form(
        incident, components, status="resolved", body="All good again."))
    assert response.status_code == 302
    assert set(statuses(incident).values()) == {"operational"}
    assert Incident.objects.get(pk=incident.pk).status == "resolved"


def test_an_update_to_an_incident_resolved_meanwhile_is_refused_not_reopened(responder, incident, components):
    stale_form = update_form(incident, components, status="monitoring", body="A fix is deployed.")
    services.resolve_incident(incident)  # by someone else, while this responder was typing
    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/update", stale_form)
    assert_refused_beside(response, "id_status", "the incident is resolved; reopen it to post a new update")
    assert row_counts() == before


@pytest.mark.parametrize("field, value, field_id, message", [
    ("status", "unknown", "id_status", "Select a valid choice."),
    ("impact", "huge", "id_impact", "Select a valid choice."),
    ("body", "y" * 100_001, "id_body", "at most 100000 characters"),
    ("component", "", "id_component", "This field is required."),
])
def test_it_refuses_a_bad_update_beside_the_field(responder, incident, components, field, value, field_id, message):
    if field == "component":  # an affected component cannot silently drop off the incident
        zh1 = components["zh1"].public_id
        field, field_id = f"component_{zh1}", f"id_component_{zh1}"
    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/update",
                              update_form(incident, components, **{field: value}))
    assert_refused_beside(response, field_id, message)
    assert row_counts() == before


def test_resolving_twice_says_why_and_saves_nothing(responder, incident):
    services.resolve_incident(incident)
    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/resolve")
    assert response.status_code == 400
    assert "Not resolved: the incident is resolved" in response.content.decode()
    assert row_counts() == before


def test_it_edits_the_title_and_impact(responder, incident):
    since = last_audit_id()
    response = responder.post(f"/console/incidents/{incident.public_id}/edit",
                              {"edit-name": "Database failover in zh1", "edit-impact": "minor"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.name, incident.impact) == ("Database failover in zh1", "minor")
    assert audit_actions(since) == ["incident.edit"]

    before = row_counts()
    response = responder.post(f"/console/incidents/{incident.public_id}/edit", {"edit-name": "", "edit-impact": "minor"})
    assert_refused_beside(response, "id_edit-name", "This field is required.")
    assert "<details class=\"card\" open>" in response.content.decode()
    assert row_counts() == before


# --- correcting an update's text ----------------------------------------------------------------------------


def test_it_corrects_an_update_and_every_reader_sees_it_was_edited(responder, incident, client, api):
    update = incident.updates.get()
    form = responder.get(f"/console/updates/{update.public_id}/edit")
    assert form.status_code == 200 and "Investigating." in form.content.decode()

    since = last_audit_id()
    response = responder.post(f"/console/updates/{update.public_id}/edit", {"body": "Investigating errors in zh1."})
    assert response.status_code == 302 and response["Location"] == f"/console/incidents/{incident.public_id}"
    update.refresh_from_db()
    assert update.body == "Investigating errors in zh1." and update.edited_at is not None
    assert audit_actions(since) == ["update.edit"]

    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert "Investigating errors in zh1." in public
    assert "Edited" in text(public[public.index('class="update__edited"') - 50:])
    console = responder.get(f"/console/incidents/{incident.public_id}").content.decode()
    assert 'class="edited">Edited' in console
    body = api.get(f"/api/v1/incidents/{incident.public_id}").json()
    assert body["updates"][0]["edited_at"] is not None


def test_saving_the_same_text_records_nothing(responder, incident):
    update = incident.updates.get()
    since = last_audit_id()
    response = responder.post(f"/console/updates/{update.public_id}/edit", {"body": update.body})
    assert response.status_code == 302
    assert audit_actions(since) == []
    assert IncidentUpdate.objects.get(pk=update.pk).edited_at is None


@pytest.mark.parametrize("body, message", [("z" * 100_001, "at most 100000 characters"),
                                           ("", "This field is required.")])
def test_a_bad_correction_is_refused(responder, incident, body, message):
    update = incident.updates.get()
    before = row_counts()
    response = responder.post(f"/console/updates/{update.public_id}/edit", {"body": body})
    assert_refused_beside(response, "id_body", message)
    assert row_counts() == before and IncidentUpdate.objects.get(pk=update.pk).body == "Investigating."


# --- a past incident ----------------------------------------------------------------------------------------


def backfill_form(components, **fields) -> dict:
    data = {"name": "Mail delays last week", "impact": "minor", "started_at": "2026-11-18T09:00",
            "resolved_at": "2026-11-18T10:30", "time_zone": "America/New_York",
            "body": "Mail was delayed by up to an hour.", "resolution_body": "Mail flows normally again."}
    for component in components.values():
        data[f"component_{component.public_id}"] = ""
    data[f"component_{components['mail'].public_id}"] = "degraded_performance"
    data.update(fields)
    return data


def test_it_records_a_past_incident_in_the_zone_the_responder_picked(responder, components, client):
    since = last_audit_id()
    response = responder.post("/console/incidents/backfill", backfill_form(components))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.retroactive and incident.status == "resolved"
    assert incident.started_at == datetime(2026, 11, 18, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert incident.resolved_at == datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
    assert not incident.updates.filter(deliver_notifications=True).exists()
    assert audit_actions(since) == ["incident.backfill"]
    public = client.get(f"/incidents/{incident.public_id}").content.decode()
    assert "Mail was delayed by up to an hour." in public and "recorded after it happened" in public


def test_the_backfill_form_defaults_to_the_page_zone(responder, components):
    page = responder.get("/console/incidents/backfill").content.decode()
    assert '<option value="Europe/Zurich" selected>' in field_block(page, "id_time_zone")


@pytest.mark.parametrize("field, value, field_id, message", [
    ("name", "", "id_name", "This field is required."),
    ("resolved_at", "2026-11-18T08:00", "id_resolved_at", "is before “Started at”"),
    ("resolved_at", "", "id_resolved_at", "This field is required."),
    ("started_at", "2027-03-14T02:30", "id_started_at", "does not exist in America/New_York"),
    ("resolved_at", "2099-01-01T00:00", "id_resolved_at", "is in the future"),
    ("time_zone", "Mars/Olympus", "id_time_zone", "Select a valid choice."),
])
def test_it_refuses_a_bad_backfill_beside_the_field(responder, components, field, value, field_id, message):
    before = row_counts()
    response = responder.post("/console/incidents/backfill", backfill_form(components, **{field: value}))
    assert_refused_beside(response, field_id, message)
    assert row_counts() == before


# --- the list, and who may do what ----------------------------------------------------------------------


def test_the_list_shows_open_incidents_first_then_resolved_ones_page_by_page(viewer, components):
    now = timezone.now()
    for n in range(27):
        services.backfill_incident(name=f"Past {n:02d}", started_at=now - timedelta(days=60 - n, hours=1),
                                   resolved_at=now - timedelta(days=60 - n))
    services.open_incident(name="Still burning", impact="critical", components={components["de1"]: "major_outage"})
    page = viewer.get("/console/incidents/").content.decode()
    assert page.index("Still burning") < page.index("Past 26")
    assert "de1.compact" in page and "Critical" in page
    assert "Past 02" in page and "Past 01" not in page and "Page 1 of 2" in page
    assert 'href="/console/incidents/new"' not in page  # a viewer reads only
    older = viewer.get("/console/incidents/?page=2").content.decode()
    assert "Past 01" in older and "Past 00" in older and "Still burning" in older


def test_the_lists_cost_the_same_queries_however_many_incidents(viewer, components):
    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get(path).status_code == 200
        return len(captured)

    def add(n: int) -> None:
        now = timezone.now()
        for k in range(n):
            services.open_incident(name=f"Open {k}", components={components["zh1"]: "partial_outage",
                                                                  components["mail"]: "major_outage"})
            services.backfill_incident(name=f"Past {k}", started_at=now - timedelta(days=k + 2),
                                       resolved_at=now - timedelta(days=k + 1),
                                       components={components["de1"]: "degraded_performance"})
            services.schedule_maintenance(name=f"Window {k}", scheduled_for=now + timedelta(days=k + 1),
                                          scheduled_until=now + timedelta(days=k + 1, hours=1),
                                          components=[components["zh2"], components["mail"]])

    add(2)
    few = queries("/console/incidents/"), queries("/console/maintenance/")
    add(8)
    assert (queries("/console/incidents/"), queries("/console/maintenance/")) == few


def test_a_viewer_reads_an_incident_but_gets_no_forms(viewer, incident):
    response = viewer.get(f"/console/incidents/{incident.public_id}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Database failover" in page and "Investigating." in page and "zh1.single" in page
    assert "Post an update" not in page and "Resolve" not in page and "Edit text" not in page


def test_a_viewer_gets_403_on_every_responder_page(viewer, incident):
    update = incident.updates.get()
    before = row_counts()
    for path in ["/console/incidents/new", "/console/incidents/backfill", f"/console/updates/{update.public_id}/edit",
                 f"/console/incidents/{incident.public_id}/update", f"/console/incidents/{incident.public_id}/resolve",
                 f"/console/incidents/{incident.public_id}/edit"]:
        assert viewer.get(path).status_code == 403, path
        assert viewer.post(path, {"name": "x", "status": "resolved", "body": "x"}).status_code == 403, path
    assert row_counts() == before


def test_a_visitor_is_sent_to_log_in(client, incident):
    response = client.get(f"/console/incidents/{incident.public_id}")
    assert response.status_code == 302 and response["Location"].startswith("/console/login?next=")
