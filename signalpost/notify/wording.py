"""The team's wording of the notification e-mails: saving it (each field a Django template, checked),
resetting it to Signalpost's own, and previewing it on made-up values. The delivery job reads it
(signalpost.notify.email); the console edits it. A field left as the default is stored empty, so it
keeps following the default in later versions."""

from django.conf import settings
from django.db import transaction
from django.template import TemplateSyntaxError, engines
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.presentation.markdown import render_markdown
from signalpost.status.services import get_page

from . import email
from .models import EmailTemplate, TemplateKind

TEMPLATE_FIELDS = (("subject", "subject.txt"), ("text", "txt"), ("html", "html"))


def default_source(kind: str, field_name: str) -> str:
    """The wording shipped with Signalpost for one field of one kind of e-mail."""
    return email.default_source(kind)[field_name]


def _compiled(field_name: str, source: str):
    try:
        return engines["django"].from_string(source)
    except TemplateSyntaxError as error:
        raise InvalidInput(field_name, f"is not a valid template: {error}") from None


def _own_fields(kind: str, fields: dict) -> dict:
    """The fields as they are stored: a field left empty or equal to the default is stored empty
    (the default then applies, and follows the default's own improvements in later versions)."""
    if kind not in TemplateKind.values:
        raise InvalidInput("kind", f"must be one of: {', '.join(TemplateKind.values)}")
    stored = {}
    for name, _ in TEMPLATE_FIELDS:
        source = (fields.get(name) or "").replace("\r\n", "\n")
        if len(source) > (300 if name == "subject" else 100_000):
            raise InvalidInput(name, f"must be at most {300 if name == 'subject' else 100_000} characters")
        if source.strip():
            _compiled(name, source)
        stored[name] = "" if source.strip() in ("", default_source(kind, name).strip()) else source
    return stored


def save_email_template(kind: str, **fields: str) -> EmailTemplate | None:
    """Save the team's wording of one kind of e-mail (Django templates; each field checked). None when
    every field is the default again (nothing of the team's own is kept)."""
    stored = _own_fields(kind, fields)
    with transaction.atomic():
        own = EmailTemplate.objects.select_for_update().filter(kind=kind).first()
        before = {name: getattr(own, name) for name, _ in TEMPLATE_FIELDS} if own else None
        if not any(stored.values()):
            if own is not None:
                own.delete()
        else:
            own, _ = EmailTemplate.objects.update_or_create(kind=kind, defaults={**stored, "updated_at": timezone.now()})
        audit.record("email_template.save", object_type="emailtemplate", object_id=kind,
                     object_repr=TemplateKind(kind).label, before=before, after=stored)
    return own if any(stored.values()) else None


def reset_email_template(kind: str) -> bool:
    """Back to Signalpost's own wording for this kind. False when it already was."""
    with transaction.atomic():
        own = EmailTemplate.objects.select_for_update().filter(kind=kind).first()
        if own is None:
            return False
        audit.record("email_template.reset", object_type="emailtemplate", object_id=kind,
                     object_repr=TemplateKind(kind).label,
                     before={name: getattr(own, name) for name, _ in TEMPLATE_FIELDS})
        own.delete()
    return True


def _sample_context(kind: str) -> dict:
    """Made-up values for a preview, as the delivery job gives them to the templates."""
    page = get_page()
    site = settings.SITE_URL
    common = {"page": page.name, "page_url": site + "/", "zone": page.time_zone, "manage_url": site + "/subscriptions/…",
              "unsubscribe_url": site + "/subscriptions/…/unsubscribe", "link": site + "/incidents/example00000"}
    body = "We are investigating errors on **the storage cluster**."
    samples = {
        TemplateKind.INCIDENT: {"name": "Volumes unreachable", "status": "Investigating", "impact": "Major",
                                "posted": "Dec 4, 2026 19:05 CET (18:05 UTC)", "body": body,
                                "body_html": render_markdown(body),
                                "components": [{"name": "zh1.single", "status": "Major outage"}]},
        TemplateKind.MAINTENANCE: {"name": "Storage upgrade", "status": "Scheduled", "maintenance": True,
                                   "posted": "Dec 4, 2026 19:05 CET (18:05 UTC)", "body": body,
                                   "body_html": render_markdown(body), "reminder": "",
                                   "scheduled_for": "Dec 6, 2026 22:00 CET (21:00 UTC)",
                                   "scheduled_until": "Dec 7, 2026 01:00 CET (00:00 UTC)",
                                   "components": [{"name": "de1.compact", "status": ""}]},
        TemplateKind.POSTMORTEM: {"name": "Storage outage", "posted": "Dec 4, 2026 19:05 CET (18:05 UTC)",
                                  "body": "A failed switch.", "body_html": render_markdown("A failed switch."),
                                  "incidents": ["Volumes unreachable"]},
        TemplateKind.COMPONENT: {"name": "zh1.single", "before": "Operational", "after": "Degraded performance"},
        TemplateKind.DIGEST: {"items": [{"about": "Volumes unreachable: identified", "at": "19:20 CET",
                                         "link": site + "/incidents/example00000"},
                                        {"about": "Volumes unreachable: resolved", "at": "19:45 CET",
                                         "link": site + "/incidents/example00000"}]},
        TemplateKind.PAUSED: {"address": "https://hooks.example.com/status", "failures": 10,
                              "reason": "HTTP 500 from the receiver"},
    }
    return {**common, **samples[kind]}


def preview_email_template(kind: str, **fields: str) -> dict:
    """The subject, text and HTML that the given wording (empty fields: the default) gives for made-up
    values; InvalidInput naming the field whose template does not compile or render."""
    _own_fields(kind, fields)
    context = _sample_context(kind)
    shown = {}
    for name, _ in TEMPLATE_FIELDS:
        source = fields.get(name) or ""
        if not source.strip():
            source = default_source(kind, name)
        elif name != "html":  # as the delivery job reads the team's plain-text fields: nothing escaped
            source = "{% autoescape off %}" + source + "{% endautoescape %}"
        template = _compiled(name, source)
        try:
            shown[name] = template.render(context)
        except Exception as error:  # noqa: BLE001 - a template that fails to render is the team's to correct
            raise InvalidInput(name, f"does not render: {error}") from None
    shown["subject"] = " ".join(shown["subject"].split())
    return shown
