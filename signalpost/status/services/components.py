"""Groups and components, and manual overrides of a component's status."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput

from ..changes import ComponentWatch, record_component, record_group
from ..models import Component, ComponentGroup, ComponentStatus, StatusOverride
from ..validation import choice, integer, required_text
from .common import COMPONENT_FIELDS, GROUP_FIELDS, touch_page


def _next_top_level_position() -> int:
    """Groups and ungrouped components share one order on the page: a new one goes last."""
    last_group = ComponentGroup.objects.order_by("-position").values_list("position", flat=True).first() or 0
    last_component = (
        Component.objects.filter(group__isnull=True).order_by("-position").values_list("position", flat=True).first() or 0
    )
    return max(last_group, last_component) + 1


def _next_position_in(group: ComponentGroup | None) -> int:
    if group is None:
        return _next_top_level_position()
    last = Component.objects.filter(group=group).order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def _visibility_kind(subject: str, before: dict | None, after: dict) -> str:
    if before is not None and before.get("hidden") != after.get("hidden"):
        return f"{subject}.hidden" if after.get("hidden") else f"{subject}.shown"
    return f"{subject}.changed"


def create_group(*, name: str, description: str = "", position: int | None = None, hidden: bool = False) -> ComponentGroup:
    name = required_text("name", name, 200)
    position = integer("position", position)
    with transaction.atomic():
        if ComponentGroup.objects.filter(name=name).exists():
            raise InvalidInput("name", f'a group named "{name}" already exists')
        if position is None:
            position = _next_top_level_position()
        group = ComponentGroup.objects.create(name=name, description=description, position=position, hidden=hidden)
        after = audit.snapshot(group, GROUP_FIELDS)
        audit.record("group.create", group, after=after)
        record_group("group.created", group, after=after)
        touch_page(group.created_at)
    return group


def update_group(group: ComponentGroup, **fields) -> ComponentGroup:
    integer("position", fields.get("position"))
    with transaction.atomic():
        before = audit.snapshot(ComponentGroup.objects.get(pk=group.pk), GROUP_FIELDS)
        if "name" in fields:
            name = required_text("name", fields.pop("name"), 200)
            if ComponentGroup.objects.filter(name=name).exclude(pk=group.pk).exists():
                raise InvalidInput("name", f'a group named "{name}" already exists')
            group.name = name
        for key in ("description", "position", "hidden"):
            if key in fields:
                setattr(group, key, fields.pop(key))
        if fields:
            raise InvalidInput(next(iter(fields)), "is not a field of a group")
        after = audit.snapshot(group, GROUP_FIELDS)
        if after == before:
            return group  # nothing changed: nothing to record or republish
        group.updated_at = timezone.now()
        group.save()
        audit.record("group.update", group, before=before, after=after)
        changed_before, changed_after = audit.changed_only(before, after)
        record_group(_visibility_kind("group", before, after), group, before=changed_before, after=changed_after,
                     components=Component.objects.filter(group=group))
        touch_page(group.updated_at)
    return group


def create_component(
    *,
    name: str,
    group: ComponentGroup | None = None,
    description: str = "",
    position: int | None = None,
    hidden: bool = False,
    third_party: bool = False,
    only_show_if_degraded: bool = False,
    start_date=None,
) -> Component:
    name = required_text("name", name, 200)
    position = integer("position", position)
    with transaction.atomic():
        if Component.objects.filter(group=group, name=name).exists():
            raise InvalidInput("name", f'a component named "{name}" already exists{" in " + group.name if group else ""}')
        if position is None:
            position = _next_position_in(group)
        component = Component.objects.create(
            name=name, group=group, description=description, position=position, hidden=hidden,
            third_party=third_party, only_show_if_degraded=only_show_if_degraded, start_date=start_date,
        )
        after = audit.snapshot(component, COMPONENT_FIELDS)
        audit.record("component.create", component, after=after)
        record_component("component.created", component, after=after)
        touch_page(component.created_at)
    return component


def update_component(component: Component, **fields) -> Component:
    integer("position", fields.get("position"))
    with transaction.atomic():
        before = audit.snapshot(Component.objects.select_related("group").get(pk=component.pk), COMPONENT_FIELDS)
        group = fields.pop("group", component.group) if "group" in fields else component.group
        name = required_text("name", fields.pop("name"), 200) if "name" in fields else component.name
        if Component.objects.filter(group=group, name=name).exclude(pk=component.pk).exists():
            raise InvalidInput("name", f'a component named "{name}" already exists in that group')
        if group != component.group and "position" not in fields:
            fields["position"] = _next_position_in(group)  # a component moved elsewhere goes last there
        component.group, component.name = group, name
        for key in ("description", "position", "hidden", "third_party", "only_show_if_degraded", "start_date"):
            if key in fields:
                setattr(component, key, fields.pop(key))
        if fields:
            raise InvalidInput(next(iter(fields)), "is not a field of a component")
        after = audit.snapshot(component, COMPONENT_FIELDS)
        if after == before:
            return component  # nothing changed: nothing to record or republish
        component.updated_at = timezone.now()
        component.save()
        audit.record("component.update", component, before=before, after=after)
        changed_before, changed_after = audit.changed_only(before, after)
        record_component(_visibility_kind("component", before, after), component, before=changed_before,
                         after=changed_after)
        touch_page(component.updated_at)
    return component


def set_override(component: Component, status: str, reason: str = "", now: datetime | None = None) -> StatusOverride:
    """Force a component's status by hand until cleared; history is kept as rows."""
    choice("status", status, ComponentStatus)
    now = now or timezone.now()
    with transaction.atomic():
        watch = ComponentWatch([component], now)
        previous = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).first()
        StatusOverride.objects.filter(component=component, cleared_at__isnull=True).update(cleared_at=now)
        override = StatusOverride.objects.create(component=component, status=status, reason=reason, set_at=now)
        audit.record("component.override", component,
                     before={"override": previous.status if previous else None},
                     after={"override": status, "reason": reason}, diff=False)
        Component.objects.filter(pk=component.pk).update(updated_at=now)
        record_component("component.override_set", component, statuses=watch.changes(),
                         after={"override": status, "reason": reason},
                         before={"override": previous.status if previous else None})
        touch_page(now)
    return override


def clear_override(component: Component, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        watch = ComponentWatch([component], now)
        previous = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).first()
        cleared = StatusOverride.objects.filter(component=component, cleared_at__isnull=True).update(cleared_at=now)
        if cleared:
            audit.record("component.override_clear", component, before={"override": previous.status},
                         after={"override": None})
            Component.objects.filter(pk=component.pk).update(updated_at=now)
            record_component("component.override_cleared", component, statuses=watch.changes(),
                             before={"override": previous.status}, after={"override": None})
            touch_page(now)
    return bool(cleared)


def _history_of(component: Component) -> int:
    """How many incidents and maintenance windows name the component (their pages would lose it)."""
    from ..models import AffectedComponent, IncidentComponent

    named = set(IncidentComponent.objects.filter(component=component).values_list("incident_id", flat=True))
    named |= set(AffectedComponent.objects.filter(component=component).values_list("update__incident_id", flat=True))
    return len(named)


def remove_component(component: Component) -> None:
    """Remove a component that was never part of an incident, a maintenance or an override (one added
    by mistake). One with history is kept, so that past pages and uptime stay as they were: hide it."""
    with transaction.atomic():
        component = Component.objects.select_for_update(of=("self",)).select_related("group").get(pk=component.pk)
        named = _history_of(component)
        if named:
            raise InvalidInput("component", f'"{component}" appears in the history of {named} incident'
                                            f'{"s" if named != 1 else ""} or maintenance; hide it instead, so '
                                            "that their pages and its uptime stay as they were")
        if StatusOverride.objects.filter(component=component).exists():
            raise InvalidInput("component", f'"{component}" has a history of manual statuses; hide it instead')
        before = audit.snapshot(component, COMPONENT_FIELDS)
        audit.record("component.remove", component, before=before)
        record_component("component.removed", component, before=before)
        component.delete()
        touch_page(timezone.now())


def remove_group(group: ComponentGroup) -> None:
    """Remove an empty group; its components are moved or removed first."""
    with transaction.atomic():
        group = ComponentGroup.objects.select_for_update().get(pk=group.pk)
        members = Component.objects.filter(group=group).count()
        if members:
            raise InvalidInput("group", f'"{group}" holds {members} component{"s" if members != 1 else ""}; '
                                        "move them to another group or remove them first")
        before = audit.snapshot(group, GROUP_FIELDS)
        audit.record("group.remove", group, before=before)
        record_group("group.removed", group, before=before)
        group.delete()
        touch_page(timezone.now())
