"""What subscribers are told of: maintenance and its reminders, postmortems, and a component's status
set by hand only when the team enables it."""

from datetime import timedelta

from django.utils import timezone

from signalpost.events.models import Event
from signalpost.jobs import jobs
from signalpost.notify.consumer import record_due_reminders
from signalpost.status import services

from .conftest import notify_and_send, subscribe


def test_a_window_is_announced_reminded_a_day_and_an_hour_before_and_started(sink, components):
    subscribe("de@example.com", components["de1"])
    subscribe("zh@example.com", components["zh1"])
    now = timezone.now()
    window = services.schedule_maintenance(name="Database upgrade", scheduled_for=now + timedelta(days=3),
                                           scheduled_until=now + timedelta(days=3, hours=2),
                                           components=[components["de1"]], body="Expect a short pause.")
    notify_and_send()
    [announced] = sink.messages()
    assert announced["To"] == "de@example.com"
    assert announced["Subject"] == "[Example Status] Database upgrade: Scheduled"
    assert "Expect a short pause." in announced.get_body(("plain",)).get_content()

    start = window.scheduled_for
    assert record_due_reminders(start - timedelta(days=2)) == []  # not yet
    assert len(record_due_reminders(start - timedelta(hours=23))) == 1
    assert record_due_reminders(start - timedelta(hours=22)) == []  # once
    assert len(record_due_reminders(start - timedelta(minutes=59))) == 1
    notify_and_send()
    subjects = [m["Subject"] for m in sink.messages()]
    # Both went in one batch, over connections used in parallel: they may arrive in either order.
    assert sorted(subjects[1:]) == ["[Example Status] Reminder: Database upgrade in 1 hour",
                                    "[Example Status] Reminder: Database upgrade in 24 hours"]
    assert set(sink.recipients()) == {"de@example.com"}

    services.start_maintenance(window)
    notify_and_send()
    assert sink.messages()[-1]["Subject"] == "[Example Status] Database upgrade: In progress"


def test_a_window_announced_three_hours_ahead_gets_only_the_one_hour_reminder(sink, components):
    now = timezone.now()
    window = services.schedule_maintenance(name="Soon", scheduled_for=now + timedelta(hours=3),
                                           scheduled_until=now + timedelta(hours=4))
    assert record_due_reminders(now + timedelta(minutes=1)) == []
    [key] = record_due_reminders(window.scheduled_for - timedelta(minutes=30))
    assert ":3600:" in key


def test_a_window_announced_without_notifications_is_not_reminded(components):
    now = timezone.now()
    services.schedule_maintenance(name="Quiet", scheduled_for=now + timedelta(hours=3),
                                  scheduled_until=now + timedelta(hours=4), deliver_notifications=False)
    assert record_due_reminders(now + timedelta(hours=2, minutes=30)) == []


def test_the_clock_job_records_reminders(components):
    now = timezone.now()
    services.schedule_maintenance(name="Soon", scheduled_for=now + timedelta(minutes=30),
                                  scheduled_until=now + timedelta(hours=1))
    # Announced 30 minutes ahead: inside the 1-hour span already, so nothing to remind of.
    clock = next(job for job in jobs() if job.name == "clock")
    clock.run_once(None)
    assert not Event.objects.filter(kind="maintenance.reminder").exists()


def test_a_component_status_set_by_hand_notifies_only_when_enabled(sink, settings, components):
    subscribe("zh@example.com", components["zh1"])
    subscribe("de@example.com", components["de1"])
    services.set_override(components["zh1"], "partial_outage")
    notify_and_send()
    assert sink.recipients() == {}

    settings.NOTIFY_COMPONENT_CHANGES = True
    services.set_override(components["zh1"], "major_outage")
    notify_and_send()
    [mail] = sink.messages()
    assert mail["To"] == "zh@example.com"
    assert mail["Subject"] == "[Example Status] zh1.single: Major outage"
    assert "was Partial outage" in mail.get_body(("plain",)).get_content()


def test_a_published_postmortem_reaches_its_incidents_components_subscribers(sink, components):
    from django.contrib.auth import get_user_model

    from signalpost.accounts.models import Profile
    from signalpost.postmortems import services as postmortems

    subscribe("zh@example.com", components["zh1"])
    subscribe("de@example.com", components["de1"])
    incident = services.open_incident(name="Outage", components={components["zh1"]: "major_outage"},
                                      deliver_notifications=False)
    services.resolve_incident(incident, deliver_notifications=False)
    postmortem = postmortems.create_postmortem(incidents=[incident], title="What happened",
                                               summary="A disk *filled up*.")
    postmortems.request_review(postmortem)
    reviewer = get_user_model().objects.create(username="bob")
    Profile.objects.get_or_create(user=reviewer, defaults={"role": "responder"})
    postmortems.approve(postmortem, reviewer)
    postmortems.publish(postmortem)
    notify_and_send()
    [mail] = sink.messages()
    assert mail["To"] == "zh@example.com" and mail["Subject"] == "[Example Status] Postmortem: What happened"
    assert "<em>filled up</em>" in mail.get_body(("html",)).get_content()
    assert f"/postmortems/{postmortem.public_id}" in mail.get_body(("plain",)).get_content()
