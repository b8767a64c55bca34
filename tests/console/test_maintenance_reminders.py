"""A window's own reminders in the console: typed when it is scheduled (the page's default shown), shown
on its page, changed there before it starts, and refused beside the field when they are not times."""

from datetime import timedelta

from django.utils import timezone

from signalpost.status import services
from signalpost.status.models import Incident

from .events_support import assert_refused_beside, audit_actions, field_block, last_audit_id, text
from .test_maintenance import schedule_form


def window_section(page: str) -> str:
    return text(page[page.index('id="window-title"'):page.index('id="components-title"')])


def test_the_form_shows_the_page_default_and_schedules_with_the_window_own_reminders(responder, components):
    form = text(field_block(responder.get("/console/maintenance/new").content.decode(), "id_reminders"))
    assert "Remind subscribers before it starts" in form and "the page's default (24h, 1h before it starts)" in form

    response = responder.post("/console/maintenance/new", schedule_form(components, reminders="2h, 48h"))
    assert response.status_code == 302
    assert Incident.objects.get().reminders == [48 * 3600, 2 * 3600]
    assert "Reminders 48h, 2h before it starts" in window_section(responder.get(response["Location"]).content.decode())


def test_empty_means_the_page_default_and_none_means_no_reminders(responder, components):
    responder.post("/console/maintenance/new", schedule_form(components))
    responder.post("/console/maintenance/new", schedule_form(components, name="Quiet one", reminders="none"))
    default, quiet = Incident.objects.get(name="Storage upgrade"), Incident.objects.get(name="Quiet one")
    assert (default.reminders, quiet.reminders) == (None, [])
    page = responder.get(f"/console/maintenance/{default.public_id}").content.decode()
    assert "Reminders 24h, 1h before it starts (the page's default)" in window_section(page)
    assert "Reminders none" in window_section(responder.get(f"/console/maintenance/{quiet.public_id}")
                                              .content.decode())


def test_bad_reminders_are_refused_beside_the_field(responder, components):
    response = responder.post("/console/maintenance/new", schedule_form(components, reminders="24h, tomorrow"))
    assert_refused_beside(response, "id_reminders", '"tomorrow" is not a time before the start such as 24h or 30m')
    assert not Incident.objects.exists()


def test_the_reminders_of_a_scheduled_window_are_changed_on_its_page(responder, components):
    now = timezone.now()
    window = services.schedule_maintenance(name="Upgrade", scheduled_for=now + timedelta(days=2),
                                           scheduled_until=now + timedelta(days=2, hours=1))
    path = f"/console/maintenance/{window.public_id}"
    assert "Reminders before it starts" in responder.get(path).content.decode()
    since = last_audit_id()
    response = responder.post(f"{path}/reminders", {"reminders-reminders": "3h"})
    assert response.status_code == 302
    page = responder.get(path).content.decode()
    assert "Reminders saved: 3h before it starts." in text(page)
    assert "Reminders 3h before it starts" in window_section(page)
    assert audit_actions(since) == ["maintenance.edit"]

    refused = responder.post(f"{path}/reminders", {"reminders-reminders": "0m"})
    assert_refused_beside(refused, "id_reminders-reminders", '"0m" is not a time before the start')
    window.refresh_from_db()
    assert window.reminders == [3 * 3600]

    responder.post(f"{path}/reminders", {"reminders-reminders": ""})
    window.refresh_from_db()
    assert window.reminders is None
