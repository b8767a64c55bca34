"""The console's dashboard and the Markdown preview every update form uses."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.presentation.markdown import render_markdown
from signalpost.status import derive, readable
from signalpost.status.models import (
    Component,
    ComponentGroup,
    Incident,
    IncidentComponent,
    IncidentStatus,
    Kind,
    MAINTENANCE_FINISHED,
    MaintenanceStatus,
    StatusOverride,
)
from signalpost.status.layout import page_order

from .background import background_context

PREVIEW_LIMIT = 100_000


def _events(queryset):
    return queryset.prefetch_related(
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")),
        "updates",
    )


@role_required("viewer")
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    open_incidents = _events(Incident.objects.filter(kind=Kind.INCIDENT).exclude(status=IncidentStatus.RESOLVED)
                             .order_by("-started_at"))
    maintenance = _events(Incident.objects.filter(kind=Kind.MAINTENANCE).exclude(status__in=MAINTENANCE_FINISHED)
                          .order_by("scheduled_for"))
    components = list(Component.objects.select_related("group").prefetch_related(
        Prefetch("overrides", queryset=StatusOverride.objects.filter(readable.overrides(), cleared_at__isnull=True),
                 to_attr="open_overrides")
    ))
    statuses = derive.current_statuses(components, now)
    reasons = derive.status_reasons(components, now)
    groups = list(ComponentGroup.objects.all())
    by_group: dict[int | None, list] = {}
    for component in components:
        component.status = statuses[component.pk]
        component.reasons = reasons[component.pk]
        by_group.setdefault(component.group_id, []).append(component)
    blocks = []
    for item in page_order(groups, by_group.get(None, [])):
        if isinstance(item, ComponentGroup):
            blocks.append({"group": item, "components": by_group.get(item.pk, [])})
        else:
            blocks.append({"group": None, "components": [item]})
    indicator, description = derive.page_indicator(
        {c.pk: c.status for c in components if c.is_visible}, now)
    return render(request, "console/dashboard.html", {
        **background_context(),
        "now": now,
        "open_incidents": open_incidents,
        "running": [m for m in maintenance if m.status != MaintenanceStatus.SCHEDULED],
        "upcoming": [m for m in maintenance if m.status == MaintenanceStatus.SCHEDULED],
        "blocks": blocks,
        "indicator": indicator,
        "indicator_description": description,
    })


@role_required("responder")
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The body rendered by the very function the public pages use, so the preview is what readers see."""
    body = request.POST.get("body", "")
    if len(body) > PREVIEW_LIMIT:
        return HttpResponse(f"The text is longer than {PREVIEW_LIMIT:,} characters.", status=413,
                            content_type="text/plain")
    return HttpResponse(render_markdown(body), content_type="text/html; charset=utf-8")
