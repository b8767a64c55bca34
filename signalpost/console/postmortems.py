"""The postmortem screens: the list, writing a new one, and the editor.

The editor is one page with several small forms, because each is one service call and so one version
and one audit entry: the document (title, zone, sections, instants, incidents) in a single submission,
then the impact figures, each timeline entry and each action item. A refused submission re-renders the
whole page with that form's errors beside its fields and HTTP 400; the service wrote nothing.

Review, publication, versions and export are in postmortem_workflow.py.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.postmortems import services
from signalpost.postmortems.figures import compute
from signalpost.postmortems.models import (
    ActionItem,
    Postmortem,
    State,
    TimelineEntry,
)
from signalpost.presentation.zone import page_zone
from signalpost.presentation.times import (
    duration_text,
    iso_utc,
    local_text,
    short_date,
)
from signalpost.status import services as status_services
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import Incident

from .action_items import is_overdue
from .forms import show_refusal
from .postmortem_forms import (
    DocumentForm,
    EntryForm,
    ItemForm,
    NewPostmortemForm,
    PublishForm,
    ReviewForm,
    figure_formset,
    kept_figures,
    zone_of,
)

PER_PAGE = 50
STATE_LABELS = dict(State.choices)


def find_postmortem(public_id: str) -> Postmortem:
    try:
        return services.get_postmortem(public_id)
    except NotFound as error:
        raise Http404(str(error)) from None


def _zone():
    return page_zone(status_services.get_page())


def editor_url(postmortem: Postmortem, anchor: str = "") -> str:
    return reverse("console:postmortem", args=[postmortem.public_id]) + (f"#{anchor}" if anchor else "")


# --- the list ---------------------------------------------------------------------------------------


@role_required("viewer")
@require_safe
def postmortem_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    postmortems = Postmortem.objects.select_related("reviewer", "approved_by").prefetch_related(
        Prefetch("incidents", queryset=Incident.objects.order_by("started_at", "id"))).order_by("-updated_at", "-id")
    if status in STATE_LABELS:
        postmortems = postmortems.filter(status=status)
    page = Paginator(postmortems, PER_PAGE).get_page(request.GET.get("page"))
    awaiting = (Incident.objects.filter(postmortems__isnull=True, resolved_at__isnull=False, kind="incident")
                .exclude(impact__in=["none"]).order_by("-resolved_at")[:5])
    return render(request, "console/postmortem_list.html", {
        "page": page, "status": status, "states": State.choices, "awaiting": awaiting,
    })


# --- a new one --------------------------------------------------------------------------------------


@role_required("responder")
def postmortem_new(request: HttpRequest) -> HttpResponse:
    zone = _zone()
    initial = {}
    asked = request.GET.get("incident", "")
    if asked:
        taken = Postmortem.objects.filter(incidents__public_id=asked).first()
        if taken is not None:
            messages.info(request, f"This incident already has a postmortem: “{taken.title}”.")
            return redirect("console:postmortem", taken.public_id)
        initial["incidents"] = [asked]
    form = NewPostmortemForm(request.POST if request.method == "POST" else None, initial=initial, zone=zone,
                             templates=services.postmortem_templates())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            postmortem = services.create_postmortem(incidents=data["incidents"], title=data["title"],
                                                    template=data["template"], author=request.user,
                                                    starter_text=True)
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Draft “{postmortem.title}” started; its timeline holds the incidents' "
                                      "updates, to trim and complete"
                             + ("; its sections start with the template's questions, to replace." if
                                postmortem.from_template_id and postmortem.from_template.starter else "."))
            return redirect("console:postmortem", postmortem.public_id)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "console/postmortem_new.html", {"form": form}, status=status)


# --- the editor -------------------------------------------------------------------------------------


def _visible_sections(postmortem: Postmortem, form: DocumentForm) -> tuple[list, list]:
    """(shown, folded): the sections of the postmortem's template, and any other that holds text, are
    shown; the rest are folded. Without a template (a kind the team only named, or a deleted template)
    every section is shown."""
    fields = form.section_fields
    template = postmortem.from_template
    if template is None:
        return fields, []
    shown = [f for f in fields if f.name in template.sections or (f.value() or "").strip()]
    return shown, [f for f in fields if f not in shown]


def _starter_left(postmortem: Postmortem) -> set[str]:
    """The sections that still hold their template's starter text word for word: to replace."""
    template = postmortem.from_template
    if template is None:
        return set()
    return {field for field, text in (template.starter or {}).items()
            if text and (getattr(postmortem, field, "") or "").strip() == text.strip()}


def computed_rows(figures, zone) -> list[tuple[str, str, str]]:
    """(what, how long, from what) for the figures derived from the record, in the document's zone."""
    def at(value) -> str:
        return local_text(value, zone) if value else "unknown"

    return [
        ("Total duration", duration_text(figures.total_duration) if figures.total_duration is not None else
         ("not over yet" if figures.started_at else "unknown"), f"{at(figures.started_at)} → {at(figures.ended_at)}"),
        ("Time to detect", duration_text(figures.time_to_detect) if figures.time_to_detect is not None else "unknown",
         f"first signal {at(figures.first_signal_at)}, detected {at(figures.detected_at)}"),
        ("Time to acknowledge", duration_text(figures.time_to_acknowledge)
         if figures.time_to_acknowledge is not None else "unknown", f"acknowledged {at(figures.acknowledged_at)}"),
        ("Time to resolve", duration_text(figures.time_to_resolve) if figures.time_to_resolve is not None else
         "unknown", "from detection to the last resolution"),
        ("Regions affected", ", ".join(figures.groups) or "none", ""),
        ("Components affected", figures.affected or "none", ""),
    ]


def editor(request: HttpRequest, postmortem: Postmortem, *, status: int = 200, **bound) -> HttpResponse:
    """The editor page, with any bound (refused) form in place of its fresh one."""
    postmortem = Postmortem.objects.select_related("author", "reviewer", "approved_by", "from_template").get(
        pk=postmortem.pk)
    can_edit = has_role(request.user, "responder")
    zone_name = postmortem.timeline_zone
    incidents = services.incidents_of(postmortem)
    kinds = services.action_item_kinds()
    entries = list(postmortem.readable_timeline())
    doc_zone = zone_of(zone_name)
    for entry in entries:
        entry.local = short_date(entry.on) if entry.on else local_text(entry.at, doc_zone)
        entry.iso = iso_utc(entry.at)
    items = list(postmortem.action_items.select_related("kind").order_by("kind__position", "kind__name",
                                                                          "position", "id"))
    today = timezone.now().astimezone(_zone()).date()
    for item in items:
        item.overdue = is_overdue(item, today)
    context = {
        "pm": postmortem, "incidents": incidents,
        "computed": computed_rows(compute(postmortem, incidents), zone_of(zone_name)),
        "impact_figures": list(postmortem.figures.all()), "entries": entries, "items": items,
        "state_label": STATE_LABELS.get(postmortem.status, postmortem.status), "can_edit": can_edit,
        "doc_zone": doc_zone, "workflow_error": bound.get("workflow_error", ""),
        "is_author": postmortem.author_id == request.user.pk,
        "latest_version": postmortem.version,
    }
    if can_edit:
        form = bound.get("document_form") or DocumentForm(postmortem=postmortem, zone=_zone())
        shown, folded = _visible_sections(postmortem, form)
        entry_forms = bound.get("entry_forms", {})
        item_forms = bound.get("item_forms", {})
        context.update(
            form=form, shown_sections=shown, folded_sections=folded, starter_left=_starter_left(postmortem),
            template_names=[t.name for t in services.postmortem_templates()],
            figure_forms=bound.get("figure_forms") or figure_formset(None, postmortem),
            entry_add_form=bound.get("entry_add_form") or EntryForm(prefix="new-entry", zone_name=zone_name),
            entry_rows=[(e, entry_forms.get(e.public_id) or EntryForm(prefix=f"entry-{e.public_id}", entry=e,
                                                                    zone_name=zone_name)) for e in entries],
            item_add_form=bound.get("item_add_form") or ItemForm(prefix="new-item", kinds=kinds),
            item_rows=[(i, item_forms.get(i.public_id) or ItemForm(prefix=f"item-{i.public_id}", item=i, kinds=kinds))
                       for i in items],
            review_form=bound.get("review_form") or ReviewForm(postmortem=postmortem),
            publish_form=bound.get("publish_form") or PublishForm(zone_name=_zone().key),
            open_entry=next(iter(entry_forms), ""), open_item=next(iter(item_forms), ""),
        )
    return render(request, "console/postmortem.html", context, status=status)


@role_required("viewer")
@require_safe
def postmortem_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return editor(request, find_postmortem(public_id))


@role_required("responder")
@require_POST
def postmortem_save(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    form = DocumentForm(request.POST, postmortem=postmortem, zone=_zone())
    if form.is_valid():
        version = postmortem.version
        try:
            saved = services.update_postmortem(postmortem, user=request.user, **form.changes())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            if saved.version == version:
                messages.info(request, "Nothing had changed; no new version.")
            else:
                messages.success(request, f"Saved as version {saved.version}.")
            return redirect(editor_url(saved, "document"))
    return editor(request, postmortem, status=400, document_form=form)


@role_required("responder")
@require_POST
def postmortem_figures(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    formset = figure_formset(request.POST, postmortem)
    if formset.is_valid():
        try:
            services.set_figures(postmortem, kept_figures(formset), user=request.user)
        except InvalidInput as refusal:
            formset.forms[0].add_error(None, f"{refusal.field}: {refusal.message}")
        else:
            messages.success(request, "Impact figures saved.")
            return redirect(editor_url(postmortem, "impact-figures"))
    return editor(request, postmortem, status=400, figure_forms=formset)


# --- the timeline -------------------------------------------------------------------------------------


def _entry(postmortem: Postmortem, entry_id: str) -> TimelineEntry:
    try:
        return services.find_entry(postmortem, entry_id)
    except NotFound as error:
        raise Http404(str(error)) from None


def _entry_refusal(form, refusal: InvalidInput) -> None:
    name = refusal.field.rsplit(".", 1)[-1]  # "entry.at" -> "at"
    form.add_error(name if name in form.fields else None, refusal.message)


@role_required("responder")
@require_POST
def entry_add(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    form = EntryForm(request.POST, prefix="new-entry", zone_name=postmortem.timeline_zone)
    if form.is_valid():
        try:
            services.add_timeline_entry(postmortem, at=form.cleaned_data["at"], text=form.cleaned_data["text"],
                                        user=request.user)
        except InvalidInput as refusal:
            _entry_refusal(form, refusal)
        else:
            messages.success(request, "Timeline entry added.")
            return redirect(editor_url(postmortem, "timeline"))
    return editor(request, postmortem, status=400, entry_add_form=form)


@role_required("responder")
@require_POST
def entry_edit(request: HttpRequest, public_id: str, entry_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    entry = _entry(postmortem, entry_id)
    form = EntryForm(request.POST, prefix=f"entry-{entry.public_id}", entry=entry, zone_name=postmortem.timeline_zone)
    if form.is_valid():
        try:
            services.edit_timeline_entry(entry, at=form.cleaned_data["at"], text=form.cleaned_data["text"],
                                         user=request.user)
        except InvalidInput as refusal:
            _entry_refusal(form, refusal)
        else:
            messages.success(request, "Timeline entry saved.")
            return redirect(editor_url(postmortem, f"entry-{entry.public_id}"))
    return editor(request, postmortem, status=400, entry_forms={entry.public_id: form})


@role_required("responder")
@require_POST
def entry_remove(request: HttpRequest, public_id: str, entry_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    services.remove_timeline_entry(_entry(postmortem, entry_id), user=request.user)
    messages.success(request, "Timeline entry removed.")
    return redirect(editor_url(postmortem, "timeline"))


@role_required("responder")
@require_POST
def timeline_prefill(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    added = services.prefill_timeline(postmortem, user=request.user)
    if added:
        messages.success(request, f"{added} entr{'y' if added == 1 else 'ies'} added from the incidents' updates.")
    else:
        messages.info(request, "The timeline already holds every update of the incidents.")
    return redirect(editor_url(postmortem, "timeline"))


# --- action items -------------------------------------------------------------------------------------


def _item(postmortem: Postmortem, item_id: str) -> ActionItem:
    try:
        return services.find_item(postmortem, item_id)
    except NotFound as error:
        raise Http404(str(error)) from None


def _item_fields(form: ItemForm) -> dict:
    data = dict(form.cleaned_data)
    data["kind"] = services.find_kind(data["kind"])
    return data


@role_required("responder")
@require_POST
def item_add(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    form = ItemForm(request.POST, prefix="new-item", kinds=services.action_item_kinds())
    if form.is_valid():
        try:
            services.add_action_item(postmortem, user=request.user, **_item_fields(form))
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Action item added.")
            return redirect(editor_url(postmortem, "action-items"))
    return editor(request, postmortem, status=400, item_add_form=form)


@role_required("responder")
@require_POST
def item_edit(request: HttpRequest, public_id: str, item_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    item = _item(postmortem, item_id)
    form = ItemForm(request.POST, prefix=f"item-{item.public_id}", item=item, kinds=services.action_item_kinds())
    if form.is_valid():
        try:
            services.update_action_item(item, user=request.user, **_item_fields(form))
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Action item saved.")
            return redirect(editor_url(postmortem, f"item-{item.public_id}"))
    return editor(request, postmortem, status=400, item_forms={item.public_id: form})


@role_required("responder")
@require_POST
def item_remove(request: HttpRequest, public_id: str, item_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    services.remove_action_item(_item(postmortem, item_id), user=request.user)
    messages.success(request, "Action item removed.")
    return redirect(editor_url(postmortem, "action-items"))
