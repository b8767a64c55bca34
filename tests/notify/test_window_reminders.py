"""Reminders follow each window's own times before its start: subscribers are told at those times, not
the page's; a window with none is not reminded; changing a window's reminders after one was sent does not
send that one again."""

from datetime import timedelta

from django.utils import timezone

from signalpost.notify import formats
from signalpost.notify.consumer import record_due_reminders
from signalpost.status import services

from .conftest import notify_and_send, subscribe


def window(components, **fields):
    now = timezone.now()
    return services.schedule_maintenance(name="Database upgrade", scheduled_for=now + timedelta(days=3),
                                         scheduled_until=now + timedelta(days=3, hours=2),
                                         components=[components["de1"]], **fields)


def test_subscribers_are_reminded_at_the_window_own_times(sink, components):
    subscribe("de@example.com", components["de1"])
    start = window(components, reminders=["48h", "30m"]).scheduled_for
    notify_and_send()  # the announcement
    assert record_due_reminders(start - timedelta(hours=49)) == []
    assert record_due_reminders(start - timedelta(hours=47)) != []
    notify_and_send()  # each before the next: the order they arrive in is the order they were sent
    assert record_due_reminders(start - timedelta(hours=23)) == []  # not the page's 24-hour one
    assert record_due_reminders(start - timedelta(minutes=59)) == []  # nor its 1-hour one
    assert record_due_reminders(start - timedelta(minutes=29)) != []
    notify_and_send()
    assert [m["Subject"] for m in sink.messages()][1:] == [
        "[Example Status] Reminder: Database upgrade in 48 hours",
        "[Example Status] Reminder: Database upgrade in 30 minutes"]


def test_a_window_without_reminders_is_not_reminded(sink, components, settings):
    subscribe("de@example.com", components["de1"])
    start = window(components, reminders=[]).scheduled_for
    for before in (timedelta(hours=23), timedelta(minutes=59), timedelta(minutes=1)):
        assert record_due_reminders(start - before) == []
    notify_and_send()
    assert len(sink.messages()) == 1  # the announcement alone


def test_a_window_without_its_own_follows_the_page_setting(components, settings):
    settings.NOTIFY_REMINDERS = [2 * 3600]
    start = window(components).scheduled_for
    assert record_due_reminders(start - timedelta(hours=23)) == []
    [key] = record_due_reminders(start - timedelta(hours=1, minutes=59))
    assert f":{2 * 3600}:" in key


def test_changing_the_reminders_after_one_was_sent_does_not_send_it_again(sink, components):
    subscribe("de@example.com", components["de1"])
    maintenance = window(components, reminders=["24h"])
    start = maintenance.scheduled_for
    assert len(record_due_reminders(start - timedelta(hours=23))) == 1
    notify_and_send()
    services.edit_incident(maintenance, reminders=["24h", "1h"])
    assert record_due_reminders(start - timedelta(hours=22)) == []  # the 24-hour one is sent already
    assert len(record_due_reminders(start - timedelta(minutes=59))) == 1
    notify_and_send()
    # The announcement and the first reminder go in one batch over several connections: in either order.
    assert sorted(m["Subject"] for m in sink.messages()) == [
        "[Example Status] Database upgrade: Scheduled",
        "[Example Status] Reminder: Database upgrade in 1 hour",
        "[Example Status] Reminder: Database upgrade in 24 hours"]


def test_a_reminder_added_after_its_time_is_not_sent_late(components):
    now = timezone.now()
    maintenance = services.schedule_maintenance(name="Soon", scheduled_for=now + timedelta(hours=30),
                                                scheduled_until=now + timedelta(hours=31), reminders=["24h"],
                                                now=now - timedelta(days=3))  # announced days ago
    start = maintenance.scheduled_for
    services.edit_incident(maintenance, reminders=["48h", "24h"])  # 48 hours before has passed already
    assert record_due_reminders(now + timedelta(minutes=1)) == []
    [key] = record_due_reminders(start - timedelta(hours=23))
    assert f":{24 * 3600}:" in key


def test_the_webhook_body_says_whether_the_window_is_reminded(components):
    assert formats.incident_body(window(components).pk)["incident"]["scheduled_remind_prior"] is True
    quiet = window(components, reminders=[])
    assert formats.incident_body(quiet.pk)["incident"]["scheduled_remind_prior"] is False
