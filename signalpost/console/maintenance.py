"""The maintenance screens: what runs, what is coming and what is done; scheduling a window in any time
zone; a window's page with its updates, an overrun that extends it, and starting or completing it now."""

from datetime import UTC, datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.status import reminders as reminder_offsets
from signalpost.status import services
from signalpost.errors import InvalidInput
from signalpost.status.models import (
    Incident,
    IncidentComponent,
    Kind,
    MAINTENANCE_FINISHED,
    MaintenanceStatus,
)

from .forms import (
    MaintenanceForm,
    MaintenanceImpactForm,
    MaintenanceRemindersForm,
    MaintenanceUpdateForm,
    component_blocks,
    show_refusal,
)
from .incidents import (
    bound,
    find_event,
    form_status,
    message_templates,
    page_zone_name,
    updates_of,
    with_updates,
)

PAST_PER_PAGE = 25
RUNNING = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)


def utc_text(value: datetime | None) -> str:
    """The same instant in UTC, beside the page's zone: what a responder checks against other systems."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@role_required("viewer")
@require_safe
def maintenance_list(request: HttpRequest) -> HttpResponse:
    windows = Incident.objects.filter(kind=Kind.MAINTENANCE).prefetch_related(
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")))
    past = Paginator(windows.filter(status__in=MAINTENANCE_FINISHED).order_by("-scheduled_for", "-id"),
                     PAST_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/maintenance_list.html", {
        "running": windows.filter(status__in=RUNNING).order_by("scheduled_for", "id"),
        "upcoming": windows.filter(status=MaintenanceStatus.SCHEDULED).order_by("scheduled_for", "id"),
        "past": past,
    })


@role_required("responder")
def maintenance_new(request: HttpRequest) -> HttpResponse:
    zone_name = page_zone_name()
    form = MaintenanceForm(bound(request), blocks=component_blocks(), zone_name=zone_name)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            maintenance = services.schedule_maintenance(
                name=data["name"], scheduled_for=data["scheduled_for"], scheduled_until=data["scheduled_until"],
                body=data["body"], components=data["components"], auto_start=data["auto_start"],
                auto_complete=data["auto_complete"], deliver_notifications=data["deliver_notifications"],
                reminders=data["reminders"],
            )
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Maintenance “{maintenance.name}” scheduled: "
                                      f"{utc_text(maintenance.scheduled_for)} to {utc_text(maintenance.scheduled_until)}.")
            return redirect("console:maintenance_detail", maintenance.public_id)
    return render(request, "console/maintenance_new.html", {
        "form": form, "templates": message_templates(Kind.MAINTENANCE), "page_zone_name": zone_name,
    }, status=form_status(form))


def _maintenance_page(request: HttpRequest, maintenance: Incident, *, update_form=None, impact_form=None,
                      reminders_form=None, error: str = "") -> HttpResponse:
    maintenance = with_updates(Incident.objects.filter(pk=maintenance.pk)).get()
    context = {
        "maintenance": maintenance, "updates": updates_of(maintenance),
        "affected": list(maintenance.affected.all()), "error": error,
        "for_utc": utc_text(maintenance.scheduled_for), "until_utc": utc_text(maintenance.scheduled_until),
        "completed": maintenance.status in MAINTENANCE_FINISHED,
        "reminders": reminder_offsets.described(reminder_offsets.of(maintenance)),
        "own_reminders": maintenance.reminders is not None,
    }
    if has_role(request.user, "responder") and not context["completed"]:
        context.update(
            update_form=update_form or MaintenanceUpdateForm(maintenance=maintenance, zone_name=page_zone_name()),
            templates=message_templates(Kind.MAINTENANCE),
        )
    if has_role(request.user, "responder"):  # the impact is often known only after the window
        context["impact_form"] = impact_form or MaintenanceImpactForm(
            prefix="impact", maintenance=maintenance, zone_name=page_zone_name())
    if has_role(request.user, "responder") and maintenance.status == MaintenanceStatus.SCHEDULED:
        context["reminders_form"] = reminders_form or MaintenanceRemindersForm(
            prefix="reminders", maintenance=maintenance)
    failed = error or any(f is not None and f.errors for f in (update_form, impact_form, reminders_form))
    return render(request, "console/maintenance.html", context, status=400 if failed else 200)


@role_required("viewer")
@require_safe
def maintenance_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _maintenance_page(request, find_event(public_id, Kind.MAINTENANCE))


@role_required("responder")
@require_POST
def maintenance_update(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    form = MaintenanceUpdateForm(request.POST, maintenance=maintenance, zone_name=page_zone_name())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.post_maintenance_update(
                maintenance, status=data["status"], body=data["body"], scheduled_until=data["scheduled_until"],
                display_at=data["display_at"], deliver_notifications=data["deliver_notifications"],
                overrun=data["overrun"],
            )
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            extended = (f" The window now ends {utc_text(data['scheduled_until'])}." if data["scheduled_until"] else
                        " The window stays open until it is completed." if data["overrun"] else "")
            messages.success(request, f"Update posted.{extended}")
            return redirect("console:maintenance_detail", maintenance.public_id)
    return _maintenance_page(request, maintenance, update_form=form)


@role_required("responder")
@require_POST
def maintenance_start(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    try:  # a second click, or the worker was first: refused by the service
        services.start_maintenance(maintenance)
    except InvalidInput as refusal:
        return _maintenance_page(request, maintenance, error=f"Not started: {refusal.message}.")
    messages.success(request, "Maintenance started; its components show as under maintenance.")
    return redirect("console:maintenance_detail", maintenance.public_id)


@role_required("responder")
@require_POST
def maintenance_complete(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    try:
        services.complete_maintenance(maintenance)
    except InvalidInput as refusal:
        return _maintenance_page(request, maintenance, error=f"Not completed: {refusal.message}.")
    messages.success(request, "Maintenance completed; its components are operational again.")
    return redirect("console:maintenance_detail", maintenance.public_id)


@role_required("responder")
@require_POST
def maintenance_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    try:
        services.cancel_maintenance(maintenance)
    except InvalidInput as refusal:
        return _maintenance_page(request, maintenance, error=f"Not cancelled: {refusal.message}.")
    messages.success(request, "Maintenance cancelled; it stays in the history, marked cancelled.")
    return redirect("console:maintenance_detail", maintenance.public_id)


@role_required("responder")
@require_POST
def maintenance_impact(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    form = MaintenanceImpactForm(request.POST, prefix="impact", zone_name=page_zone_name())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_incident(maintenance, impact=data["impact"], impact_started_at=data["impact_started_at"],
                                   impact_ended_at=data["impact_ended_at"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Customer impact saved; uptime and durations count it.")
            return redirect("console:maintenance_detail", maintenance.public_id)
    return _maintenance_page(request, maintenance, impact_form=form)


@role_required("responder")
@require_POST
def maintenance_reminders(request: HttpRequest, public_id: str) -> HttpResponse:
    maintenance = find_event(public_id, Kind.MAINTENANCE)
    form = MaintenanceRemindersForm(request.POST, prefix="reminders")
    if form.is_valid():
        try:
            services.edit_incident(maintenance, reminders=form.cleaned_data["reminders"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            maintenance.refresh_from_db()
            messages.success(request, "Reminders saved: "
                                      f"{reminder_offsets.described(reminder_offsets.of(maintenance))}.")
            return redirect("console:maintenance_detail", maintenance.public_id)
    return _maintenance_page(request, maintenance, reminders_form=form)
