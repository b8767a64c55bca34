"""What the status verbs share: the page, finding things by what people call them, the fields each
audit entry keeps. Who is acting is never a parameter: it is the audit actor of the request, the CLI
command or the worker job (accounts/audit.py), which every verb's audit entry records."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Q

from signalpost.errors import InvalidInput, NotFound

from ..models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatus,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Page,
)

ComponentStatuses = Mapping[Component, str]

PAGE_FIELDS = ("name", "url", "time_zone", "accent_color", "header_color", "custom_css", "footer_links", "logo_type",
               "logo_digest")
GROUP_FIELDS = ("name", "description", "position", "hidden")
COMPONENT_FIELDS = ("name", "group", "description", "position", "hidden", "third_party", "only_show_if_degraded",
                    "start_date")
INCIDENT_FIELDS = ("name", "status", "impact", "started_at", "resolved_at", "impact_started_at", "impact_ended_at")
MAINTENANCE_FIELDS = ("name", "status", "impact", "scheduled_for", "scheduled_until", "auto_start", "auto_complete",
                      "impact_started_at", "impact_ended_at", "reminders")


def components_audit(statuses: Mapping[Component, str]) -> dict[str, str]:
    return {str(component): status for component, status in statuses.items()}


def get_page() -> Page:
    """The page, created on first use with the installation's defaults (TIME_ZONE, SIGNALPOST_URL)."""
    page, _ = Page.objects.get_or_create(
        pk=1, defaults={"time_zone": settings.TIME_ZONE, "url": settings.SITE_URL, "name": settings.PAGE_NAME}
    )
    return page


def page_time_zone() -> ZoneInfo:
    """The zone a date entered without a time belongs to: the page's."""
    try:
        return ZoneInfo(get_page().time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def after_same_day(at: datetime, on: date | None, floor: datetime | None, zone: ZoneInfo) -> datetime:
    """A time known by its date alone sorts after what is already shown on that day (`floor`)."""
    if on is not None and floor is not None and at < floor and floor.astimezone(zone).date() == on:
        return floor
    return at


def touch_page(now: datetime) -> None:
    """The page's own `updated_at` (Statuspage's page.updated_at) moves with every change on it."""
    Page.objects.filter(pk=get_page().pk).update(updated_at=now)


def find_components(refs: Iterable[str], field: str = "components") -> list[Component]:
    """Components by public id or exact name ("Group/Name" for a grouped one); unknown ones are refused."""
    found = []
    for ref in refs:
        component = Component.objects.filter(public_id=ref).first()
        if component is None:
            by_name = Component.objects.filter(name=ref)
            if "/" in ref and not by_name.exists():
                group_name, _, name = ref.partition("/")
                by_name = Component.objects.filter(group__name=group_name.strip(), name=name.strip())
            if by_name.count() == 1:
                component = by_name.get()
            elif by_name.count() > 1:
                raise InvalidInput(field, f'"{ref}" names several components; use its id or "Group/Name"')
        if component is None:
            raise InvalidInput(field, f'unknown component "{ref}"')
        found.append(component)
    return found


def find_group(ref: str, field: str = "group") -> ComponentGroup:
    """A group by public id or exact name; an unknown one is refused."""
    group = ComponentGroup.objects.filter(public_id=ref).first() or ComponentGroup.objects.filter(name=ref).first()
    if group is None:
        raise InvalidInput(field, f'unknown group "{ref}"')
    return group


def find_incident(public_id: str, kind: str | None = None) -> Incident:
    qs = Incident.objects.all() if kind is None else Incident.objects.filter(kind=kind)
    try:
        return qs.get(public_id=public_id)
    except Incident.DoesNotExist:
        raise NotFound(f'no {kind or "incident"} with id "{public_id}"') from None


def shown_after(update: IncidentUpdate, prefix: str = "") -> Q:
    """The updates of its incident shown after `update` (display time, then the order posted)."""
    return Q(**{f"{prefix}display_at__gt": update.display_at}) | Q(
        **{f"{prefix}display_at": update.display_at, f"{prefix}id__gt": update.id})


def shown_before(update: IncidentUpdate, prefix: str = "") -> Q:
    return Q(**{f"{prefix}display_at__lt": update.display_at}) | Q(
        **{f"{prefix}display_at": update.display_at, f"{prefix}id__lt": update.id})


def apply_components(incident: Incident, update: IncidentUpdate, statuses: dict[Component, str]) -> None:
    """The statuses an update gives components: the incident's current ones, and their history rows.
    An update shown before others (an earlier display time) takes its place in each component's
    history: the status it gives holds until the next update naming the component, and the incident's
    current status for it stays the one of the latest update shown."""
    current = {ic.component_id: ic for ic in IncidentComponent.objects.filter(incident=incident)}
    backdated = IncidentUpdate.objects.filter(shown_after(update), incident=incident).exists()
    for component, new_status in statuses.items():
        link = current.get(component.pk)
        old_status = link.status if link else ComponentStatus.OPERATIONAL
        latest = True
        if backdated:
            history = AffectedComponent.objects.filter(update__incident=incident, component=component)
            earlier = history.filter(shown_before(update, "update__")).order_by("-update__display_at", "-update__id")
            old_status = next(iter(earlier.values_list("new_status", flat=True)[:1]), ComponentStatus.OPERATIONAL)
            following = history.filter(shown_after(update, "update__")).order_by("update__display_at", "update__id").first()
            if following is not None:
                latest = False
                following.old_status = new_status
                following.save(update_fields=["old_status"])
        if link:
            if latest and link.status != new_status:
                link.status = new_status
                link.save(update_fields=["status"])
        else:
            IncidentComponent.objects.create(incident=incident, component=component, status=new_status)
        AffectedComponent.objects.create(update=update, component=component, old_status=old_status, new_status=new_status)
        Component.objects.filter(pk=component.pk).update(updated_at=update.created_at)
