"""Deliveries in the console (admin): every delivery made for an incident's or a maintenance's updates,
each with its attempts; the dead-letter list (deliveries whose attempts ran out) with Retry, one or all,
which puts them back in the delivery queue, due now."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.notify import admin
from signalpost.notify.models import Delivery, DeliveryState
from signalpost.status.models import Incident, Kind

PER_PAGE = 100


def _incident(public_id: str, kind: str) -> Incident:
    incident = Incident.objects.filter(public_id=public_id, kind=kind).first()
    if incident is None:
        raise Http404(f'no {kind} with id "{public_id}"')
    return incident


def _by_update(deliveries: list[Delivery]) -> list[dict]:
    """The deliveries grouped by the event (the update) they tell, newest first."""
    groups: dict[int, dict] = {}
    for delivery in deliveries:
        group = groups.setdefault(delivery.event_id, {"event_id": delivery.event_id, "kind": delivery.event_kind,
                                                      "about": delivery.about, "deliveries": [], "counts": {}})
        group["deliveries"].append(delivery)
        group["counts"][delivery.get_state_display()] = group["counts"].get(delivery.get_state_display(), 0) + 1
    return list(groups.values())


def _deliveries_page(request: HttpRequest, incident: Incident) -> HttpResponse:
    deliveries = admin.deliveries_of(f"incident:{incident.public_id}")
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/deliveries.html", {
        "incident": incident, "page_obj": page, "updates": _by_update(list(page.object_list)),
    })


@role_required("admin")
@require_safe
def incident_deliveries(request: HttpRequest, public_id: str) -> HttpResponse:
    return _deliveries_page(request, _incident(public_id, Kind.INCIDENT))


@role_required("admin")
@require_safe
def maintenance_deliveries(request: HttpRequest, public_id: str) -> HttpResponse:
    return _deliveries_page(request, _incident(public_id, Kind.MAINTENANCE))


@role_required("admin")
@require_safe
def dead_letters(request: HttpRequest) -> HttpResponse:
    page = Paginator(admin.dead_letters().prefetch_related("attempt_set"), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/dead_letters.html", {"page_obj": page})


def _find(delivery_id: int) -> Delivery:
    delivery = Delivery.objects.filter(pk=delivery_id).select_related("subscriber").first()
    if delivery is None:
        raise Http404("no such delivery")
    return delivery


@role_required("admin")
@require_safe
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _find(delivery_id)
    return render(request, "console/delivery.html", {
        "delivery": delivery, "attempts": delivery.attempt_set.order_by("at", "id"),
        "failed": delivery.state == DeliveryState.FAILED,
    })


@role_required("admin")
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _find(delivery_id)
    if admin.retry_deliveries(Delivery.objects.filter(pk=delivery.pk)):
        messages.success(request, f"The delivery to {delivery.address} is queued again, due now.")
    else:
        messages.info(request, f"The delivery to {delivery.address} had not failed: nothing to retry.")
    return redirect("console:delivery", delivery.pk)


@role_required("admin")
@require_POST
def deliveries_retry(request: HttpRequest) -> HttpResponse:
    count = admin.retry_deliveries()
    if count:
        messages.success(request, f"{count} failed deliver{'y is' if count == 1 else 'ies are'} queued again, due now.")
    else:
        messages.info(request, "No delivery had failed: nothing to retry.")
    return redirect("console:dead_letters")
