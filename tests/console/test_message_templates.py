"""Message templates: the defaults a new installation starts with, managing them in the console (one
audit entry per change), and how the update forms offer them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from signalpost.console import services as console_services
from signalpost.console.models import MessageTemplate
from signalpost.status import services
from signalpost.errors import InvalidInput

from .events_support import (
    assert_refused_beside,
    audit_actions,
    field_block,
    last_audit_id,
    row_counts,
)


def test_a_new_installation_has_sensible_defaults(db):
    names = {(t.kind, t.name): t.status for t in MessageTemplate.objects.all()}
    assert names == {
        ("incident", "Investigating"): "investigating", ("incident", "Identified"): "identified",
        ("incident", "Monitoring"): "monitoring", ("incident", "Resolved"): "resolved",
        ("maintenance", "Scheduled"): "scheduled", ("maintenance", "Overrunning"): "",
        ("maintenance", "Completed"): "completed",
    }
    overrunning = MessageTemplate.objects.get(kind="maintenance", name="Overrunning")
    assert "taking longer than anticipated" in overrunning.body


def test_it_adds_edits_and_deletes_a_template_with_one_audit_entry_each(responder, components):
    since = last_audit_id()
    response = responder.post("/console/templates/new", {
        "name": "Upstream provider", "kind": "incident", "status": "identified",
        "body": "The problem lies with an **upstream provider**; we are in contact with them.", "position": "",
    })
    assert response.status_code == 302 and response["Location"] == "/console/templates/"
    template = MessageTemplate.objects.get(name="Upstream provider")
    assert (template.kind, template.status) == ("incident", "identified")
    assert audit_actions(since) == ["template.create"]

    listing = responder.get("/console/templates/").content.decode()
    assert "Upstream provider" in listing and "Overrunning" in listing
    form = responder.get(f"/console/templates/{template.pk}/edit").content.decode()
    assert "upstream provider" in form and '<option value="identified" selected>' in form

    since = last_audit_id()
    response = responder.post(f"/console/templates/{template.pk}/edit", {
        "name": "Upstream provider", "kind": "incident", "status": "",
        "body": "The problem lies with an upstream provider.", "position": "3",
    })
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.status, template.position) == ("", 3)
    assert audit_actions(since) == ["template.update"]

    since = last_audit_id()  # saving it unchanged records nothing
    responder.post(f"/console/templates/{template.pk}/edit", {
        "name": "Upstream provider", "kind": "incident", "status": "",
        "body": "The problem lies with an upstream provider.", "position": "3",
    })
    assert audit_actions(since) == []

    since = last_audit_id()
    response = responder.post(f"/console/templates/{template.pk}/delete")
    assert response.status_code == 302
    assert not MessageTemplate.objects.filter(pk=template.pk).exists()
    assert audit_actions(since) == ["template.delete"]
    assert responder.post(f"/console/templates/{template.pk}/delete").status_code == 404


@pytest.mark.parametrize("fields, field_id, message", [
    ({"name": ""}, "id_name", "This field is required."),
    ({"name": "Investigating"}, "id_name", 'an incident template named "Investigating" already exists'),
    ({"kind": "outage"}, "id_kind", "Select a valid choice."),
    ({"kind": "maintenance", "status": "investigating"}, "id_status", '"investigating" is not a status of maintenance'),
    ({"status": "fixed"}, "id_status", "Select a valid choice."),
    ({"body": ""}, "id_body", "This field is required."),
    ({"body": "   "}, "id_body", "must not be empty"),
    ({"body": "t" * 100_001}, "id_body", "at most 100000 characters"),
    ({"position": "-1"}, "id_position", "greater than or equal to 0"),
])
def test_it_refuses_a_bad_template_beside_the_field(responder, fields, field_id, message):
    before = row_counts()
    data = {"name": "Provider problem", "kind": "incident", "status": "", "body": "Text.", "position": "", **fields}
    response = responder.post("/console/templates/new", data)
    assert_refused_beside(response, field_id, message)
    assert row_counts() == before


def test_editing_into_a_taken_name_is_refused(responder):
    template = MessageTemplate.objects.get(kind="incident", name="Monitoring")
    before = row_counts()
    response = responder.post(f"/console/templates/{template.pk}/edit", {
        "name": "Resolved", "kind": "incident", "status": "monitoring", "body": template.body, "position": "",
    })
    assert_refused_beside(response, "id_name", 'an incident template named "Resolved" already exists')
    assert row_counts() == before


def test_the_update_forms_offer_the_templates_of_their_kind(responder, components):
    console_services.create_template(name="Provider", kind="incident", status="identified", body='Our "provider" <b>is</b> down.')
    page = responder.get("/console/incidents/new").content.decode()
    picker = field_block(page, "template-picker")
    assert 'data-template-for="id_body"' in picker
    assert 'data-body="Our &quot;provider&quot; &lt;b&gt;is&lt;/b&gt; down." data-status="identified">Provider (Identified)' in picker
    assert "Overrunning" not in picker

    tomorrow = timezone.now() + timedelta(days=1)
    later = services.schedule_maintenance(name="Patching", scheduled_for=tomorrow,
                                          scheduled_until=tomorrow + timedelta(hours=2))
    page = responder.get(f"/console/maintenance/{later.public_id}").content.decode()
    picker = field_block(page, "template-picker")
    assert "Overrunning" in picker and "Provider" not in picker


def test_a_viewer_gets_403_on_every_template_page(viewer):
    template = MessageTemplate.objects.first()
    before = row_counts()
    for path in ["/console/templates/", "/console/templates/new", f"/console/templates/{template.pk}/edit",
                 f"/console/templates/{template.pk}/delete"]:
        assert viewer.get(path).status_code == 403, path
        assert viewer.post(path, {"name": "x", "kind": "incident", "body": "x"}).status_code == 403, path
    assert row_counts() == before


def test_a_template_cannot_preselect_a_status_of_the_other_kind(db):
    with pytest.raises(InvalidInput) as refused:
        console_services.create_template(name="X", kind="incident", status="completed", body="Done.")
    assert refused.value.field == "status"
