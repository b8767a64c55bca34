"""What webhooks and chat tools are sent: bodies rendered once per update; per subscriber only the links
differ.

Webhook bodies have the shape Atlassian Statuspage sends (`meta`, `page`, and `incident`, or
`component_update` with `component`), with every key and JSON type of Statuspage's, so that receivers
written for Statuspage work unchanged; the incident and component objects are the /api/v2 ones, built by
the same code. Each body is signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`,
`webhook-signature`). Chat messages are each tool's own incoming-webhook format: a Slack attachment
with blocks, a Discord embed, a Teams Adaptive Card.
"""

import base64
import json
import secrets
from datetime import datetime, timezone as dt_timezone
from zoneinfo import ZoneInfo

from standardwebhooks import Webhook

from signalpost.events.models import Event
from signalpost.postmortems.models import Postmortem, State
from signalpost.presentation.statuspage import Json, Render, build_render, component_json, incident_json, with_history
from signalpost.status import derive, reminders
from signalpost.status.models import Component, Incident, IncidentUpdate, Kind
from signalpost.status.services import get_page

from . import markup

UTC = ZoneInfo("UTC")
# Receivers follow this to learn the body's fields; they are Statuspage's.
DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"

STATUS_LABELS = {
    "investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
    "resolved": "Resolved", "scheduled": "Scheduled", "in_progress": "In progress", "verifying": "Verifying",
    "completed": "Completed", "cancelled": "Cancelled",
    "operational": "Operational", "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage", "major_outage": "Major outage", "under_maintenance": "Under maintenance",
}
IMPACT_LABELS = {"none": "No impact", "minor": "Minor impact", "major": "Major impact",
                 "critical": "Critical impact", "maintenance": "Maintenance"}
HEADLINES = {
    "incident.opened": "New incident", "incident.updated": "Incident update", "incident.resolved": "Resolved",
    "incident.reopened": "Reopened", "maintenance.scheduled": "Maintenance scheduled",
    "maintenance.updated": "Maintenance update", "maintenance.started": "Maintenance started",
    "maintenance.completed": "Maintenance completed", "maintenance.cancelled": "Maintenance cancelled",
    "maintenance.overran": "Maintenance running longer", "maintenance.reminder": "Maintenance reminder",
    "postmortem.published": "Postmortem published",
}

# The colours of the page's status bars: green up, yellow degraded, orange partial, red major, blue
# maintenance; grey for an incident of no impact.
GREEN, YELLOW, ORANGE, RED, BLUE, GREY = "#2fcc66", "#f1c40f", "#e67e22", "#e74c3c", "#3498db", "#8c959f"
_BY_STATUS = {"operational": GREEN, "degraded_performance": YELLOW, "partial_outage": ORANGE,
              "major_outage": RED, "under_maintenance": BLUE}
_BY_IMPACT = {"none": GREY, "minor": YELLOW, "major": ORANGE, "critical": RED, "maintenance": BLUE}
_FINISHED = {"resolved", "completed", "cancelled"}
# Adaptive Cards have no free colours, only styles: the nearest one.
_TEAMS_STYLE = {GREEN: "good", YELLOW: "warning", ORANGE: "warning", RED: "attention", BLUE: "accent",
                GREY: "emphasis"}

# What each tool accepts (Slack: 3,000 characters in a section; Discord: 256 in a title, 4,096 in a
# description).
_SLACK_SECTION = 3000
_DISCORD_TITLE, _DISCORD_DESCRIPTION = 256, 4096


# --- webhook bodies ---------------------------------------------------------------------------------


def _meta(render: Render) -> Json:
    return {"unsubscribe": None, "documentation": DOCUMENTATION, "generated_at": render.ts(render.now)}


def _page(render: Render) -> Json:
    indicator, description = derive.page_indicator(render.statuses, render.now)
    return {"id": render.page.public_id, "status_indicator": indicator, "status_description": description}


def _webhook_update(update: Json) -> Json:
    return {
        "status": update["status"],
        "body": update["body"],
        "created_at": update["created_at"],
        "wants_twitter_update": False,
        "twitter_updated_at": None,
        "updated_at": update["updated_at"],
        "display_at": update["display_at"],
        "affected_components": update["affected_components"],
        "custom_tweet": None,
        "tweet_id": None,
        "deliver_notifications": update["deliver_notifications"],
        "id": update["id"],
        "incident_id": update["incident_id"],
    }


def _published_postmortem(incident: Incident) -> Postmortem | None:
    return (Postmortem.objects.filter(incidents=incident, status=State.PUBLISHED)
            .order_by("-published_at", "-id").first())


def incident_body(incident_id: int) -> dict:
    """Statuspage's webhook body for an incident or maintenance (by its database id), as it stands:
    every update newest first, the components it affects, times in UTC."""
    render = build_render(zone=UTC)
    incident = with_history(Incident.objects.filter(pk=incident_id)).get()
    v2 = incident_json(render, incident)
    maintenance = incident.kind == Kind.MAINTENANCE
    postmortem = _published_postmortem(incident)
    if postmortem is not None:
        from signalpost.postmortems.export import to_markdown

        postmortem_body = to_markdown(postmortem)
    else:
        postmortem_body = None
    body = {
        "name": v2["name"],
        "status": v2["status"],
        "created_at": v2["created_at"],
        "updated_at": v2["updated_at"],
        "monitoring_at": v2["monitoring_at"],
        "resolved_at": v2["resolved_at"],
        "impact": v2["impact"],
        "shortlink": v2["shortlink"],
        "started_at": v2["started_at"],
        "postmortem_ignored": False,
        "postmortem_body": postmortem_body,
        "postmortem_body_last_updated_at": render.ts(postmortem.revised_at or postmortem.published_at)
        if postmortem else None,
        "postmortem_published_at": render.ts(postmortem.first_published_at or postmortem.published_at)
        if postmortem else None,
        "postmortem_notified_subscribers": postmortem is not None,  # a publication is announced
        "postmortem_notified_twitter": False,
        "backfilled": incident.retroactive,
        "scheduled_for": render.ts(incident.scheduled_for) if maintenance else None,
        "scheduled_until": render.ts(incident.scheduled_until) if maintenance else None,
        "scheduled_remind_prior": maintenance and bool(reminders.of(incident)),  # none: not reminded
        "scheduled_reminded_at": None,
        "impact_override": None,
        "scheduled_auto_in_progress": maintenance and incident.auto_start,
        "scheduled_auto_completed": maintenance and incident.auto_complete,
        "scheduled_auto_transition": maintenance and (incident.auto_start or incident.auto_complete),
        "id": v2["id"],
        "page_id": v2["page_id"],
        "organization_id": None,
        "incident_updates": [_webhook_update(u) for u in v2["incident_updates"]],
        "components": v2["components"],
    }
    return {"meta": _meta(render), "page": _page(render), "incident": body}


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def component_body(event: Event) -> dict:
    """Statuspage's webhook body for a component's status change (`event`: a component.* event with
    the component's status before and after)."""
    render = build_render(zone=UTC)
    data = event.data
    public_id = data["component"]
    change = (data.get("statuses") or {}).get(public_id) or {}
    component = Component.objects.select_related("group").filter(public_id=public_id).first()
    row = None
    if component is not None:
        row = render.component_by_pk.get(component.pk)
        if row is None:  # hidden since, or not shown on the page: the same object, outside the order
            row = component_json(render, component, group_id=component.group.public_id if component.group_id
                                 else None, showcase=not component.group_id)
        row = dict(row)
    else:  # removed since: what the event remembers
        row = {"id": public_id, "name": data.get("name", ""), "status": change.get("after") or "operational",
               "created_at": None, "updated_at": None, "position": 0, "description": None, "showcase": True,
               "start_date": None, "group_id": data.get("group"), "page_id": render.page.public_id,
               "group": False, "only_show_if_degraded": False}
    old = change.get("before") or row["status"]
    new = change.get("after") or row["status"]
    row["status"] = new  # as it was when it changed, not as it may be by the time this is sent
    occurred = render.ts(event.occurred_at)
    return {
        "meta": _meta(render),
        "page": _page(render),
        "component_update": {
            "old_status": old,
            "new_status": new,
            "created_at": occurred,
            "component_type": "Component",
            "id": _base36(event.pk).rjust(12, "0"),
            "component_id": public_id,
        },
        "component": row,
    }


def with_links(body: dict, *, unsubscribe_url: str) -> bytes:
    """The body for one subscriber, with its own unsubscribe link, as the UTF-8 JSON bytes to send."""
    meta = {**body.get("meta", {}), "unsubscribe": unsubscribe_url}
    return json.dumps({**body, "meta": meta}, ensure_ascii=False, separators=(",", ":")).encode()


# --- signatures ---------------------------------------------------------------------------------------


def new_secret() -> str:
    """A webhook's signing secret as Standard Webhooks writes it: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body` sent at `at`: the receiver verifies them with its
    library (`standardwebhooks.Webhook(secret).verify(body, headers)`) and refuses a stale timestamp."""
    at = at.astimezone(dt_timezone.utc)
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature}


# --- chat messages -------------------------------------------------------------------------------------


def _message(event: Event) -> dict:
    """What a chat message says about an event, whatever the tool: headline, title, status line, text,
    colour."""
    data = event.data
    kind = event.kind
    if kind.startswith("component."):
        public_id = data.get("component")
        change = (data.get("statuses") or {}).get(public_id) or {}
        before, after = change.get("before"), change.get("after")
        name = data.get("name") or change.get("name") or "A component"
        text = f"{name} is now {STATUS_LABELS.get(after, after or 'unknown').lower()}"
        if before and before != after:
            text += f" (was {STATUS_LABELS.get(before, before).lower()})."
        return {"headline": "Component status", "title": name,
                "status": STATUS_LABELS.get(after, after or ""), "text": text, "markdown": False,
                "colour": _BY_STATUS.get(after, GREY)}
    if kind.startswith("postmortem."):
        return {"headline": HEADLINES.get(kind, "Postmortem"), "title": data.get("title", "Postmortem"),
                "status": "", "text": "", "markdown": False, "colour": GREEN}
    status = (data.get("status") or [None, None])[1] or ""
    impact = (data.get("impact") or [None, None])[1] or "none"
    body = ""
    if data.get("update"):
        body = IncidentUpdate.objects.filter(public_id=data["update"]).values_list("body", flat=True).first() or ""
    maintenance = data.get("incident_kind") == Kind.MAINTENANCE or kind.startswith("maintenance.")
    if status in _FINISHED:
        colour = GREEN
    elif maintenance:
        colour = BLUE
    else:
        colour = _BY_IMPACT.get(impact, GREY)
    line = STATUS_LABELS.get(status, status.replace("_", " ").capitalize())
    if not maintenance and status not in _FINISHED:
        line += f" · {IMPACT_LABELS.get(impact, impact)}"
    if maintenance and data.get("scheduled_for") and data.get("scheduled_until"):
        line += f" · {_window(data['scheduled_for'], data['scheduled_until'])}"
    headline = HEADLINES.get(kind, "Maintenance" if maintenance else "Incident")
    return {"headline": headline, "title": data.get("name", ""), "status": line, "text": body,
            "markdown": True, "colour": colour}


def _window(start: str, end: str) -> str:
    """A maintenance window in UTC (chat tools show no zone of the reader's)."""
    begin, finish = datetime.fromisoformat(start).astimezone(UTC), datetime.fromisoformat(end).astimezone(UTC)
    if begin.date() == finish.date():
        return f"{begin:%Y-%m-%d %H:%M}–{finish:%H:%M} UTC"
    return f"{begin:%Y-%m-%d %H:%M} – {finish:%Y-%m-%d %H:%M} UTC"


def _text(message: dict, tool: str) -> str:
    if message["markdown"]:
        return markup.convert(message["text"], tool)
    if tool == "slack":
        return markup.slack_escape(message["text"])
    return markup.markdown_escape(message["text"])


def _page_name() -> str:
    return get_page().name


def _slack(message: dict, event: Event, link: str) -> dict:
    esc = markup.slack_escape
    title = f"*<{link}|{esc(message['title'])}>*" if link else f"*{esc(message['title'])}*"
    header = f"{esc(message['headline'])}: {title}"
    if message["status"]:
        header += f"\n{esc(message['status'])}"
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": markup.truncate(header, _SLACK_SECTION)}}]
    text = _text(message, "slack")
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": markup.truncate(text, _SLACK_SECTION)}})
    context = esc(_page_name())
    if link:
        context += f" · <{link}|View on the status page>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    fallback = f"{message['headline']}: {message['title']}" + (f" ({message['status']})" if message["status"] else "")
    return {"text": esc(fallback), "attachments": [{"color": message["colour"], "fallback": esc(fallback),
                                                    "blocks": blocks}]}


def _discord(message: dict, event: Event, link: str) -> dict:
    esc = markup.markdown_escape
    description = _text(message, "discord")
    if message["status"]:
        description = f"**{esc(message['status'])}**" + (f"\n\n{description}" if description else "")
    embed: dict = {
        "title": markup.truncate(f"{message['headline']}: {message['title']}", _DISCORD_TITLE),
        "description": markup.truncate(description, _DISCORD_DESCRIPTION),
        "color": int(message["colour"].lstrip("#"), 16),
        "timestamp": event.occurred_at.astimezone(dt_timezone.utc).isoformat(),
        "footer": {"text": _page_name()[:2048]},
    }
    if link:
        embed["url"] = link
    # Nothing in the text may ping anyone: no @everyone, @here, users or roles.
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def _teams(message: dict, event: Event, link: str) -> dict:
    style = _TEAMS_STYLE.get(message["colour"], "default")
    heading = [
        {"type": "TextBlock", "text": markup.markdown_escape(message["headline"]), "size": "Small",
         "weight": "Bolder", "wrap": True, "isSubtle": True},
        {"type": "TextBlock", "text": markup.markdown_escape(message["title"]), "size": "Large",
         "weight": "Bolder", "wrap": True, "spacing": "None"},
    ]
    if message["status"]:
        heading.append({"type": "TextBlock", "text": markup.markdown_escape(message["status"]), "wrap": True,
                        "spacing": "Small"})
    body: list[dict] = [{"type": "Container", "style": style, "bleed": True, "items": heading}]
    text = _text(message, "teams")
    if text:
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    body.append({"type": "TextBlock", "text": markup.markdown_escape(_page_name()), "size": "Small",
                 "isSubtle": True, "wrap": True})
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "View on the status page", "url": link}]
    return {"type": "message", "summary": f"{message['headline']}: {message['title']}",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card}]}


_TOOLS = {"slack": _slack, "discord": _discord, "teams": _teams}


def chat_body(tool: str, event: Event, *, link: str) -> dict:
    """The message about `event` for a chat tool's incoming webhook ("slack", "discord" or "teams"):
    its status colour, a title linking to `link` (the incident's page), the update's text in the tool's
    markup."""
    if tool not in _TOOLS:
        raise ValueError(f"unknown chat tool {tool!r} (one of {', '.join(_TOOLS)})")
    return _TOOLS[tool](_message(event), event, link)


def chat_bytes(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

