"""The incident screens: the list, opening one in a single submission, its page with every update and
the update form, correcting an update's text, and recording a past incident after the fact.

Each view parses its form, calls one service, and on a refusal shows the service's words beside the
field at fault with HTTP 400; nothing is saved then, because each service writes in one transaction.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.presentation.zone import page_zone
from signalpost.status import services
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import (
    AffectedComponent,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Kind,
)

from .forms import (
    BackfillForm,
    IncidentEditForm,
    IncidentOpenForm,
    IncidentUpdateForm,
    UpdateEditForm,
    component_blocks,
    show_refusal,
)
from .models import MessageTemplate

RESOLVED_PER_PAGE = 25


def page_zone_name() -> str:
    return page_zone(services.get_page()).key


def message_templates(kind: str) -> list[MessageTemplate]:
    return list(MessageTemplate.objects.filter(kind=kind))


def bound(request: HttpRequest):
    """The POST data for a form, or None on GET (an empty POST still binds, so it is refused)."""
    return request.POST if request.method == "POST" else None


def form_status(form) -> int:
    return 400 if form is not None and form.is_bound and form.errors else 200


def with_updates(events: QuerySet[Incident]) -> QuerySet[Incident]:
    """Affected components and every update with its component changes, in a fixed number of queries."""
    return events.prefetch_related(
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")
                 .order_by("component__group__position", "component__position", "component__name")),
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id").prefetch_related(
            Prefetch("component_changes",
                     queryset=AffectedComponent.objects.select_related("component").order_by("id")))),
    )


def updates_of(event: Incident) -> list[IncidentUpdate]:
    """The event's updates, newest first (each says whether it was posted well after the time it shows)."""
    return list(event.updates.all())


def find_event(public_id: str, kind: str) -> Incident:
    try:
        return services.find_incident(public_id, kind)
    except NotFound as error:
        raise Http404(str(error)) from None


# --- the list ---------------------------------------------------------------------------------------


@role_required("viewer")
@require_safe
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = (Incident.objects.filter(kind=Kind.INCIDENT).annotate(last_update_at=Max("updates__display_at"))
                 .prefetch_related(Prefetch("affected", queryset=IncidentComponent.objects
                                            .select_related("component__group"))))
    open_incidents = incidents.exclude(status=IncidentStatus.RESOLVED).order_by("-started_at", "-id")
    resolved = Paginator(incidents.filter(status=IncidentStatus.RESOLVED).order_by("-resolved_at", "-id"),
                         RESOLVED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/incident_list.html", {"open_incidents": open_incidents, "resolved": resolved})


# --- opening one --------------------------------------------------------------------------------------


@role_required("responder")
def incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentOpenForm(bound(request), blocks=component_blocks(), zone_name=page_zone_name())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_incident(
                name=data["name"], status=data["status"], impact=data["impact"], body=data["body"],
                components=form.component_statuses(), display_at=data["display_at"],
                deliver_notifications=data["deliver_notifications"],
            )
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Incident “{incident.name}” is open and on the public page.")
            return redirect("console:incident", incident.public_id)
    return render(request, "console/incident_new.html", {
        "form": form, "templates": message_templates(Kind.INCIDENT),
    }, status=form_status(form))


# --- one incident -------------------------------------------------------------------------------------


def event_duration(incident: Incident) -> timedelta | None:
    """How long it lasted; unknown when it began or ended on a day whose time is not known."""
    if not incident.resolved_at or incident.started_on or incident.resolved_on:
        return None
    return incident.resolved_at - incident.started_at


def impact_duration(incident: Incident) -> timedelta | None:
    """How long customers were affected, when the incident gives its impact window and it has ended."""
    end = incident.impact_ended_at or (incident.resolved_at if not incident.resolved_on else None)
    if incident.impact_started_at is None or end is None:
        return None
    return end - incident.impact_started_at


def _incident_page(request: HttpRequest, incident: Incident, *, update_form=None, edit_form=None,
                   error: str = "") -> HttpResponse:
    incident = with_updates(Incident.objects.filter(pk=incident.pk)).get()
    context = {"incident": incident, "updates": updates_of(incident), "affected": list(incident.affected.all()),
               "error": error, "duration": event_duration(incident), "impact_duration": impact_duration(incident)}
    if has_role(request.user, "responder"):
        current = {link.component_id: link.status for link in context["affected"]}
        context.update(
            update_form=update_form or IncidentUpdateForm(incident=incident, blocks=component_blocks(),
                                                          current=current, zone_name=page_zone_name()),
            edit_form=edit_form or IncidentEditForm(prefix="edit", incident=incident, zone_name=page_zone_name()),
            templates=message_templates(Kind.INCIDENT),
        )
    failed = error or any(f is not None and f.is_bound and f.errors for f in (update_form, edit_form))
    return render(request, "console/incident.html", context, status=400 if failed else 200)


@role_required("viewer")
@require_safe
def incident_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _incident_page(request, find_event(public_id, Kind.INCIDENT))


@role_required("responder")
@require_POST
def incident_update(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = find_event(public_id, Kind.INCIDENT)
    current = dict(IncidentComponent.objects.filter(incident=incident).values_list("component_id", "status"))
    form = IncidentUpdateForm(request.POST, incident=incident, blocks=component_blocks(), current=current,
                              zone_name=page_zone_name())
    if form.is_valid():
        data = form.cleaned_data
        try:
            update = services.post_update(
                incident, status=data["status"], body=data["body"],
                # Only what the responder changed: resolving returns the rest to operational by itself.
                components=form.component_statuses(changed_only=True),
                impact=data["impact"] if data["impact"] != incident.impact else None,
                display_at=data["display_at"], reopen=data["reopen"],
                deliver_notifications=data["deliver_notifications"],
            )
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            was_resolved = incident.status == IncidentStatus.RESOLVED  # as loaded, before this update
            done = ("Incident reopened." if was_resolved else
                    "Incident resolved." if update.status == IncidentStatus.RESOLVED else "Update posted.")
            messages.success(request, f"{done} The public page shows it.")
            return redirect("console:incident", incident.public_id)
    return _incident_page(request, incident, update_form=form)


@role_required("responder")
@require_POST
def incident_resolve(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = find_event(public_id, Kind.INCIDENT)
    try:
        services.resolve_incident(incident)
    except InvalidInput as refusal:
        return _incident_page(request, incident, error=f"Not resolved: {refusal.message}.")
    messages.success(request, "Incident resolved; its components are operational again.")
    return redirect("console:incident", incident.public_id)


@role_required("responder")
@require_POST
def incident_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = find_event(public_id, Kind.INCIDENT)
    form = IncidentEditForm(request.POST, prefix="edit", zone_name=page_zone_name())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_incident(incident, name=data["name"], impact=data["impact"],
                                   impact_started_at=data["impact_started_at"], impact_ended_at=data["impact_ended_at"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Title, impact and impact window saved.")
            return redirect("console:incident", incident.public_id)
    return _incident_page(request, incident, edit_form=form)


def detail_url_name(incident: Incident) -> str:
    return "console:maintenance_detail" if incident.is_maintenance else "console:incident"


@role_required("responder")
def update_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    update = IncidentUpdate.objects.select_related("incident").filter(public_id=public_id).first()
    if update is None:
        raise Http404(f'no update with id "{public_id}"')
    form = UpdateEditForm(bound(request), initial={"body": update.body})
    if request.method == "POST" and form.is_valid():
        unchanged = form.cleaned_data["body"] == update.body
        try:
            services.edit_update(update, body=form.cleaned_data["body"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            if unchanged:
                messages.info(request, "The text was unchanged; nothing was saved.")
            else:
                messages.success(request, "Update corrected; the public page says it was edited.")
            return redirect(detail_url_name(update.incident), update.incident.public_id)
    return render(request, "console/incident_update_edit.html", {
        "form": form, "update": update, "incident": update.incident,
        "templates": message_templates(update.incident.kind),
    }, status=form_status(form))


# --- a past incident ------------------------------------------------------------------------------------


@role_required("responder")
def incident_backfill(request: HttpRequest) -> HttpResponse:
    form = BackfillForm(bound(request), blocks=component_blocks(), zone_name=page_zone_name())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.backfill_incident(
                name=data["name"], impact=data["impact"], started_at=data["started_at"],
                resolved_at=data["resolved_at"], body=data["body"], resolution_body=data["resolution_body"],
                components=form.component_statuses(), impact_started_at=data["impact_started_at"],
                impact_ended_at=data["impact_ended_at"],
            )
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Past incident “{incident.name}” recorded; nobody was notified.")
            return redirect("console:incident", incident.public_id)
    return render(request, "console/incident_backfill.html", {
        "form": form, "templates": message_templates(Kind.INCIDENT),
    }, status=form_status(form))
