"""What the incident, maintenance and message-template tests share: signed-in clients by role, the
field block a form error must appear in, and counts of what a request wrote."""

import html
import re

from django.contrib.auth import get_user_model

from signalpost.accounts.models import AuditEvent, Profile
from signalpost.console.models import MessageTemplate
from signalpost.status.models import (
    AffectedComponent,
    Incident,
    IncidentComponent,
    IncidentUpdate,
)


def signed_in(client, username: str, role: str):
    user = get_user_model().objects.create_user(username, password="correct horse battery")
    Profile.objects.create(user=user, role=role)
    client.force_login(user)
    return client


def field_block(page: str, field_id: str) -> str:
    """The <div class="field"> holding the input with this id: where its error message must be."""
    at = page.index(f'id="{field_id}"')
    start = page.rindex('<div class="field', 0, at)
    end = page.index("</div>", at)
    return page[start:end]


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def assert_refused_beside(response, field_id: str, message: str) -> None:
    assert response.status_code == 400, response.status_code
    page = response.content.decode()
    block = text(field_block(page, field_id))
    assert message in block, f"{message!r} not beside {field_id}: {block!r}"


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Incident, IncidentUpdate, IncidentComponent, AffectedComponent, AuditEvent, MessageTemplate)}


def audit_actions(since: int = 0) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=since).order_by("id").values_list("action", flat=True))


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
