"""Affected components as readers know them: grouped, in the page's order, hidden ones left out."""

from collections.abc import Iterable

from signalpost.status.layout import in_page_order
from signalpost.status.models import Component, ComponentGroup


def affected_text(components: Iterable[Component]) -> str:
    """ "Switzerland (zh1.single, zh2.cluster), Mail delivery" """
    parts: list[tuple[ComponentGroup | None, list[str]]] = []
    by_group: dict[int, tuple[ComponentGroup, list[str]]] = {}
    for component in in_page_order(c for c in components if c.is_visible):
        if component.group_id is None:
            parts.append((None, [component.name]))
            continue
        if component.group_id not in by_group:
            by_group[component.group_id] = (component.group, [])
            parts.append(by_group[component.group_id])
        by_group[component.group_id][1].append(component.name)
    return ", ".join(names[0] if group is None else f"{group.name} ({', '.join(names)})" for group, names in parts)
