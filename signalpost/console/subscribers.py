"""The subscribers screens (admin): the list with search and filters, adding an address (confirmed at
once, or asked to confirm), a subscriber's page with its deliveries, removing it, resuming a paused
webhook, and CSV export and import (a preview first; nothing is written while any line is bad).

Each view parses its form, calls one verb of signalpost.notify.admin, and renders; a refusal is shown
beside the field it names with HTTP 400.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.errors import InvalidInput
from signalpost.notify import admin
from signalpost.notify.models import Channel, Subscriber
from signalpost.status.models import Component

from .components import show_refusal

PER_PAGE = 50
IMPORT_PREVIEW_LINES = 20
IMPORT_MAX_BYTES = 5 * 1024 * 1024


class FilterForm(forms.Form):
    q = forms.CharField(label="Address contains", required=False, max_length=200)
    channel = forms.ChoiceField(label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices])
    state = forms.ChoiceField(label="State", required=False, choices=[
        ("", "Any state"), ("pending", "Waiting for confirmation"), ("confirmed", "Confirmed"),
        ("paused", "Paused")])


class ComponentChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, component: Component) -> str:
        return f"{component.group.name} / {component.name}" if component.group_id else component.name


class AddForm(forms.Form):
    channel = forms.ChoiceField(label="Channel", choices=Channel.choices)
    address = forms.CharField(label="E-mail address or URL", max_length=2000,
                              help_text="A webhook or chat URL must pass the outbound address rules.")
    components = ComponentChoices(
        label="Components", required=False, to_field_name="public_id",
        queryset=Component.objects.select_related("group").order_by("group__position", "position", "name"),
        widget=forms.CheckboxSelectMultiple, help_text="None chosen: every component.")
    confirmed = forms.BooleanField(
        label="Mark it confirmed (the person agreed elsewhere): no confirmation is asked", required=False)
    owner_email = forms.EmailField(label="Owner's e-mail (webhooks: told when it is paused)", required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", required=False,
                           help_text="Columns: channel, address, and optionally components, confirmed, created "
                                     "(as the export writes them).")
    text = forms.CharField(label="…or paste the CSV", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    all_confirmed = forms.BooleanField(label="Mark every imported address confirmed (they agreed elsewhere)",
                                       required=False)

    def csv_text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            if upload.size > IMPORT_MAX_BYTES:
                raise InvalidInput("file", f"is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB: split it")
            try:
                return upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("file", "is not UTF-8 text") from None
        text = self.cleaned_data.get("text") or ""
        if not text.strip():
            raise InvalidInput("file", "choose a file or paste the CSV")
        return text


def find(public_id: str) -> Subscriber:
    subscriber = admin.find_subscriber(public_id)
    if subscriber is None:
        raise Http404(f'no subscriber with id "{public_id}"')
    return subscriber


def _context(request: HttpRequest) -> dict:
    return {"smtp_configured": settings.SMTP_CONFIGURED}


@role_required("admin")
@require_safe
def subscriber_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    subscribers = admin.search(query=data.get("q", ""), channel=data.get("channel", ""),
                               state=data.get("state", "")) if valid else Subscriber.objects.none()
    page = Paginator(subscribers, PER_PAGE).get_page(request.GET.get("page"))
    for subscriber in page.object_list:
        subscriber.state = admin.state_of(subscriber)
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "console/subscribers.html", {
        "form": form, "page_obj": page, "filters_query": urlencode(filters), "filtered": bool(filters),
        "total": Subscriber.objects.count(), **_context(request),
    }, status=200 if valid else 400)


@role_required("admin")
def subscriber_new(request: HttpRequest) -> HttpResponse:
    form = AddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscriber = admin.add_subscriber(
                channel=data["channel"], address=data["address"], confirmed=data["confirmed"],
                components=[c.public_id for c in data["components"]], owner_email=data["owner_email"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            if subscriber.is_confirmed:
                messages.success(request, f"{subscriber.address} is subscribed and confirmed.")
            else:
                messages.success(request, f"{subscriber.address} is added; it is asked to confirm and is told "
                                          "nothing until it does.")
            return redirect("console:subscriber", subscriber.public_id)
    return render(request, "console/subscriber_new.html", {"form": form, **_context(request)},
                  status=400 if form.is_bound and form.errors else 200)


DELIVERIES_SHOWN = 50


@role_required("admin")
@require_safe
def subscriber_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    subscriber = find(public_id)
    subscriber.state = admin.state_of(subscriber)
    deliveries = subscriber.deliveries.prefetch_related("attempt_set").order_by("-created_at", "-id")[:DELIVERIES_SHOWN]
    return render(request, "console/subscriber.html", {
        "subscriber": subscriber, "deliveries": deliveries,
        "components": sorted(subscriber.components.all(), key=lambda c: c.name),
    })


@role_required("admin")
@require_POST
def subscriber_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    subscriber = find(public_id)
    admin.remove_subscriber(subscriber)
    messages.success(request, f"{subscriber.address} is unsubscribed: it is told nothing more.")
    return redirect("console:subscribers")


@role_required("admin")
@require_POST
def subscriber_resume(request: HttpRequest, public_id: str) -> HttpResponse:
    subscriber = find(public_id)
    if admin.resume_subscriber(subscriber):
        messages.success(request, f"{subscriber.address} is resumed: it is sent the next events.")
    else:
        messages.info(request, f"{subscriber.address} was not paused: nothing changed.")
    return redirect("console:subscriber", subscriber.public_id)


@role_required("admin")
@require_safe
def subscriber_export(request: HttpRequest) -> HttpResponse:
    response = StreamingHttpResponse(admin.export_lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="signalpost-subscribers-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("admin")
def subscriber_import(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST with "preview": what the import would do, nothing written. POST with
    "import": the import itself (all or nothing), the same CSV carried in a hidden field."""
    form = ImportForm(request.POST or None, request.FILES or None)
    plan, text, status = None, "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                text = form.csv_text()
            except InvalidInput as refusal:
                show_refusal(form, refusal)
            else:
                all_confirmed = form.cleaned_data["all_confirmed"]
                if "import" in request.POST:
                    plan = admin.import_subscribers(text, all_confirmed=all_confirmed)
                    if plan.ok:
                        added, skipped = len(plan.new), len(plan.duplicates)
                        messages.success(request, f"Imported {added} subscriber{'s' if added != 1 else ''}"
                                                  + (f"; {skipped} already subscribed, left as they were." if skipped
                                                     else "."))
                        return redirect("console:subscribers")
                else:
                    plan = admin.plan_import(text, all_confirmed=all_confirmed)
                status = 200 if plan.ok else 400
    return render(request, "console/subscribers_import.html", {
        "form": form, "plan": plan, "text": text, "preview": plan.new[:IMPORT_PREVIEW_LINES] if plan else [],
    }, status=status)
