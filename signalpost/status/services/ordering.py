"""Reordering the page: groups and ungrouped components share one order at the top level, and each
group orders its own components. A reorder is one write: one transaction, one audit entry, one event."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from ..changes import record_group, record_page
from ..layout import group_order, top_level_order
from ..models import Component, ComponentGroup, Page
from .common import get_page, touch_page


def _ref(item: ComponentGroup | Component) -> tuple[str, int]:
    return ("group" if isinstance(item, ComponentGroup) else "component", item.pk)


def _same_members(field: str, wanted: list, current: list) -> None:
    if len({_ref(i) for i in wanted}) != len(wanted) or sorted(map(_ref, wanted)) != sorted(map(_ref, current)):
        raise InvalidInput(field, "the new order must name each of them exactly once; the components may have "
                                  "changed meanwhile: reload and try again")


def _write_positions(items: list, now: datetime) -> None:
    for position, item in enumerate(items, start=1):
        type(item).objects.filter(pk=item.pk).update(position=position, updated_at=now)
        item.position = position


def reorder_top_level(items: Iterable[ComponentGroup | Component]) -> bool:
    """Put the page's groups and ungrouped components in this order (all of them, each once). One audit
    entry for the whole move; nothing is written when the order is unchanged. Returns whether it changed."""
    items = list(items)
    now = timezone.now()
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=get_page().pk)  # one reorder at a time
        current = top_level_order()
        _same_members("order", items, current)
        if list(map(_ref, items)) == list(map(_ref, current)):
            return False
        _write_positions(items, now)
        before, after = {"order": [str(i) for i in current]}, {"order": [str(i) for i in items]}
        audit.record("page.reorder", page, object_repr="order of the page's groups and components",
                     before=before, after=after, diff=False)
        record_page("order", before=before, after=after)  # incident pages list components in this order too
        touch_page(now)
    return True


def reorder_group(group: ComponentGroup, components: Iterable[Component]) -> bool:
    """Put a group's components in this order (all of them, each once); as reorder_top_level."""
    components = list(components)
    now = timezone.now()
    with transaction.atomic():
        group = ComponentGroup.objects.select_for_update().get(pk=group.pk)
        current = group_order(group)
        _same_members("order", components, current)
        if [c.pk for c in components] == [c.pk for c in current]:
            return False
        _write_positions(components, now)
        before, after = {"order": [c.name for c in current]}, {"order": [c.name for c in components]}
        audit.record("group.reorder", group, before=before, after=after, diff=False)
        record_group("group.changed", group, before=before, after=after, components=components)
        touch_page(now)
    return True
