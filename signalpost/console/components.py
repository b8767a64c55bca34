"""The components screens: groups and components in the page's order with their derived status, creating
and editing them, hiding them, putting them in order (drag and drop, or Move up / Move down without
script), and setting or clearing a manual status override.

Each view parses its form, calls one service, and on a refusal shows the service's words beside the
field at fault with HTTP 400; nothing is saved then, because each service writes in one transaction.
"""

import json

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.models import AuditEvent
from signalpost.accounts.roles import has_role, role_required
from signalpost.status import derive, layout, readable, services
from signalpost.errors import InvalidInput
from signalpost.status.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    StatusOverride,
)
from signalpost.status.layout import page_order

OVERRIDE_HISTORY = 10

# --- forms ----------------------------------------------------------------------------------------


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group: ComponentGroup) -> str:
        return group.name


class ComponentForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(label="Description", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="Shown to readers beside the component's name.")
    group = GroupChoiceField(label="Group", queryset=ComponentGroup.objects.all(), required=False,
                             to_field_name="public_id", empty_label="— None: on its own at the top level —")
    hidden = forms.BooleanField(label="Hidden from the public page", required=False)
    third_party = forms.BooleanField(label="Third party (a provider's service, e.g. a mail provider)", required=False)
    only_show_if_degraded = forms.BooleanField(label="Only show it on the public page while it is not operational",
                                               required=False)
    start_date = forms.DateField(label="In service since", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                 help_text="Uptime bars show no data before this day.")

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class GroupForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="E.g. a region: “Switzerland”.")
    description = forms.CharField(label="Description", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    hidden = forms.BooleanField(label="Hidden from the public page (with all its components)", required=False)

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class OverrideForm(forms.Form):
    status = forms.ChoiceField(label="Status to show", choices=ComponentStatus.choices)
    reason = forms.CharField(label="Reason (for the team; not shown to readers)", required=False, max_length=500)


def show_refusal(form: forms.Form, refusal: InvalidInput) -> None:
    """A service's refusal beside the field it names, or above the form for any other."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
    else:
        form.add_error(None, f"{refusal.field}: {refusal.message}")


def bound(request: HttpRequest):
    """The POST data for a form, or None on GET (an empty POST still binds, so it is refused)."""
    return request.POST if request.method == "POST" else None


def status_of(form: forms.Form | None) -> int:
    return 400 if form is not None and form.is_bound and form.errors else 200


# --- reading ----------------------------------------------------------------------------------------


def find_component(public_id: str) -> Component:
    component = Component.objects.select_related("group").filter(public_id=public_id).first()
    if component is None:
        raise Http404(f'no component with id "{public_id}"')
    return component


def find_group(public_id: str) -> ComponentGroup:
    group = ComponentGroup.objects.filter(public_id=public_id).first()
    if group is None:
        raise Http404(f'no group with id "{public_id}"')
    return group


def _override_setters(components: list[Component]) -> dict[str, AuditEvent]:
    """Who set each open override: the audit entry that set it (the newest override entry)."""
    ids = [c.public_id for c in components if c.open_override]
    setters: dict[str, AuditEvent] = {}
    if ids:
        for event in AuditEvent.objects.filter(action="component.override", object_type="component",
                                               object_id__in=ids).order_by("-at", "-id"):
            setters.setdefault(event.object_id, event)
    return setters


def _with_status(components: list[Component]) -> list[Component]:
    """Each component with its current derived status, the causes of it, and its open override."""
    now = timezone.now()
    statuses = derive.current_statuses(components, now)
    reasons = derive.status_reasons(components, now)
    for component in components:
        component.status = statuses[component.pk]
        component.reasons = reasons[component.pk]
        component.open_override = component.open_overrides[0] if component.open_overrides else None
    setters = _override_setters(components)
    for component in components:
        component.override_setter = setters.get(component.public_id)
    return components


def _components(queryset) -> list[Component]:
    return _with_status(list(queryset.select_related("group").prefetch_related(
        Prefetch("overrides", queryset=StatusOverride.objects.filter(readable.overrides(), cleared_at__isnull=True),
                 to_attr="open_overrides"))))


def ref_of(item: ComponentGroup | Component) -> str:
    return f"{'g' if isinstance(item, ComponentGroup) else 'c'}:{item.public_id}"


def page_blocks() -> list[dict]:
    """The top level in the page's order: each group with its components, each ungrouped component."""
    components = _components(Component.objects.order_by("position", "name", "pk"))
    groups = list(ComponentGroup.objects.all())
    by_group: dict[int | None, list[Component]] = {}
    for component in components:
        by_group.setdefault(component.group_id, []).append(component)
    blocks = []
    for item in page_order(groups, by_group.get(None, [])):
        if isinstance(item, ComponentGroup):
            blocks.append({"ref": ref_of(item), "group": item, "components": by_group.get(item.pk, [])})
        else:
            blocks.append({"ref": ref_of(item), "group": None, "component": item})
    return blocks


def _roles(request: HttpRequest) -> dict:
    return {"can_admin": has_role(request.user, "admin"), "can_respond": has_role(request.user, "responder")}


def _list_page(request: HttpRequest, error: str = "") -> HttpResponse:
    return render(request, "console/components.html", {"blocks": page_blocks(), "error": error, **_roles(request)},
                  status=400 if error else 200)


@role_required("viewer")
@require_safe
def component_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


# --- components -------------------------------------------------------------------------------------


@role_required("admin")
def component_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.method == "GET" and request.GET.get("group"):
        initial["group"] = ComponentGroup.objects.filter(public_id=request.GET["group"]).first()
    form = ComponentForm(bound(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            component = services.create_component(**form.fields_for_service())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Component “{component}” created; it is last in its place on the page.")
            return redirect("console:component", component.public_id)
    return render(request, "console/component_new.html", {"form": form}, status=status_of(form))


def _component_page(request: HttpRequest, component: Component, *, edit_form: ComponentForm | None = None,
                    override_form: OverrideForm | None = None, error: str = "") -> HttpResponse:
    [component] = _components(Component.objects.filter(pk=component.pk))
    roles = _roles(request)
    context = {
        "component": component,
        "history": StatusOverride.objects.filter(readable.overrides(), component=component).order_by("-set_at", "-id")[:OVERRIDE_HISTORY],
        "error": error,
        **roles,
    }
    if roles["can_admin"]:
        context["edit_form"] = edit_form or ComponentForm(initial={
            "name": component.name, "description": component.description, "group": component.group,
            "hidden": component.hidden, "third_party": component.third_party,
            "only_show_if_degraded": component.only_show_if_degraded, "start_date": component.start_date,
        }, prefix="edit")
    if roles["can_respond"]:
        context["override_form"] = override_form or OverrideForm(
            initial={"status": component.open_override.status if component.open_override else component.status},
            prefix="override")
    return render(request, "console/component.html", context,
                  status=400 if error else max(status_of(edit_form), status_of(override_form)))


@role_required("viewer")
@require_safe
def component_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _component_page(request, find_component(public_id))


@role_required("admin")
@require_POST
def component_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    component = find_component(public_id)
    form = ComponentForm(request.POST, prefix="edit")
    if form.is_valid():
        try:
            services.update_component(component, **form.fields_for_service())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Component “{component}” saved.")
            return redirect("console:component", component.public_id)
    return _component_page(request, find_component(public_id), edit_form=form)


class VisibilityForm(forms.Form):
    hidden = forms.TypedChoiceField(choices=[("1", "hide"), ("0", "show")], coerce=lambda v: v == "1")


def _next_or(request: HttpRequest, fallback: str) -> str:
    """Back to the console page the button was on (only a console path), else the fallback."""
    target = request.POST.get("next", "")
    return target if target.startswith("/console/") and "//" not in target else fallback


@role_required("admin")
@require_POST
def component_visibility(request: HttpRequest, public_id: str) -> HttpResponse:
    component = find_component(public_id)
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        return _component_page(request, component, error="Nothing was changed: choose to hide or to show it.")
    hidden = form.cleaned_data["hidden"]
    services.update_component(component, hidden=hidden)
    messages.success(request, f"“{component}” is {'hidden from' if hidden else 'shown on'} the public page.")
    return redirect(_next_or(request, reverse("console:component", args=[public_id])))


@role_required("admin")
@require_POST
def component_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    component = find_component(public_id)
    try:
        services.remove_component(component)
    except InvalidInput as refusal:
        return _component_page(request, component, error=f"Not removed: {refusal.message}.")
    messages.success(request, f"“{component}” is removed.")
    return redirect("console:components")


# --- overrides --------------------------------------------------------------------------------------


@role_required("responder")
@require_POST
def component_override(request: HttpRequest, public_id: str) -> HttpResponse:
    component = find_component(public_id)
    form = OverrideForm(request.POST, prefix="override")
    if form.is_valid():
        try:
            services.set_override(component, form.cleaned_data["status"], reason=form.cleaned_data["reason"].strip())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            status = ComponentStatus(form.cleaned_data["status"]).label.lower()
            messages.success(request, f"“{component}” now shows {status} until you clear the override.")
            return redirect("console:component", component.public_id)
    return _component_page(request, component, override_form=form)


@role_required("responder")
@require_POST
def component_override_clear(request: HttpRequest, public_id: str) -> HttpResponse:
    component = find_component(public_id)
    if services.clear_override(component):
        messages.success(request, f"Override cleared: “{component}” shows its derived status again.")
    else:
        messages.info(request, f"“{component}” had no override to clear.")
    return redirect(_next_or(request, reverse("console:component", args=[public_id])))


# --- groups -----------------------------------------------------------------------------------------


@role_required("admin")
def group_new(request: HttpRequest) -> HttpResponse:
    form = GroupForm(bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(**form.fields_for_service())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Group “{group}” created; add components to it.")
            return redirect("console:group", group.public_id)
    return render(request, "console/group_new.html", {"form": form}, status=status_of(form))


def _group_page(request: HttpRequest, group: ComponentGroup, *, edit_form: GroupForm | None = None,
                error: str = "") -> HttpResponse:
    roles = _roles(request)
    context = {"group": group, "components": _components(Component.objects.filter(group=group)
                                                            .order_by("position", "name", "pk")), "error": error,
               **roles}
    if roles["can_admin"]:
        context["edit_form"] = edit_form or GroupForm(initial={
            "name": group.name, "description": group.description, "hidden": group.hidden}, prefix="edit")
    return render(request, "console/group.html", context, status=400 if error else status_of(edit_form))


@role_required("admin")
@require_POST
def group_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    group = find_group(public_id)
    try:
        services.remove_group(group)
    except InvalidInput as refusal:
        return _group_page(request, group, error=f"Not removed: {refusal.message}.")
    messages.success(request, f"The group “{group}” is removed.")
    return redirect("console:components")


@role_required("viewer")
@require_safe
def group_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _group_page(request, find_group(public_id))


@role_required("admin")
@require_POST
def group_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    group = find_group(public_id)
    form = GroupForm(request.POST, prefix="edit")
    if form.is_valid():
        try:
            services.update_group(group, **form.fields_for_service())
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Group “{group}” saved.")
            return redirect("console:group", group.public_id)
    return _group_page(request, find_group(public_id), edit_form=form)


@role_required("admin")
@require_POST
def group_visibility(request: HttpRequest, public_id: str) -> HttpResponse:
    group = find_group(public_id)
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        return _group_page(request, group, error="Nothing was changed: choose to hide or to show it.")
    hidden = form.cleaned_data["hidden"]
    services.update_group(group, hidden=hidden)
    messages.success(request, f"Group “{group}” is {'hidden from' if hidden else 'shown on'} the public page.")
    return redirect(_next_or(request, reverse("console:group", args=[public_id])))


# --- order ------------------------------------------------------------------------------------------


def _resolve_refs(refs: list[str], group: ComponentGroup | None) -> list:
    """"g:<id>" and "c:<id>" references as the groups and components they name; in a group, components only."""
    groups = {g.public_id: g for g in ComponentGroup.objects.all()} if group is None else {}
    components = {c.public_id: c for c in Component.objects.filter(group=group)}
    items = []
    for ref in refs:
        kind, _, public_id = str(ref).partition(":")
        item = groups.get(public_id) if kind == "g" else components.get(public_id) if kind == "c" else None
        if item is None:
            where = f"group “{group.name}”" if group else "the top level of the page"
            raise InvalidInput("order", f'"{ref}" is not a group or component at {where}')
        items.append(item)
    return items


def _apply_order(group: ComponentGroup | None, items: list) -> bool:
    return services.reorder_group(group, items) if group is not None else services.reorder_top_level(items)


def _current_order(group: ComponentGroup | None) -> list:
    return layout.group_order(group) if group is not None else layout.top_level_order()


def _order_page(request: HttpRequest, group: ComponentGroup | None) -> str:
    return reverse("console:group", args=[group.public_id]) if group else reverse("console:components")


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


@role_required("admin")
@require_POST
def components_reorder(request: HttpRequest) -> HttpResponse:
    """A complete new order, from drag and drop (JSON: {"group": id or "", "order": [refs]}) or a form."""
    as_json = _wants_json(request)
    group = None
    try:
        if request.content_type == "application/json":
            try:
                payload = json.loads(request.body or b"{}")
            except ValueError:
                raise InvalidInput("order", "the request is not JSON") from None
            if not isinstance(payload, dict) or not isinstance(payload.get("order"), list):
                raise InvalidInput("order", 'send {"group": "<group id or empty>", "order": ["g:<id>", "c:<id>", …]}')
            group_id, refs = str(payload.get("group") or ""), payload["order"]
        else:
            group_id, refs = request.POST.get("group", ""), request.POST.getlist("order")
        group = find_group(group_id) if group_id else None
        changed = _apply_order(group, _resolve_refs(refs, group))
    except InvalidInput as refusal:
        if as_json:
            return JsonResponse({"field": refusal.field, "error": refusal.message}, status=400)
        error = f"The order was not saved: {refusal.message}"
        return _group_page(request, group, error=error) if group else _list_page(request, error)
    if as_json:
        return JsonResponse({"saved": True, "changed": changed})
    messages.success(request, "Order saved." if changed else "The order was already like that.")
    return redirect(_order_page(request, group))


@role_required("admin")
@require_POST
def components_move(request: HttpRequest) -> HttpResponse:
    """Move up / Move down, for the keyboard and without script: one step, saved as a whole new order."""
    ref, direction = request.POST.get("item", ""), request.POST.get("direction", "")
    kind, _, public_id = ref.partition(":")
    item = (ComponentGroup.objects.filter(public_id=public_id).first() if kind == "g"
            else Component.objects.select_related("group").filter(public_id=public_id).first() if kind == "c" else None)
    if item is None or direction not in ("up", "down"):
        return _list_page(request, "Nothing was moved: name an item that exists, and up or down.")
    group = item.group if isinstance(item, Component) else None
    order = _current_order(group)
    index = next(i for i, other in enumerate(order) if ref_of(other) == ref)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        _apply_order(group, order)
        messages.success(request, f"Moved “{item.name}” {direction}.")
    else:
        messages.info(request, f"“{item.name}” is already {'first' if direction == 'up' else 'last'}.")
    return redirect(_next_or(request, _order_page(request, group)) + f"#item-{public_id}")
