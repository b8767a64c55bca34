"""Action items, grouped by kind, each with an owner, a due date, a state and a link to the team's tracker;
and the team's list of kinds. Following an item up (state, owner, due date, link) keeps an approval;
rewriting it does not (see saving.save_change)."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.validation import choice, integer, required_text

from .changes import record_published_changed
from .models import ActionItem, ActionItemKind, Postmortem, State
from .saving import locked, person_of, save_change, section_text
from .versions import document

DEFAULT_KINDS = ["Preventive (process)", "Preventive (tooling)", "Detection", "Mitigation", "Improving recovery"]
ITEM_FIELDS = ["title", "kind", "owner", "due_date", "state", "link", "description", "position"]
TRACKING_FIELDS = {"state", "owner", "due_date", "link"}  # following up an item is not rewriting the document


def action_item_kinds() -> list[ActionItemKind]:
    """The kinds in the team's order. The defaults come back only if the list is empty, which the
    services never allow (the last kind cannot be deleted): a fresh or emptied database."""
    kinds = list(ActionItemKind.objects.all())
    if not kinds:
        for position, name in enumerate(DEFAULT_KINDS, start=1):
            ActionItemKind.objects.get_or_create(name=name, defaults={"position": position})
        kinds = list(ActionItemKind.objects.all())
    return kinds


def find_kind(ref: str | ActionItemKind, field: str = "kind") -> ActionItemKind:
    """A kind by object, public id or name (case-insensitive)."""
    if isinstance(ref, ActionItemKind):
        return ref
    for kind in action_item_kinds():
        if ref == kind.public_id or str(ref).strip().lower() == kind.name.lower():
            return kind
    names = ", ".join(k.name for k in action_item_kinds())
    raise InvalidInput(field, f'"{ref}" is not a kind of action item (one of: {names})')


def action_items_by_kind(postmortem: Postmortem) -> list[tuple[ActionItemKind, list[ActionItem]]]:
    """The action items grouped under their kinds, in the kinds' order; empty kinds left out."""
    groups: dict[int, tuple[ActionItemKind, list[ActionItem]]] = {}
    for item in postmortem.action_items.select_related("kind").order_by("kind__position", "kind__name",
                                                                         "position", "id"):
        groups.setdefault(item.kind_id, (item.kind, []))[1].append(item)
    return list(groups.values())


def find_item(postmortem: Postmortem, public_id: str) -> ActionItem:
    item = postmortem.action_items.select_related("kind").filter(public_id=public_id).first()
    if item is None:
        raise NotFound(f'no action item with id "{public_id}" in this postmortem')
    return item


def _link(value: str | None, field: str = "link") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        raise InvalidInput(field, "must be at most 500 characters")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise InvalidInput(field, "must be an http:// or https:// address (the item in your tracker)") from None
    return value


def _due(value, field: str = "due_date") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(field, "must be a date (e.g. 2026-03-31)")
    return value


def _item_fields(fields: dict, prefix: str = "") -> dict:
    clean = {}
    for name, value in fields.items():
        field = prefix + name
        if name == "title":
            clean[name] = required_text(field, value, 300)
        elif name == "kind":
            clean[name] = find_kind(value, field)
        elif name == "owner":
            clean[name] = (value or "").strip()
            if len(clean[name]) > 200:
                raise InvalidInput(field, "must be at most 200 characters")
        elif name == "due_date":
            clean[name] = _due(value, field)
        elif name == "state":
            clean[name] = choice(field, value, ActionItem.State)
        elif name == "link":
            clean[name] = _link(value, field)
        elif name == "description":
            clean[name] = section_text(field, value)
        elif name == "position":
            if not isinstance(value, int):
                raise InvalidInput(field, "must be a whole number")
            clean[name] = integer(field, value)
        else:
            raise InvalidInput(field, "is not a field of an action item")
    return clean


def _item_snapshot(item: ActionItem) -> dict:
    return audit.snapshot(item, ITEM_FIELDS)


def add_action_item(postmortem: Postmortem, *, title: str, kind: str | ActionItemKind, owner: str = "",
                    due_date: date | None = None, state: str = ActionItem.State.OPEN, link: str = "",
                    description: str = "", user=None, now: datetime | None = None) -> ActionItem:
    now = now or timezone.now()
    person = person_of(user)
    fields = _item_fields({"title": title, "kind": kind, "owner": owner, "due_date": due_date, "state": state,
                           "link": link, "description": description})
    with transaction.atomic():
        postmortem = locked(postmortem)
        content_before = document(postmortem)
        last = postmortem.action_items.aggregate(m=Max("position"))["m"] or 0
        item = ActionItem.objects.create(postmortem=postmortem, position=last + 1, created_at=now, updated_at=now,
                                         **fields)
        save_change(postmortem, "postmortem.action_item_add", person, now, before=None,
                    after=_item_snapshot(item), content_before=content_before, obj=item,
                    object_repr=f"{item.title} ({postmortem.title})"[:300])
    return item


def update_action_item(item: ActionItem, *, user=None, now: datetime | None = None, **fields) -> ActionItem:
    """Change an action item: follow it up (state, owner, due_date, link) or rewrite it (title, kind,
    description, position)."""
    now = now or timezone.now()
    person = person_of(user)
    clean = _item_fields(fields)
    with transaction.atomic():
        postmortem = locked(item.postmortem)
        item = ActionItem.objects.select_related("kind").get(pk=item.pk)
        before, content_before = _item_snapshot(item), document(postmortem)
        for name, value in clean.items():
            setattr(item, name, value)
        item.updated_at = now
        item.save()
        changed = {k for k, v in _item_snapshot(item).items() if before.get(k) != v}
        save_change(postmortem, "postmortem.action_item_update", person, now, before=before,
                    after=_item_snapshot(item), content_before=content_before,
                    tracking_only=changed <= TRACKING_FIELDS, obj=item,
                    object_repr=f"{item.title} ({postmortem.title})"[:300])
    return item


def remove_action_item(item: ActionItem, *, user=None, now: datetime | None = None) -> None:
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(item.postmortem)
        content_before = document(postmortem)
        before = _item_snapshot(item)
        ActionItem.objects.filter(pk=item.pk).delete()
        save_change(postmortem, "postmortem.action_item_remove", person, now, before=before, after=None,
                    content_before=content_before, obj=item,
                    object_repr=f"{item.title} ({postmortem.title})"[:300])


# --- kinds of action items ------------------------------------------------------------------------------


def create_kind(*, name: str, position: int | None = None) -> ActionItemKind:
    name = required_text("name", name, 100)
    position = integer("position", position)
    with transaction.atomic():
        kinds = action_item_kinds()
        if any(k.name.lower() == name.lower() for k in kinds):
            raise InvalidInput("name", f'a kind named "{name}" already exists')
        if position is None:
            position = max((k.position for k in kinds), default=0) + 1
        kind = ActionItemKind.objects.create(name=name, position=position)
        audit.record("action_item_kind.create", kind, after={"name": name, "position": position})
    return kind


def update_kind(kind: ActionItemKind, *, name: str | None = None, position: int | None = None) -> ActionItemKind:
    with transaction.atomic():
        kind = ActionItemKind.objects.select_for_update().get(pk=kind.pk)
        before = audit.snapshot(kind, ["name", "position"])
        if name is not None:
            name = required_text("name", name, 100)
            if ActionItemKind.objects.filter(name__iexact=name).exclude(pk=kind.pk).exists():
                raise InvalidInput("name", f'a kind named "{name}" already exists')
            kind.name = name
        if position is not None:
            kind.position = integer("position", position)
        after = audit.snapshot(kind, ["name", "position"])
        if after != before:
            kind.save()
            audit.record("action_item_kind.update", kind, before=before, after=after)
            _republish_showing(Postmortem.objects.filter(action_items__kind=kind))
    return kind


def delete_kind(kind: ActionItemKind) -> None:
    with transaction.atomic():
        kind = ActionItemKind.objects.select_for_update().get(pk=kind.pk)
        used = kind.items.count()
        if used:
            raise InvalidInput("kind", f'"{kind.name}" groups {used} action item{"s" if used != 1 else ""}; '
                                       "move them to another kind first")
        if ActionItemKind.objects.count() <= 1:
            raise InvalidInput("kind", "the last kind of action item cannot be deleted")
        audit.record("action_item_kind.delete", kind, before={"name": kind.name, "position": kind.position})
        kind.delete()


def _republish_showing(postmortems) -> None:
    """A kind renamed or moved changes the published pages that group items under it."""
    record_published_changed(postmortems.filter(status=State.PUBLISHED).distinct())
