"""Every status verb records exactly its events, inside its own transaction, carrying what consumers need:
the subject, the kind, when it happened, statuses before and after, the components touched, and whether
subscribers may be told. A refused write records none."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from signalpost.errors import InvalidInput
from signalpost.events.models import Event, Handling
from signalpost.postmortems import services as postmortems
from signalpost.status import services

MINUTE = timedelta(minutes=1)


@pytest.fixture
def recorded(db):
    """The events recorded since the fixture was made, oldest first, as (kind, subject)."""
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new() -> list[Event]:
        return list(Event.objects.filter(id__gt=last).order_by("id"))

    return new


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_opening_an_incident_records_one_event_with_the_statuses_it_changed(components, recorded):
    incident = services.open_incident(name="Volumes unreachable", impact="major", body="Investigating.",
                                      components={components["zh1"]: "major_outage"})
    [event] = recorded()
    assert (event.kind, event.subject, event.notify) == ("incident.opened", f"incident:{incident.public_id}", True)
    assert event.data["status"] == [None, "investigating"] and event.data["impact"] == [None, "major"]
    assert event.data["components"] == {components["zh1"].public_id: {
        "name": "zh1.single", "group": components["zh1"].group.public_id,
        "before": "operational", "after": "major_outage", "given": "major_outage"}}
    assert event.data["update"] == incident.updates.get().public_id
    assert event.occurred_at == incident.started_at
    # Every registered consumer has the event to work through.
    assert set(Handling.objects.filter(event=event).values_list("consumer", flat=True)) == {"publisher", "notifier"}


def test_updates_resolutions_reopenings_and_edits_each_record_their_kind(components, recorded):
    incident = services.open_incident(name="Slow API", components={components["de1"]: "degraded_performance"})
    services.post_update(incident, status="identified", body="A bad deploy.", impact="major",
                         components={components["de1"]: "partial_outage"})
    services.resolve_incident(incident, body="Rolled back.")
    services.post_update(incident, status="investigating", body="Again.", reopen=True)
    services.edit_incident(incident, name="Slow API after a deploy")
    services.edit_update(incident.updates.order_by("id").first(), body="Requests are slow.")
    events = recorded()
    assert kinds(events) == ["incident.opened", "incident.updated", "incident.resolved", "incident.reopened",
                             "incident.edited", "incident.update_edited"]
    updated, resolved, reopened, edited, corrected = events[1:]
    assert updated.data["status"] == ["investigating", "identified"] and updated.data["impact"] == ["minor", "major"]
    assert updated.data["components"][components["de1"].public_id]["before"] == "degraded_performance"
    assert updated.data["components"][components["de1"].public_id]["after"] == "partial_outage"
    # Resolving returns the components it held: the event says so.
    assert resolved.data["components"][components["de1"].public_id]["after"] == "operational"
    assert resolved.data["resolved_at"] is not None
    assert reopened.data["status"] == ["resolved", "investigating"]
    assert (edited.notify, edited.data["name_before"], edited.data["name"]) == (False, "Slow API", "Slow API after a deploy")
    assert corrected.notify is False  # a corrected text tells nobody again


def test_an_update_that_asks_not_to_notify_records_an_event_that_may_not(components, recorded):
    incident = services.open_incident(name="Slow API", deliver_notifications=False)
    services.post_update(incident, status="monitoring", body="Better.", deliver_notifications=True)
    assert [e.notify for e in recorded()] == [False, True]


def test_a_backfilled_incident_never_notifies(components, recorded):
    now = timezone.now()
    incident = services.backfill_incident(name="Old outage", started_at=now - 60 * MINUTE,
                                          resolved_at=now - 30 * MINUTE, components={components["zh2"]: "major_outage"})
    [event] = recorded()
    assert (event.kind, event.notify, event.data["retroactive"]) == ("incident.backfilled", False, True)
    assert event.occurred_at == incident.started_at
    # It changes what the bars show, not what the component is now.
    assert event.data["components"][components["zh2"].public_id]["before"] == "operational"
    assert event.data["components"][components["zh2"].public_id]["after"] == "operational"


def test_maintenance_records_scheduled_started_overran_and_completed(components, recorded):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Kernel upgrade", scheduled_for=now + MINUTE, scheduled_until=now + 30 * MINUTE,
        components=[components["de2"]], now=now)
    services.run_due_transitions(now + 2 * MINUTE)
    services.post_maintenance_update(maintenance, status="in_progress", body="Taking longer than anticipated.",
                                     scheduled_until=now + 60 * MINUTE, now=now + 25 * MINUTE)
    services.post_maintenance_update(maintenance, status="verifying", now=now + 50 * MINUTE)
    services.run_due_transitions(now + 61 * MINUTE)
    events = recorded()
    assert kinds(events) == ["maintenance.scheduled", "maintenance.started", "maintenance.overran",
                             "maintenance.updated", "maintenance.completed"]
    assert all(e.notify for e in events)
    assert all(e.subject == f"incident:{maintenance.public_id}" for e in events)
    started, overran, _, completed = events[1:]
    assert started.occurred_at == now + MINUTE  # its own time, not when the worker looked
    assert started.data["components"][components["de2"].public_id]["before"] == "operational"
    assert started.data["components"][components["de2"].public_id]["after"] == "under_maintenance"
    assert overran.data["scheduled_until"] == (now + 60 * MINUTE).isoformat()
    assert completed.occurred_at == now + 60 * MINUTE
    assert completed.data["components"][components["de2"].public_id]["after"] == "operational"


def test_a_window_entered_after_it_ended_takes_its_own_times_and_never_notifies(components, recorded):
    now = timezone.now()
    maintenance = services.schedule_maintenance(
        name="Last night's upgrade", scheduled_for=now - 120 * MINUTE, scheduled_until=now - 60 * MINUTE,
        components=[components["zh1"]], deliver_notifications=True, now=now)
    started, completed = services.run_due_transitions(now + MINUTE)
    maintenance.refresh_from_db()
    assert (maintenance.started_at, maintenance.resolved_at) == (now - 120 * MINUTE, now - 60 * MINUTE)
    assert (started.display_at, completed.display_at) == (now - 120 * MINUTE, now - 60 * MINUTE)
    assert [u.deliver_notifications for u in maintenance.updates.order_by("id")] == [False, False, False]
    assert [(e.kind, e.notify) for e in recorded()] == [
        ("maintenance.scheduled", False), ("maintenance.started", False), ("maintenance.completed", False)]


def test_automatic_transitions_notify_as_the_announcement_asked(components, recorded):
    now = timezone.now()
    services.schedule_maintenance(name="Quiet upgrade", scheduled_for=now + MINUTE, scheduled_until=now + 2 * MINUTE,
                                  components=[components["zh1"]], deliver_notifications=False, now=now)
    services.run_due_transitions(now + 3 * MINUTE)
    assert [(e.kind, e.notify) for e in recorded()] == [
        ("maintenance.scheduled", False), ("maintenance.started", False), ("maintenance.completed", False)]


def test_components_groups_overrides_and_the_page_record_their_events(page, recorded):
    group = services.create_group(name="Switzerland")
    component = services.create_component(name="zh1.single", group=group)
    services.update_component(component, description="The first ZH cluster")
    services.update_component(component, hidden=True)
    services.update_component(component, hidden=False)
    services.update_group(group, name="Schweiz")
    services.update_group(group, hidden=True)
    services.set_override(component, "partial_outage", "Rack down")
    services.clear_override(component)
    services.update_page(name="Example Status (renamed)")
    other = services.create_component(name="Mail delivery")
    services.reorder_top_level([other, group])
    events = recorded()
    assert kinds(events) == [
        "group.created", "component.created", "component.changed", "component.hidden", "component.shown",
        "group.changed", "group.hidden", "component.override_set", "component.override_cleared", "page.changed",
        "component.created", "page.changed",
    ]
    override = events[7]
    assert override.data["statuses"][component.public_id]["before"] == "operational"
    assert override.data["statuses"][component.public_id]["after"] == "partial_outage"
    assert events[8].data["statuses"][component.public_id]["after"] == "operational"
    assert events[9].data == {"what": "settings", "fields": {"before": {"name": "Example Status"},
                                                             "after": {"name": "Example Status (renamed)"}}}
    assert events[-1].data["what"] == "order"
    assert not any(e.notify for e in events)  # nothing here tells subscribers by itself yet


def test_a_write_that_changes_nothing_records_nothing(components, recorded):
    services.update_component(components["zh1"], name="zh1.single")
    services.update_page(name="Example Status")
    services.clear_override(components["zh1"])
    assert recorded() == []


@pytest.mark.parametrize("refused", [
    lambda c: services.open_incident(name="  "),
    lambda c: services.open_incident(name="Down", impact="maintenance"),
    lambda c: services.create_group(name="Switzerland"),
    lambda c: services.set_override(c["zh1"], "sideways"),
    lambda c: services.schedule_maintenance(name="Backwards", scheduled_for=timezone.now() + MINUTE,
                                            scheduled_until=timezone.now()),
])
def test_a_refused_write_records_no_event(components, recorded, refused):
    before = Event.objects.count()
    with pytest.raises(InvalidInput):
        with transaction.atomic():
            refused(components)
    assert Event.objects.count() == before


def test_a_second_start_is_refused_here_as_in_the_console(components, recorded):
    now = timezone.now()
    maintenance = services.schedule_maintenance(name="Upgrade", scheduled_for=now + MINUTE,
                                                scheduled_until=now + 9 * MINUTE, components=[components["zh1"]])
    services.start_maintenance(maintenance)
    with pytest.raises(InvalidInput, match="already in progress"):
        services.start_maintenance(maintenance)
    # Through the API or the CLI a start is an in-progress update that says nothing new: refused too.
    with pytest.raises(InvalidInput, match="already in progress"):
        services.post_maintenance_update(maintenance, status="in_progress")
    assert kinds(recorded()) == ["maintenance.scheduled", "maintenance.started"]


def test_a_rolled_back_change_leaves_no_event(components, recorded):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.open_incident(name="Never happened")
            raise RuntimeError("the request failed after the write")
    assert recorded() == []


def test_postmortems_record_published_changed_and_unpublished(components, recorded, django_user_model):
    from signalpost.accounts.models import Profile

    author = django_user_model.objects.create_user("ann")
    reviewer = django_user_model.objects.create_user("bob")
    for user in (author, reviewer):
        Profile.objects.create(user=user, role="responder")
    now = timezone.now()
    incident = services.backfill_incident(name="Slow API", started_at=now - 60 * MINUTE, resolved_at=now - 30 * MINUTE)
    pm = postmortems.create_postmortem(incidents=[incident], title="Slow API", summary="Slow.", author=author)
    postmortems.request_review(pm, user=author)
    postmortems.approve(pm, reviewer)
    postmortems.publish(pm, reviewer)
    postmortems.update_postmortem(pm, summary="Slow for half an hour.", user=author)
    postmortems.unpublish(pm, reviewer)
    events = [e for e in recorded() if e.kind.startswith("postmortem.")]
    assert kinds(events) == ["postmortem.published", "postmortem.changed", "postmortem.unpublished"]
    assert events[0].notify is True and events[0].data["incidents"] == [incident.public_id]
    assert all(e.subject == f"postmortem:{pm.public_id}" for e in events)
