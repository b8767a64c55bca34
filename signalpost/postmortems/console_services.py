"""Writes the console needs that the postmortem verbs do not offer yet. Like every service: one audit
entry inside the write's transaction, none when nothing changed."""

from django.db import transaction

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from .changes import record_published_changed
from .models import ActionItemKind, Postmortem, State

DIRECTIONS = ("up", "down")


def move_kind(kind: ActionItemKind, direction: str) -> list[ActionItemKind]:
    """Move a kind of action item one place up or down the team's list. The whole list is renumbered
    1..n in one write, so that positions left equal (or spaced) by earlier edits cannot make the move
    a no-op; published postmortems group their items in the new order."""
    if direction not in DIRECTIONS:
        raise InvalidInput("direction", 'must be "up" or "down"')
    with transaction.atomic():
        kinds = list(ActionItemKind.objects.select_for_update().order_by("position", "name"))
        index = next((n for n, k in enumerate(kinds) if k.pk == kind.pk), None)
        if index is None:
            raise InvalidInput("kind", "no such kind of action item")
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(kinds):
            return kinds  # already first (or last): nothing changes, nothing is recorded
        before = [k.name for k in kinds]
        kinds[index], kinds[other] = kinds[other], kinds[index]
        for position, each in enumerate(kinds, start=1):
            if each.position != position:
                each.position = position
                each.save(update_fields=["position"])
        moved = kinds[other]
        audit.record("action_item_kind.move", moved, before={"order": before}, after={"order": [k.name for k in kinds]})
        record_published_changed(
            Postmortem.objects.filter(status=State.PUBLISHED, action_items__kind__in=kinds).distinct())
    return kinds
