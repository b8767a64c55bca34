"""The page's order, written once: groups and ungrouped components share one order at the top level
(by position, a group first on a tie, then by name), and each group orders its own components (by
position, then name). The public page, /api/v2, the console, the management API, the CLI and the
reports all lay components out through these functions, in Python or in SQL.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower

from .models import Component, ComponentGroup


def _top_key(item: ComponentGroup | Component) -> tuple:
    return (item.position, 0 if isinstance(item, ComponentGroup) else 1, item.name.lower(), item.pk)


def component_key(component: Component) -> tuple:
    """Where a component stands on the page; its group must be loaded (select_related)."""
    if component.group_id is None:
        return (*_top_key(component), 0, "", 0)
    return (*_top_key(component.group), component.position, component.name.lower(), component.pk)


def in_page_order(components: Iterable[Component]) -> list[Component]:
    return sorted(components, key=component_key)


def page_order(groups: Iterable[ComponentGroup], ungrouped: Iterable[Component]) -> list[ComponentGroup | Component]:
    """The top level of the page, in order."""
    return sorted([*groups, *ungrouped], key=_top_key)


def page_order_sql() -> list:
    """`component_key` as ORDER BY expressions, for lists a database pages through."""
    grouped = When(group__isnull=False, then=Value(0))
    return [
        Coalesce(F("group__position"), F("position")),
        Case(grouped, default=Value(1), output_field=IntegerField()),
        Lower(Coalesce(F("group__name"), F("name"))),
        Coalesce(F("group_id"), F("id")),
        Case(When(group__isnull=False, then=F("position")), default=Value(0), output_field=IntegerField()),
        Case(When(group__isnull=False, then=Lower(F("name"))), default=Value("")),
        F("id"),
    ]


@dataclass
class Block:
    """One entry of the page's top level: a group with its components, or one ungrouped component."""

    group: ComponentGroup | None
    components: list[Component]


def blocks(components: Iterable[Component], groups: Iterable[ComponentGroup], *,
           keep_empty_groups: bool = False) -> list[Block]:
    """The page's layout from components (their groups loaded) and groups; a group none of the given
    components belongs to is left out unless `keep_empty_groups`."""
    members: dict[int, list[Component]] = {}
    ungrouped: list[Component] = []
    for component in components:
        if component.group_id is None:
            ungrouped.append(component)
        else:
            members.setdefault(component.group_id, []).append(component)
    result = []
    for item in page_order([g for g in groups if keep_empty_groups or g.pk in members], ungrouped):
        if isinstance(item, ComponentGroup):
            result.append(Block(item, in_page_order(members.get(item.pk, []))))
        else:
            result.append(Block(None, [item]))
    return result


def layout(*, visible_only: bool, keep_empty_groups: bool = False) -> list[Block]:
    """The page's layout read from the database: what readers see (`visible_only`), or everything, hidden
    components and groups included, as responders need it. Two queries."""
    groups: QuerySet[ComponentGroup] = ComponentGroup.objects.all()
    components = Component.objects.all()
    if visible_only:
        groups = groups.filter(hidden=False)
        components = components.visible()
    groups = list(groups)
    by_pk = {g.pk: g for g in groups}
    loaded = list(components)
    for component in loaded:
        if component.group_id is not None:
            component.group = by_pk[component.group_id]  # no query per component
    return blocks(loaded, groups, keep_empty_groups=keep_empty_groups)


def components_in_page_order(*, visible_only: bool) -> list[Component]:
    return [c for block in layout(visible_only=visible_only) for c in block.components]


def top_level_order() -> list[ComponentGroup | Component]:
    """The groups and ungrouped components in the page's order, hidden ones included."""
    return page_order(ComponentGroup.objects.all(), Component.objects.filter(group__isnull=True))


def group_order(group: ComponentGroup) -> list[Component]:
    return list(Component.objects.filter(group=group).order_by("position", "name", "pk"))
