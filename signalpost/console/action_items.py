"""Action items across every postmortem: what the team promised, who owns it, and what is late.

The list filters by state, owner and kind (GET parameters, so a filtered list is a link to share).
Each row is followed up in place (state, owner, due date) by a small form that returns to the same
filtered list. An item is overdue when its due date has passed, in the page's zone, and it is still
open or in progress: the row says "Overdue" in words, not only in colour.

The kinds of action items are the team's configuration: admins add, rename, reorder and delete them
(as the API's admin scope does).
"""

from datetime import date

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.postmortems import services
from signalpost.postmortems.console_services import move_kind
from signalpost.postmortems.models import ActionItem, ActionItemKind
from signalpost.presentation.zone import page_zone
from signalpost.status import services as status_services
from signalpost.errors import InvalidInput

from .postmortem_forms import ItemTrackingForm, KindForm

UNFINISHED = [ActionItem.State.OPEN, ActionItem.State.IN_PROGRESS]
STATE_FILTERS = [("unfinished", "Open or in progress"), *ActionItem.State.choices, ("any", "Any state")]
NO_OWNER = "-"
LIST_LIMIT = 500


def today() -> date:
    return timezone.now().astimezone(page_zone(status_services.get_page())).date()


def is_overdue(item: ActionItem, on: date) -> bool:
    return item.due_date is not None and item.due_date < on and item.state in UNFINISHED


def _filtered(params) -> tuple[list[ActionItem], dict]:
    state = params.get("state") or "unfinished"
    owner = params.get("owner", "")
    kind = params.get("kind", "")
    overdue_only = params.get("overdue") == "1"
    items = ActionItem.objects.select_related("kind", "postmortem")
    if state == "unfinished":
        items = items.filter(state__in=UNFINISHED)
    elif state in ActionItem.State.values:
        items = items.filter(state=state)
    else:
        state = "any"
    if owner == NO_OWNER:
        items = items.filter(owner="")
    elif owner:
        items = items.filter(owner=owner)
    if kind:
        items = items.filter(kind__public_id=kind)
    on = today()
    if overdue_only:
        items = items.filter(due_date__lt=on, state__in=UNFINISHED)
    # Overdue first, then by due date (undated last), then newest postmortem first.
    found = list(items.order_by("due_date", "-postmortem__created_at", "position", "id")[:LIST_LIMIT])
    found.sort(key=lambda i: (not is_overdue(i, on), i.due_date is None, i.due_date or on))
    for item in found:
        item.overdue = is_overdue(item, on)
    return found, {"state": state, "owner": owner, "kind": kind, "overdue": overdue_only}


def _list(request: HttpRequest, here: str, *, bound: ItemTrackingForm | None = None, bound_item: str = "",
          status: int = 200) -> HttpResponse:
    """The list as filtered by `here` (the list's own URL with its query)."""
    params = QueryDict(here.split("?", 1)[1] if "?" in here else "")
    items, chosen = _filtered(params)
    rows = []
    for item in items:
        form = bound if bound is not None and item.public_id == bound_item else ItemTrackingForm(item=item, next_url=here)
        rows.append((item, form))
    owners = sorted(set(ActionItem.objects.exclude(owner="").values_list("owner", flat=True)), key=str.lower)
    return render(request, "console/action_items.html", {
        "rows": rows, "chosen": chosen, "state_filters": STATE_FILTERS, "owners": owners, "no_owner": NO_OWNER,
        "kinds": services.action_item_kinds(), "today": today(), "limit": LIST_LIMIT,
        "overdue_count": sum(1 for item in items if item.overdue),
    }, status=status)


@role_required("viewer")
@require_safe
def action_item_list(request: HttpRequest) -> HttpResponse:
    return _list(request, request.get_full_path())


def _back(next_url: str) -> str:
    """The filtered list the form came from; anything else falls back to the plain list."""
    plain = reverse("console:action_items")
    if next_url and next_url.startswith(plain) and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        return next_url
    return plain


@role_required("responder")
@require_POST
def action_item_update(request: HttpRequest, item_id: str) -> HttpResponse:
    item = ActionItem.objects.select_related("kind", "postmortem").filter(public_id=item_id).first()
    if item is None:
        raise Http404(f'no action item with id "{item_id}"')
    form = ItemTrackingForm(request.POST, item=item)
    back = _back(request.POST.get(f"item-{item.public_id}-next", ""))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_action_item(item, user=request.user, state=data["state"], owner=data["owner"],
                                        due_date=data["due_date"])
        except InvalidInput as refusal:
            field = refusal.field if refusal.field in form.fields else None
            form.add_error(field, refusal.message)
        else:
            messages.success(request, f"“{item.title}” saved.")
            return redirect(back)
    # The list the form came from, with this row's errors beside its fields.
    return _list(request, back, bound=form, bound_item=item.public_id, status=400)


# --- kinds ------------------------------------------------------------------------------------------


def _kinds_page(request: HttpRequest, *, add_form: KindForm | None = None, rename: tuple[str, KindForm] | None = None,
                error: str = "", status: int = 200) -> HttpResponse:
    kinds = services.action_item_kinds()
    counts = dict(ActionItem.objects.values("kind_id").annotate(n=Count("id")).values_list("kind_id", "n"))
    rows = [(kind, rename[1] if rename and rename[0] == kind.public_id else
             KindForm(prefix=f"kind-{kind.public_id}", initial={"name": kind.name}), counts.get(kind.pk, 0))
            for kind in kinds]
    return render(request, "console/action_item_kinds.html", {
        "rows": rows, "add_form": add_form or KindForm(prefix="new-kind"), "error": error,
    }, status=status)


def _kind(kind_id: str) -> ActionItemKind:
    kind = ActionItemKind.objects.filter(public_id=kind_id).first()
    if kind is None:
        raise Http404(f'no kind of action item with id "{kind_id}"')
    return kind


@role_required("admin")
@require_safe
def kind_list(request: HttpRequest) -> HttpResponse:
    return _kinds_page(request)


@role_required("admin")
@require_POST
def kind_add(request: HttpRequest) -> HttpResponse:
    form = KindForm(request.POST, prefix="new-kind")
    if form.is_valid():
        try:
            kind = services.create_kind(name=form.cleaned_data["name"])
        except InvalidInput as refusal:
            form.add_error("name" if refusal.field == "name" else None, refusal.message)
        else:
            messages.success(request, f"Kind “{kind.name}” added at the end of the list.")
            return redirect("console:action_item_kinds")
    return _kinds_page(request, add_form=form, status=400)


@role_required("admin")
@require_POST
def kind_rename(request: HttpRequest, kind_id: str) -> HttpResponse:
    kind = _kind(kind_id)
    form = KindForm(request.POST, prefix=f"kind-{kind.public_id}")
    if form.is_valid():
        try:
            services.update_kind(kind, name=form.cleaned_data["name"])
        except InvalidInput as refusal:
            form.add_error("name" if refusal.field == "name" else None, refusal.message)
        else:
            messages.success(request, f"Renamed to “{form.cleaned_data['name']}”.")
            return redirect("console:action_item_kinds")
    return _kinds_page(request, rename=(kind.public_id, form), status=400)


@role_required("admin")
@require_POST
def kind_move(request: HttpRequest, kind_id: str) -> HttpResponse:
    kind = _kind(kind_id)
    try:
        move_kind(kind, request.POST.get("direction", ""))
    except InvalidInput as refusal:
        return _kinds_page(request, error=refusal.message, status=400)
    return redirect("console:action_item_kinds")


@role_required("admin")
@require_POST
def kind_delete(request: HttpRequest, kind_id: str) -> HttpResponse:
    kind = _kind(kind_id)
    try:
        services.delete_kind(kind)
    except InvalidInput as refusal:
        return _kinds_page(request, error=f"“{kind.name}” was not deleted: {refusal.message}.", status=400)
    messages.success(request, f"Kind “{kind.name}” deleted.")
    return redirect("console:action_item_kinds")
