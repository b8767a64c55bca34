"""Telling the team (never the subscribers) when monitors change state, through the team's channels that
take "monitor.state_changed" (signalpost/notify/team.py).

- The consumer "monitor_alerts" turns each `monitor.state_changed` event into a MonitorAlert, keyed by
  the event: the event handled twice makes one alert. A monitor whose linked components are all under
  a running maintenance gets its alert silenced (kept, never sent). Learning a first verdict (a new
  monitor's first good check) is not worth an alert.
- The job "monitor_messages" gathers the alerts: once the oldest waiting one is
  SIGNALPOST_MONITOR_ALERT_WINDOW (30 s) old, every alert waiting goes out in one message, so that many
  monitors failing together make one message. It reminds the team of a monitor still down at most every
  SIGNALPOST_MONITOR_ALERT_REMINDER_MINUTES (60), and sends the messages: each channel that took a
  message is remembered with it, so a retry (with back-off) tells only the others.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from signalpost.events.consumers import Consumer
from signalpost.events.work import Work, claimed_ids
from signalpost.notify import team
from signalpost.notify.models import TeamAlert
from signalpost.presentation.times import duration_text
from signalpost.presentation.zone import page_zone
from signalpost.status import derive
from signalpost.status.layout import in_page_order
from signalpost.status.models import Component, ComponentStatus

from .models import (
    AlertKind,
    AlertMessage,
    AutoIncident,
    AutoIncidentState,
    Monitor,
    MonitorAlert,
    MonitorComponent,
    State,
)

log = logging.getLogger("signalpost.monitors")

CONSUMER = Consumer(name="monitor_alerts", handler="signalpost.monitors.alerts.handle",
                    kinds=("monitor.state_changed",))
KIND = TeamAlert.MONITOR.value
MAX_BACKOFF_SECONDS = 300
LEASE = timedelta(seconds=60)


def under_maintenance(monitor: Monitor, at: datetime) -> bool:
    """Whether every component the monitor is linked to is under a running maintenance at `at`."""
    ids = list(MonitorComponent.objects.filter(monitor=monitor).values_list("component_id", flat=True))
    if not ids:
        return False
    reasons = derive.status_reasons(ids, at)
    return all(any(r.kind == "maintenance" for r in reasons.get(cid, [])) for cid in ids)


def handle(work: Work) -> None:
    event, data = work.event, work.event.data or {}
    before, after = (data.get("state") or [None, None])[:2]
    if before == State.UNKNOWN and after == State.UP or after == State.UNKNOWN:
        return
    monitor = Monitor.objects.filter(public_id=data.get("monitor")).first()
    if monitor is None:
        return
    MonitorAlert.objects.get_or_create(key=f"change:{event.pk}", defaults={
        "monitor": monitor, "kind": AlertKind.CHANGE, "at": event.occurred_at, "from_state": before,
        "to_state": after, "reason": (data.get("reason") or "")[:500],
        "silenced": under_maintenance(monitor, event.occurred_at)})


def remind(now: datetime) -> int:
    """An alert for each monitor still down whose last alert is REMINDER_MINUTES old. Returns how many."""
    every = timedelta(minutes=max(1, settings.MONITOR_ALERT_REMINDER_MINUTES))
    made = 0
    for monitor in Monitor.objects.filter(state=State.DOWN, paused=False, state_changed_at__isnull=False):
        last = (MonitorAlert.objects.filter(monitor=monitor, at__gte=monitor.state_changed_at)
                .aggregate(at=Max("at"))["at"])
        if last is None or now - last < every:
            continue  # its change is not told yet, or was told (or reminded) recently
        slot = int((now - monitor.state_changed_at) / every)
        _, created = MonitorAlert.objects.get_or_create(
            key=f"reminder:{monitor.pk}:{int(monitor.state_changed_at.timestamp())}:{slot}", defaults={
                "monitor": monitor, "kind": AlertKind.REMINDER, "at": now, "from_state": State.DOWN,
                "to_state": State.DOWN, "reason": monitor.state_reason,
                "silenced": under_maintenance(monitor, now)})
        made += created
    return made


def gather(now: datetime) -> AlertMessage | None:
    """One message with every alert waiting, once the oldest has waited the window; None before."""
    window = timedelta(seconds=settings.MONITOR_ALERT_WINDOW_SECONDS)
    waiting = MonitorAlert.objects.filter(message__isnull=True, silenced=False, at__lte=now)
    oldest = waiting.aggregate(at=Min("at"))["at"]
    if oldest is None or now - oldest < window:
        return None
    with transaction.atomic():
        ids = list(waiting.order_by("at", "id").values_list("pk", flat=True))
        message = AlertMessage.objects.create(title="", body="", created_at=now, due_at=now)
        # The claim: an alert another worker gathered meanwhile is not taken again.
        taken = MonitorAlert.objects.filter(pk__in=ids, message__isnull=True).update(message=message)
        if not taken:
            message.delete()
            return None
        alerts = list(message.alerts.select_related("monitor").order_by("at", "id"))
        message.title, message.body = compose(alerts, now)
        message.save(update_fields=["title", "body"])
    return message


STATE_WORDS = {State.DOWN: "down", State.DEGRADED: "degraded", State.UP: "up", State.UNKNOWN: "unknown"}


def _headline(alert: MonitorAlert) -> str:
    if alert.kind == AlertKind.REMINDER:
        return f"{alert.monitor.name} is still down"
    if alert.to_state == State.UP:
        return f"{alert.monitor.name} is up again"
    return f"{alert.monitor.name} is {STATE_WORDS[alert.to_state]}"


def compose(alerts: list[MonitorAlert], now: datetime) -> tuple[str, str]:
    """The title and body of one message about these alerts: what changed, why, since when, the
    components and the incident, with links."""
    zone = page_zone()
    if len(alerts) == 1:
        title = _headline(alerts[0])
    else:
        counts: dict[str, int] = {}
        for alert in alerts:
            word = "still down" if alert.kind == AlertKind.REMINDER else STATE_WORDS[alert.to_state]
            counts[word] = counts.get(word, 0) + 1
        title = f"{len(alerts)} monitors changed state: " + ", ".join(f"{n} {word}" for word, n in counts.items())
    links: dict[int, list[MonitorComponent]] = {}
    for link in MonitorComponent.objects.filter(monitor__in={a.monitor_id for a in alerts}).select_related(
            "component__group"):
        links.setdefault(link.monitor_id, []).append(link)
    incidents = {}
    for auto in AutoIncident.objects.filter(monitor__in={a.monitor_id for a in alerts},
                                            incident__isnull=False).select_related("incident").order_by("down_at"):
        incidents[auto.monitor_id] = auto
    lines = []
    for alert in alerts:
        when = alert.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S ") + (alert.at.astimezone(zone).tzname() or "")
        line = f"- {_headline(alert)}"
        if alert.kind == AlertKind.REMINDER:
            since = alert.monitor.state_changed_at or alert.at
            line += f" (for {duration_text(now - since)})"
        else:
            line += f" (was {STATE_WORDS.get(alert.from_state, alert.from_state)}) at {when}"
        if alert.reason:
            line += f": {alert.reason}"
        parts = [line]
        monitor_links = in_page_order_links(links.get(alert.monitor_id, []))
        if monitor_links:
            shown = ", ".join(f"{_name(link.component)} ({_status_word(alert, link)})" for link in monitor_links)
            parts.append(f"  Components: {shown}")
        auto = incidents.get(alert.monitor_id)
        if auto is not None and auto.down_at <= alert.at + timedelta(seconds=1):
            state = "resolved" if not auto.incident.is_open else "open"
            parts.append(f"  Incident ({state}): {settings.SITE_URL}/console/incidents/{auto.incident.public_id}")
        elif AutoIncident.objects.filter(monitor_id=alert.monitor_id, state=AutoIncidentState.DRAFT).exists():
            parts.append(f"  A draft incident waits: signalpost monitors publish '{alert.monitor.name}'")
        lines.append("\n".join(parts))
    lines.append(f"Status page: {settings.SITE_URL}/")
    return title[:300], "\n".join(lines)


def in_page_order_links(links: list[MonitorComponent]) -> list[MonitorComponent]:
    order = {c.pk: n for n, c in enumerate(in_page_order(link.component for link in links))}
    return sorted(links, key=lambda link: order[link.component.pk])


def _name(component: Component) -> str:
    return f"{component.group.name} / {component.name}" if component.group_id else component.name


def _status_word(alert: MonitorAlert, link: MonitorComponent) -> str:
    status = (link.down_status if alert.to_state == State.DOWN else link.degraded_status
              if alert.to_state == State.DEGRADED else ComponentStatus.OPERATIONAL)
    return ComponentStatus(status).label.lower()


_CLAIM = """
UPDATE monitors_alertmessage SET claimed_by = %(worker)s, claimed_until = %(until)s, attempts = attempts + 1
WHERE id IN (
    SELECT m.id FROM monitors_alertmessage m
    WHERE m.sent_at IS NULL AND m.due_at <= %(now)s AND (m.claimed_until IS NULL OR m.claimed_until < %(now)s)
    ORDER BY m.id
    LIMIT 20
    {lock}
) AND (claimed_until IS NULL OR claimed_until < %(now)s)
RETURNING id
"""


def send_due(worker: str, now: datetime) -> int:
    """Send the messages that are due to every channel that takes monitor alerts and has not taken them."""
    ids = claimed_ids(_CLAIM, {"worker": worker, "until": now + LEASE, "now": now})
    channels = team.channels_for(KIND)
    for message in AlertMessage.objects.filter(pk__in=ids).order_by("id"):
        done = set(message.sent_to)
        problems = []
        for channel in channels:
            if channel.pk in done:
                continue
            problem = team.send(channel, message.title, message.body)
            if problem is None:
                done.add(channel.pk)
                log.info("monitor alert %s sent to %s", message.pk, channel.name)
            else:
                problems.append(f"{channel.name}: {problem}")
        mine = AlertMessage.objects.filter(pk=message.pk, claimed_by=worker)
        if problems:
            backoff = min(settings.EVENTS_BACKOFF_SECONDS * 2 ** max(message.attempts - 1, 0), MAX_BACKOFF_SECONDS)
            mine.update(sent_to=sorted(done), claimed_until=None, last_error="; ".join(problems)[:4000],
                        due_at=now + timedelta(seconds=backoff))
            log.warning("monitor alert %s failed, attempt %s: %s", message.pk, message.attempts, "; ".join(problems))
        else:
            mine.update(sent_to=sorted(done), sent_at=now, claimed_until=None, last_error="")
    return len(ids)


def run_once(worker: str, now: datetime | None = None) -> str:
    """One pass of the job: reminders due, a message gathered, the due messages sent."""
    now = now or timezone.now()
    reminded = remind(now)
    gathered = gather(now)
    sent = send_due(worker, now)
    done = []
    if reminded:
        done.append(f"{reminded} reminders")
    if gathered is not None:
        done.append(f"gathered message {gathered.pk}")
    if sent:
        done.append(f"sent {sent} messages")
    return ", ".join(done)


def seconds_until_due(now: datetime | None = None) -> float:
    """Until the oldest waiting alert's window ends or a retried message is due; at most 5 s (reminders)."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.MONITOR_ALERT_WINDOW_SECONDS)
    soonest = [now + timedelta(seconds=5)]
    oldest = MonitorAlert.objects.filter(message__isnull=True, silenced=False).aggregate(at=Min("at"))["at"]
    if oldest is not None:
        soonest.append(oldest + window)
    retry = AlertMessage.objects.filter(sent_at__isnull=True).aggregate(at=Min("due_at"))["at"]
    if retry is not None:
        soonest.append(retry)
    return max(0.05, (min(soonest) - now).total_seconds())
