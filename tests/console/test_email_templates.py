"""Editing the notification e-mails' wording in the console: the form starts from the wording in use,
a preview renders it on made-up values without saving, a template that does not compile is refused
beside its field, saving makes the next e-mails use it, and a reset goes back to Signalpost's own."""

import pytest
from django.urls import reverse

from signalpost.accounts.models import AuditEvent
from signalpost.notify import email
from signalpost.notify.models import EmailTemplate

from .events_support import signed_in


@pytest.fixture
def admin_client(client, page):
    return signed_in(client, "ada", "admin")


def test_a_responder_may_not_edit_the_e_mails(client, page):
    signed_in(client, "rita", "responder")
    assert client.get(reverse("console:email_template", args=["incident"])).status_code == 403


def test_the_form_starts_from_the_default_wording(admin_client):
    page = admin_client.get(reverse("console:email_template", args=["incident"])).content.decode()
    assert "[{{ page }}] {{ name }}: {{ status }}" in page
    assert "Signalpost&#x27;s wording" in page or "Signalpost's wording" in page
    assert admin_client.get(reverse("console:email_template", args=["nosuchkind"])).status_code == 404


def test_a_preview_renders_made_up_values_and_saves_nothing(admin_client):
    response = admin_client.post(reverse("console:email_template", args=["incident"]), {
        "subject": "{{ page }} — {{ name }} is {{ status|lower }}", "text": "", "html": "", "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Example Status — Volumes unreachable is investigating" in page
    assert "We are investigating errors on" in page  # the default text, with its values
    assert not EmailTemplate.objects.exists() and not AuditEvent.objects.filter(action__startswith="email").exists()


def test_a_template_that_does_not_compile_is_refused_beside_its_field(admin_client):
    response = admin_client.post(reverse("console:email_template", args=["incident"]), {
        "subject": "ok", "text": "{% if name %}no end", "html": ""})
    assert response.status_code == 400
    page = response.content.decode()
    field = page[page.index('id="id_text"'):]
    assert "is not a valid template" in field[:1500]
    assert not EmailTemplate.objects.exists()


def test_saving_makes_the_next_e_mails_use_it_and_reset_goes_back(admin_client):
    response = admin_client.post(reverse("console:email_template", args=["incident"]), {
        "subject": "{{ page }}: {{ name }} ({{ status }})", "text": "", "html": ""})
    assert response.status_code == 302
    own = EmailTemplate.objects.get(kind="incident")
    assert own.text == "" and own.html == ""  # the parts left as they were stay the default
    context = {"page": "Example Status", "name": "Volumes unreachable", "status": "Identified", "components": []}
    assert email.render("incident.updated", context).subject == "Example Status: Volumes unreachable (Identified)"
    [entry] = AuditEvent.objects.filter(action="email_template.save")
    assert entry.actor == "ada" and entry.object_id == "incident"

    admin_client.post(reverse("console:email_template_reset", args=["incident"]))
    assert not EmailTemplate.objects.exists()
    assert email.render("incident.updated", context).subject == "[Example Status] Volumes unreachable: Identified"
    assert AuditEvent.objects.filter(action="email_template.reset").count() == 1
