"""The notifier: a consumer of the status page's events that turns each one subscribers may be told of
into one Delivery per subscriber who hears about it, in one transaction per batch of events.

Who hears about an event: every active subscriber to all components, and those subscribed to one of the
components it touches (an incident's or window's components, those its update changed; a postmortem's
incidents' components; the component itself). Each delivery's key is "<event id>.<subscriber id>", and
a key already there is skipped: an event handled twice (a worker killed before it marked the
event done) makes nothing twice. The deliveries are written by one INSERT ... SELECT over the audience,
so an event for 100,000 subscribers never holds them in memory.

Reminders before a maintenance window (the window's own, else SIGNALPOST_NOTIFY_REMINDERS, 24 h and
1 h) are events too, `maintenance.reminder`, recorded by the worker's clock once each (a key names the
window, the offset and the start, so a window moved to a new time is reminded again, and one whose
reminders are changed after one was sent does not send that one again).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from signalpost.events import wake
from signalpost.events.consumers import Consumer
from signalpost.events.models import Event
from signalpost.events.record import record as record_event
from signalpost.events.work import Work
from signalpost.status import reminders
from signalpost.status.models import (ComponentStatus, Incident, IncidentComponent, IncidentStatus, IncidentUpdate,
                                      Kind, MaintenanceStatus)

from .models import Channel, Delivery, DeliveryState, Subscriber

log = logging.getLogger("signalpost.notify")

CONSUMER = Consumer(name="notifier", handler="signalpost.notify.consumer.handle",
                    kinds=("incident.", "maintenance.", "postmortem.published", "component."), batch=True,
                    batch_size=20, lease_seconds=600)

TOPIC = "deliveries"  # what the delivery job is woken by

# What subscribers are told of, when the event says notify.
TOLD = {
    "incident.opened", "incident.updated", "incident.resolved", "incident.reopened",
    "maintenance.scheduled", "maintenance.updated", "maintenance.overran", "maintenance.started",
    "maintenance.completed", "maintenance.cancelled", "maintenance.reminder",
    "postmortem.published",
}
# A component's status set or cleared by hand: told only when the team enables it.
COMPONENT_CHANGES = {"component.override_set", "component.override_cleared"}



def _label(choices, value: str | None) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value or ""


def about(event: Event) -> str:
    """What a delivery tells, in a few words, for the lists and the digest."""
    data = event.data
    if event.kind.startswith(("incident.", "maintenance.")):
        if event.kind == "maintenance.reminder":
            return f"{data.get('name', '')}: starts {data.get('reminder_text', 'soon')}"[:300]
        choices = MaintenanceStatus if data.get("incident_kind") == Kind.MAINTENANCE else IncidentStatus
        status = (data.get("status") or [None, None])[-1]
        return f"{data.get('name', '')}: {_label(choices, status)}"[:300]
    if event.kind.startswith("postmortem."):
        return f"Postmortem: {data.get('title', '')}"[:300]
    if event.kind.startswith("component."):
        change = next(iter((data.get("statuses") or {}).values()), {})
        return f"{data.get('name', '')}: {_label(ComponentStatus, change.get('after'))}"[:300]
    return event.kind


def component_changed(event: Event) -> bool:
    return any(c.get("before") != c.get("after") for c in (event.data.get("statuses") or {}).values())


def is_told(event: Event) -> bool:
    if event.kind in TOLD:
        return event.notify
    if event.kind in COMPONENT_CHANGES:
        return settings.NOTIFY_COMPONENT_CHANGES and component_changed(event)
    return False


def touched_components(event: Event) -> set[str]:
    """The public ids of the components the event is about."""
    data = event.data
    if event.kind.startswith(("incident.", "maintenance.")):
        linked = IncidentComponent.objects.filter(incident__public_id=data.get("incident")).values_list(
            "component__public_id", flat=True)
        return set(data.get("components") or {}) | set(linked)
    if event.kind.startswith("postmortem."):
        return set(IncidentComponent.objects.filter(incident__public_id__in=data.get("incidents") or [])
                   .values_list("component__public_id", flat=True))
    if event.kind.startswith("component."):
        return {data.get("component")}
    return set()


def audience(event: Event):
    """The active subscribers who hear about the event: (id, channel, address) rows."""
    wanted = Q(all_components=True)
    components = touched_components(event)
    if components:
        chosen = Subscriber.components.through.objects.filter(component__public_id__in=components)
        wanted |= Q(pk__in=chosen.values("subscriber_id"))
    subscribers = Subscriber.objects.active().filter(wanted)
    if not settings.SMTP_CONFIGURED:
        subscribers = subscribers.exclude(channel=Channel.EMAIL)  # e-mail is off without a mail server
    return subscribers.order_by().values_list("id", "channel", "address")


def make_deliveries(event: Event, now: datetime | None = None) -> int:
    """One Delivery per subscriber who hears about the event (none twice). Returns how many were made.

    One INSERT ... SELECT over the audience: the rows never pass through Python, so an event for
    100,000 subscribers is written in about a second and holds nothing in memory."""
    if not is_told(event):
        return 0
    now = now or timezone.now()
    audience_sql, audience_params = audience(event).query.sql_with_params()
    table, quote = Delivery._meta.db_table, connection.ops.quote_name
    columns = ", ".join(quote(c) for c in (
        "key", "event_id", "event_kind", "subject", "about", "subscriber_id", "channel", "address", "state",
        "attempts", "created_at", "due_at", "claimed_by", "last_error"))
    when = connection.ops.adapt_datetimefield_value(now)
    # "WHERE true": SQLite needs it to tell the upsert's ON CONFLICT from a join's ON.
    sql = (f"INSERT INTO {quote(table)} ({columns}) "
           f"SELECT %s || CAST(s.id AS VARCHAR(20)), %s, %s, %s, %s, s.id, s.channel, s.address, %s, 0, %s, %s, '', '' "
           f"FROM ({audience_sql}) s WHERE true ON CONFLICT ({quote('key')}) DO NOTHING")
    params = (f"{event.pk}.", event.pk, event.kind, event.subject, about(event), DeliveryState.PENDING, when, when,
              *audience_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def handle(works: list[Work]) -> dict:
    with transaction.atomic():
        made = 0
        for work in works:
            count = make_deliveries(work.event)
            if count:
                log.info("%s: %s deliveries for %s", work.event.kind, count, work.event.subject)
            made += count
        if made:
            wake.announce(TOPIC)
    return {}


# --- reminders before a maintenance window ---------------------------------------------------------


def _in_words(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    minutes = seconds // 60
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"


def record_due_reminders(now: datetime | None = None) -> list[str]:
    """Record a `maintenance.reminder` for each window announced with notifications whose reminder
    time has come: the shortest offset reached, and only if the window was announced before it (one
    announced 3 hours ahead gets the 1-hour reminder, not a late 24-hour one). Once each, however many
    workers run. Each window follows its own reminders, or the page's when it has none. Returns the keys
    recorded."""
    now = now or timezone.now()
    page = reminders.default()
    longest = max(page + [reminders.LONGEST])  # no window's own reminder comes earlier than this
    windows = Incident.objects.filter(kind=Kind.MAINTENANCE, status=MaintenanceStatus.SCHEDULED,
                                      scheduled_for__gt=now, scheduled_for__lte=now + timedelta(seconds=longest))
    recorded = []
    for window in windows:
        left = window.scheduled_for - now
        reached = [o for o in reminders.of(window) if left <= timedelta(seconds=o)]
        if not reached:
            continue
        offset = min(reached)
        told = max(window.created_at, window.reminders_changed_at or window.created_at)
        if told > window.scheduled_for - timedelta(seconds=offset):
            continue  # announced (or this reminder set) within its span: too late to remind at that time
        key = f"maintenance.reminder:{window.public_id}:{offset}:{window.scheduled_for.isoformat()}"
        if Event.objects.filter(key=key).exists():
            continue
        announcement = (IncidentUpdate.objects.filter(incident=window, status=MaintenanceStatus.SCHEDULED)
                        .order_by("created_at").first())
        if announcement is None or not announcement.deliver_notifications:
            continue
        components = {link.component.public_id: {"name": link.component.name, "given": None, "before": None,
                                                  "after": None}
                      for link in IncidentComponent.objects.filter(incident=window).select_related("component")}
        with transaction.atomic():
            if record_event("maintenance.reminder", f"incident:{window.public_id}", notify=True, key=key,
                            occurred_at=now, data={
                                "incident": window.public_id, "incident_kind": window.kind, "name": window.name,
                                "update": None, "status": [window.status, window.status],
                                "components": components, "reminder": offset, "reminder_text": _in_words(offset),
                                "scheduled_for": window.scheduled_for.isoformat(),
                                "scheduled_until": window.scheduled_until.isoformat(),
                            }):
                recorded.append(key)
    return recorded
