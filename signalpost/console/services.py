"""The console's own writes: message templates, and retrying an event a consumer set aside. As with
every service, each change records exactly one audit entry in its own transaction, and a call that
changes nothing records none."""

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput, NotFound
from signalpost.events import work
from signalpost.status.models import Kind
from signalpost.status.validation import choice, required_text

from .models import TEMPLATE_STATUSES, MessageTemplate

TEMPLATE_FIELDS = ("name", "kind", "status", "body", "position")
BODY_LIMIT = 100_000  # the preview's limit: a template longer than that could not be previewed


def _checked(name: str, kind: str, status: str, body: str) -> tuple[str, str, str, str]:
    name = required_text("name", name, 100)
    choice("kind", kind, Kind)
    status = (status or "").strip()
    if status:
        statuses = TEMPLATE_STATUSES[kind]
        if status not in statuses.values:
            raise InvalidInput("status", f'"{status}" is not a status of {Kind(kind).label.lower()}; '
                                         f'one of: {", ".join(statuses.values)}')
    body = required_text("body", body, BODY_LIMIT)
    return name, kind, status, body


def _name_taken(name: str, kind: str, template: MessageTemplate | None = None) -> None:
    others = MessageTemplate.objects.filter(kind=kind, name=name)
    if template is not None:
        others = others.exclude(pk=template.pk)
    if others.exists():
        what = "an incident" if kind == Kind.INCIDENT else "a maintenance"
        raise InvalidInput("name", f'{what} template named "{name}" already exists')


def create_template(*, name: str, kind: str, body: str, status: str = "", position: int | None = None) -> MessageTemplate:
    name, kind, status, body = _checked(name, kind, status, body)
    with transaction.atomic():
        _name_taken(name, kind)
        if position is None:
            last = MessageTemplate.objects.order_by("-position").values_list("position", flat=True).first()
            position = (last or 0) + 1
        template = MessageTemplate.objects.create(name=name, kind=kind, status=status, body=body, position=position)
        audit.record("template.create", template, after=audit.snapshot(template, TEMPLATE_FIELDS))
    return template


def update_template(template: MessageTemplate, *, name: str, kind: str, body: str, status: str = "",
                    position: int | None = None) -> MessageTemplate:
    name, kind, status, body = _checked(name, kind, status, body)
    with transaction.atomic():
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        _name_taken(name, kind, template)
        before = audit.snapshot(template, TEMPLATE_FIELDS)
        template.name, template.kind, template.status, template.body = name, kind, status, body
        if position is not None:
            template.position = position
        after = audit.snapshot(template, TEMPLATE_FIELDS)
        if after == before:
            return template
        template.updated_at = timezone.now()
        template.save()
        audit.record("template.update", template, before=before, after=after)
    return template


def delete_template(template: MessageTemplate) -> None:
    with transaction.atomic():
        template = MessageTemplate.objects.select_for_update().filter(pk=template.pk).first()
        if template is None:  # already deleted, by someone else or a second click
            return
        audit.record("template.delete", template, before=audit.snapshot(template, TEMPLATE_FIELDS))
        template.delete()


def retry_event(handling_id: int) -> None:
    """Give an event a consumer set aside (its attempts ran out) another round of attempts."""
    with transaction.atomic():
        retried = work.retry([handling_id])
        if not retried:
            raise NotFound("no event set aside with that id: it was retried already, or it succeeded")
        handling = retried[0]
        audit.record("event.retry", object_type="event", object_id=str(handling.event_id),
                     object_repr=f"{handling.event.kind} for the {handling.consumer}",
                     before={"state": "set_aside", "error": handling.last_error}, after={"state": "pending"})
