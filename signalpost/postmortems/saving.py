"""How a postmortem write ends, for every module that writes one: who is acting, the row lock, and the
save that keeps a version, withdraws an approval the change invalidates, records the one audit entry
and republishes the public pages when readers see the postmortem."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .changes import record_published_changed
from .models import SECTION_FIELDS, Postmortem, PostmortemVersion, State
from .versions import document

SECTION_MAX = 50_000
POSTMORTEM_FIELDS = ["title", "template", "status", "timeline_zone", "root_cause_unknown", "first_signal_at",
                     "detected_at", "acknowledged_at", *SECTION_FIELDS]
User = get_user_model()


@dataclass(frozen=True)
class Person:
    """Whoever makes a change: a console user, or an API token / the CLI, which have only a name."""

    user: object | None
    name: str

    def same_as(self, user_id: int | None, name: str) -> bool:
        if self.user is not None:
            return user_id == self.user.pk
        return user_id is None and name == self.name


def person_of(user=None) -> Person:
    if user is not None:
        return Person(user, user.get_username())
    actor = audit.current_actor()
    if actor.user_id is not None:
        found = User.objects.filter(pk=actor.user_id).first()
        if found is not None:
            return Person(found, found.get_username())
    return Person(None, actor.name[:200])


def section_text(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > SECTION_MAX:
        raise InvalidInput(field, f"must be at most {SECTION_MAX} characters")
    return value


def locked(postmortem: Postmortem) -> Postmortem:
    return Postmortem.objects.select_for_update().get(pk=postmortem.pk)


def save_change(postmortem: Postmortem, action: str, person: Person, now: datetime, *, before: dict | None,
                after: dict | None, content_before: dict | None, tracking_only: bool = False,
                obj=None, object_repr: str = "") -> bool:
    """Finish a write: keep a version if the content changed, withdraw an approval it invalidates,
    record the audit entry, republish if readers see it. False (and nothing recorded) if unchanged."""
    content = document(postmortem)
    if content == content_before:
        return False
    if postmortem.status == State.APPROVED and not tracking_only:
        postmortem.status = State.IN_REVIEW
        postmortem.approved_by, postmortem.approved_by_name = None, ""
        postmortem.approved_at = postmortem.approved_version = None
    postmortem.version += 1
    postmortem.updated_at = now
    if postmortem.status == State.PUBLISHED:
        postmortem.revised_at = now
    postmortem.save()
    PostmortemVersion.objects.create(postmortem=postmortem, number=postmortem.version, saved_by=person.name,
                                     saved_at=now, action=action, content=content)
    audit.record(action, obj or postmortem, before=before, after=after, object_repr=object_repr)
    record_published_changed([postmortem])
    return True


def pm_snapshot(postmortem: Postmortem) -> dict:
    return audit.snapshot(postmortem, POSTMORTEM_FIELDS)
