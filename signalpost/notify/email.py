"""The notification e-mails: one rendering per event (subject, plain text, HTML), and per subscriber
only their own links and headers put in.

The body is rendered once, with stand-ins where each subscriber's manage and unsubscribe links go;
`message_bytes` puts a subscriber's links in and writes the message (headers, a multipart/alternative
of both parts in base64, so that no line-length or 8-bit question arises whatever the update says).
Each message carries a Message-ID made from its delivery's key, so a message sent twice is recognisably
the same one, and RFC 8058's List-Unsubscribe and List-Unsubscribe-Post headers.

The wording is Django templates: the default files in templates/notify/email/, or the team's own
(EmailTemplate, edited in the console) where a field is not empty.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from django.conf import settings
from django.template import engines
from django.template.loader import get_template

from signalpost.presentation.markdown import render_markdown
from signalpost.presentation.times import local_text
from signalpost.presentation.zone import page_zone
from signalpost.status.models import ComponentStatus, Incident, IncidentStatus, IncidentUpdate, Kind, MaintenanceStatus
from signalpost.status.services import get_page

from . import links
from .models import EmailTemplate, Subscriber, TemplateKind

# Where each subscriber's own links go: plain letters, so that escaping leaves them as they are.
MANAGE = "SIGNALPOSTMANAGELINK"
UNSUBSCRIBE = "SIGNALPOSTUNSUBSCRIBELINK"


@dataclass(frozen=True)
class Rendered:
    subject: str  # encoded for the header (RFC 2047 when it is not ASCII)
    text: str
    html: str
    boundary: str


def template_kind(event_kind: str) -> str:
    if event_kind.startswith("maintenance."):
        return TemplateKind.MAINTENANCE
    if event_kind.startswith("postmortem."):
        return TemplateKind.POSTMORTEM
    if event_kind.startswith("component."):
        return TemplateKind.COMPONENT
    if event_kind == "digest":
        return TemplateKind.DIGEST
    if event_kind == "subscriber.paused":
        return TemplateKind.PAUSED
    return TemplateKind.INCIDENT


def _templates(kind: str):
    """(subject, text, html) templates: the team's own where given, else the default files."""
    own = EmailTemplate.objects.filter(kind=kind).first()
    engine = engines["django"]

    def pick(field: str, suffix: str, plain: bool):
        source = getattr(own, field, "") if own is not None else ""
        if source.strip():
            return engine.from_string("{% autoescape off %}" + source + "{% endautoescape %}" if plain else source)
        return get_template(f"notify/email/{kind}.{suffix}")

    return pick("subject", "subject.txt", True), pick("text", "txt", True), pick("html", "html", False)


def default_source(kind: str) -> dict[str, str]:
    """The default files' text of one kind ({subject, text, html}), to show beside the team's own."""
    from pathlib import Path

    folder = Path(__file__).parent / "templates" / "notify" / "email"
    return {field: (folder / f"{kind}.{suffix}").read_text() for field, suffix in
            (("subject", "subject.txt"), ("text", "txt"), ("html", "html"))}


def when(moment: datetime | None, zone) -> str:
    """"Dec 4, 2026 19:05 CET (18:05 UTC)": the page's zone, with UTC beside it."""
    if moment is None:
        return ""
    local = local_text(moment, zone)
    if zone.key == "UTC":
        return local
    return f"{local} ({moment.astimezone(dt_timezone.utc):%H:%M} UTC)"


def _status_label(incident_kind: str, status: str | None) -> str:
    choices = MaintenanceStatus if incident_kind == Kind.MAINTENANCE else IncidentStatus
    try:
        return choices(status).label
    except ValueError:
        return status or ""


def _component_label(status: str | None) -> str:
    try:
        return ComponentStatus(status).label
    except ValueError:
        return status or ""


def incident_link(kind: str, public_id: str) -> str:
    return f"{settings.SITE_URL}/{'maintenance' if kind == Kind.MAINTENANCE else 'incidents'}/{public_id}"


def link_for_subject(subject: str, event_kind: str) -> str:
    """The public page a delivery is about (for digests and chat)."""
    what, _, public_id = subject.partition(":")
    if what == "incident":
        return incident_link(Kind.MAINTENANCE if event_kind.startswith("maintenance.") else Kind.INCIDENT, public_id)
    if what == "postmortem":
        return f"{settings.SITE_URL}/postmortems/{public_id}"
    return settings.SITE_URL + "/"


def context_for(event_kind: str, data: dict, extra: dict | None = None) -> dict:
    """What the templates are given, from the event's data and the records as they are now."""
    page = get_page()
    zone = page_zone(page)
    context = {"page": page.name, "page_url": settings.SITE_URL + "/", "event": event_kind, "zone": zone.key,
               "manage_url": MANAGE, "unsubscribe_url": UNSUBSCRIBE, **(extra or {})}
    if event_kind.startswith(("incident.", "maintenance.")):
        incident = Incident.objects.filter(public_id=data.get("incident")).first()
        kind = data.get("incident_kind") or (incident.kind if incident else Kind.INCIDENT)
        update = IncidentUpdate.objects.filter(public_id=data.get("update")).first() if data.get("update") else None
        status = update.status if update is not None else (data.get("status") or [None, None])[-1]
        components = [
            {"name": c.get("name", ""), "status": _component_label(c.get("given") or c.get("after"))
             if (c.get("given") or c.get("after")) else ""}
            for c in (data.get("components") or {}).values()
        ]
        scheduled_for = incident.scheduled_for if incident else None
        context.update({
            "name": incident.name if incident else data.get("name", ""),
            "maintenance": kind == Kind.MAINTENANCE,
            "status": _status_label(kind, status),
            "impact": incident.get_impact_display() if incident else "",
            "body": update.body if update is not None else "",
            "body_html": render_markdown(update.body) if update is not None else "",
            "posted": when(update.display_at if update is not None else None, zone),
            "scheduled_for": when(scheduled_for, zone),
            "scheduled_until": when(incident.scheduled_until if incident else None, zone),
            "reminder": data.get("reminder_text", ""),
            "components": components,
            "link": incident_link(kind, data.get("incident", "")),
        })
    elif event_kind.startswith("postmortem."):
        from signalpost.postmortems.models import Postmortem

        postmortem = Postmortem.objects.filter(public_id=data.get("postmortem")).first()
        context.update({
            "name": postmortem.title if postmortem else data.get("title", ""),
            "body": postmortem.summary if postmortem else "",
            "body_html": render_markdown(postmortem.summary) if postmortem else "",
            "posted": when(postmortem.published_at if postmortem else None, zone),
            "incidents": list(Incident.objects.filter(public_id__in=data.get("incidents") or [])
                              .values_list("name", flat=True)),
            "link": f"{settings.SITE_URL}/postmortems/{data.get('postmortem', '')}",
        })
    elif event_kind.startswith("component."):
        changes = list((data.get("statuses") or {}).values())
        change = changes[0] if changes else {}
        context.update({
            "name": data.get("name", ""),
            "before": _component_label(change.get("before")),
            "after": _component_label(change.get("after")),
            "link": settings.SITE_URL + "/",
        })
    return context


def render(event_kind: str, context: dict) -> Rendered:
    subject_t, text_t, html_t = _templates(template_kind(event_kind))
    subject = " ".join(subject_t.render(context).split())[:250] or context.get("page", "")
    return Rendered(subject=_header(subject), text=text_t.render(context).strip() + "\n",
                    html=html_t.render(context), boundary=f"=_sp_{secrets.token_hex(12)}")


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


@lru_cache(maxsize=4)
def _from(value: str) -> tuple[str, str, str]:
    """(From header, envelope sender, Message-ID host) of DEFAULT_FROM_EMAIL, worked out once."""
    name, address = parseaddr(value)
    return (formataddr((_header(name), address)) if name else address, address,
            address.rpartition("@")[2] or "signalpost")


def _from_header() -> str:
    return _from(settings.DEFAULT_FROM_EMAIL)[0]


def sender() -> str:
    return _from(settings.DEFAULT_FROM_EMAIL)[1]


def message_id(key: str) -> str:
    return f"<{key}@{_from(settings.DEFAULT_FROM_EMAIL)[2]}>"


def _b64(text: str) -> str:
    return base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")


def message_bytes(rendered: Rendered, *, key: str, to: str, subscriber: Subscriber | None,
                  at: datetime) -> bytes:
    """The whole message for one recipient: their links and headers put into the one rendering."""
    if subscriber is not None:
        manage, unsubscribe = links.manage_url(subscriber), links.unsubscribe_url(subscriber)
    else:  # a message to a webhook's owner: nothing to unsubscribe from
        manage = unsubscribe = settings.SITE_URL + "/"
    text = rendered.text.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe)
    html = rendered.html.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe)
    headers = [
        f"From: {_from_header()}",
        f"To: {to}",
        f"Subject: {rendered.subject}",
        f"Date: {format_datetime(at)}",
        f"Message-ID: {message_id(key)}",
        "MIME-Version: 1.0",
        "Auto-Submitted: auto-generated",
    ]
    if subscriber is not None:
        headers += [f"List-Unsubscribe: <{unsubscribe}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    headers.append(f'Content-Type: multipart/alternative; boundary="{rendered.boundary}"')
    b = rendered.boundary
    parts = (
        f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{_b64(text)}"
        f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{_b64(html)}"
        f"--{b}--\r\n"
    )
    return ("\r\n".join(headers) + "\r\n\r\n" + parts).encode()
