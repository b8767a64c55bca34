"""The monitors screens: every monitor with its state, last check and last failure or warning; a
monitor's page with its settings, each location's results, its state changes and latest raw results;
creating and editing (admin), pausing and resuming (responder), removing (admin).

The form is built from the fields of the monitors file (signalpost.monitors.config.FORM) for the kind
chosen, and what it sends is checked by the file's own rules: a mistake gets the file's message, beside
the field it names, with HTTP 400.
"""

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.errors import InvalidInput
from signalpost.monitors import config, incidents, overview
from signalpost.monitors.models import Monitor, MonitorKind
from signalpost.status.models import Component, ComponentStatus

PER_PAGE = 100
# Fields with a control of their own: the kind (links above the form), pausing (the Pause button).
NOT_IN_FORM = {"kind", "paused", "components", "incident"}  # the automatic incident: in the monitors file
STATUS_CHOICES = [(s, ComponentStatus(s).label) for s in config.STATUSES]


def _text(value: Any, kind: str) -> Any:
    """A field's value as its control shows it."""
    if kind == "flag":
        return bool(value)
    if value is None:
        return ""
    if kind == "list":
        return ", ".join(str(v) for v in value)
    if kind == "mapping":
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if kind == "incident":
        if value["mode"] == "off":
            return "off"
        return f"{value['mode']}: {value['title']}" + (" (subscribers told)" if value["notify"] else "")
    if kind == "json":
        return "" if value == "" else json.dumps(value, ensure_ascii=False)
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _component_label(component: Component) -> str:
    return f"{component.group.name} / {component.name}" if component.group_id else component.name


class MonitorForm(forms.Form):
    """The fields of one kind of monitor, and for each component the status its verdicts give it."""

    name = forms.CharField(label="Name", required=False, help_text="Unique: how the monitors file names it.")

    def __init__(self, kind: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.component_errors: list[str] = []
        for key in config.fields_of(kind):
            if key in NOT_IN_FORM:
                continue
            label, help_text, control = config.FORM[key]
            if control == "flag":
                field: forms.Field = forms.BooleanField(label=label, required=False, help_text=help_text)
            elif control == "choice":
                field = forms.ChoiceField(label=label, required=False, help_text=help_text,
                                          choices=[(c, c) for c in config.CHOICES[key]])
            elif control in ("long_text", "mapping"):
                field = forms.CharField(label=label, required=False, help_text=help_text, strip=False,
                                        widget=forms.Textarea(attrs={"rows": 3}))
            else:
                attrs = {"inputmode": "decimal" if key == "timeout" else "numeric"} if control == "number" else {}
                field = forms.CharField(label=label, required=False, help_text=help_text,
                                        widget=forms.TextInput(attrs=attrs), strip=control != "text")
            self.fields[key] = field
        self.components = list(Component.objects.select_related("group").order_by("group__position", "group__name",
                                                                                   "position", "name"))
        self.rows = []
        for component in self.components:
            down, degraded = f"down_{component.public_id}", f"degraded_{component.public_id}"
            name = _component_label(component)
            self.fields[down] = forms.ChoiceField(label=f"{name}: when down", required=False,
                                                  choices=[("", "— not reported on —"), *STATUS_CHOICES])
            self.fields[degraded] = forms.ChoiceField(label=f"{name}: when degraded", required=False,
                                                      choices=STATUS_CHOICES, initial=config.DEFAULT_DEGRADED)
            self.rows.append((name, down, degraded))

    def bound_rows(self):
        return [(name, self[down], self[degraded]) for name, down, degraded in self.rows]

    def settings(self):
        """The fields after the name and the target (those two take the form's whole width)."""
        return [self[key] for key in self.fields if key not in ("name", "target") and key in config.FORM]

    @classmethod
    def initial_of(cls, item: dict) -> dict:
        initial = {"name": item.get("name", "")}
        for key, value in item.items():
            if key in config.FORM and key not in NOT_IN_FORM:
                initial[key] = _text(value, config.FORM[key][2])
        for link in item.get("components", []):
            initial[f"down_{link['component']}"] = link["down"]
            initial[f"degraded_{link['component']}"] = link["degraded"]
        return initial

    def item(self) -> dict:
        """What the form says, as an item of the monitors file (the file's rules check it)."""
        data = self.cleaned_data
        item: dict[str, Any] = {"name": data["name"], "kind": self.kind}
        for key in self.fields:
            if key not in config.FORM:
                continue
            control, value = config.FORM[key][2], data.get(key)
            if control == "number":
                item[key] = _number(value, config.DEFAULTS[key])
            elif control == "list":
                item[key] = [int(v) if v.isdigit() else v for v in (p.strip() for p in value.split(",")) if v]
            elif control == "mapping":
                item[key] = _mapping(value)
            elif control == "json":
                if value.strip():
                    item[key] = _json(value)
            else:
                item[key] = value
        item["components"] = [{"component": component.public_id, "down": data[f"down_{component.public_id}"],
                               "degraded": data[f"degraded_{component.public_id}"] or config.DEFAULT_DEGRADED}
                              for component in self.components if data.get(f"down_{component.public_id}")]
        return item

    def show(self, bad: config.BadMonitor) -> None:
        for key, message in bad.problems:
            if key == "components":
                self.component_errors.append(message)
            elif key in self.fields:
                self.add_error(key, message)
            else:
                self.add_error(None, f"{key}: {message}")


def _json(text: str) -> Any:
    """A JSON value typed in; a bare word that is not JSON is the text itself (ok is "ok")."""
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def _number(text: str, default: Any) -> Any:
    """A number typed in; empty: the default; anything else as typed, for the rules to refuse."""
    text = (text or "").strip()
    if not text:
        return default
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _mapping(text: str) -> Any:
    """"Name: value" lines as a mapping; text that is not such lines as typed, for the rules to refuse."""
    found = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            return text
        found[name.strip()] = value.strip()
    return found


def _find(public_id: str) -> Monitor:
    monitor = overview.find(public_id)
    if monitor is None:
        raise Http404(f'no monitor with id "{public_id}"')
    return monitor


def _kind(request: HttpRequest, default: str) -> str:
    kind = request.GET.get("kind", default)
    return kind if kind in MonitorKind.values else default


def _kinds(request: HttpRequest, chosen: str) -> list[dict]:
    return [{"value": value, "label": label, "current": value == chosen, "url": f"{request.path}?kind={value}"}
            for value, label in MonitorKind.choices]


# --- the list and a monitor's page --------------------------------------------------------------------


@role_required("viewer")
@require_safe
def monitor_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Monitor.objects.order_by("name"), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/monitors.html", {
        "page_obj": page, "summaries": overview.summaries(list(page.object_list)),
        "can_edit": has_role(request.user, "admin"),
    })


def _settings_shown(monitor: Monitor) -> list[tuple[str, str]]:
    values = config.monitor_values(monitor)
    shown = []
    for key in config.fields_of(monitor.kind):
        if key in ("components", "paused", "target", "kind"):
            continue
        value = values[key]
        if key == "headers":  # values may hold credentials: the names only
            text = ", ".join(value) or "none"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None or value == "":
            text = {"locations_needed": "a majority of those reporting", "degraded_above_ms": "never"}.get(key, "—")
        else:
            text = _text(value, config.FORM[key][2])
        shown.append((config.FORM[key][0], text))
    return shown


@role_required("viewer")
@require_safe
def monitor_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    monitor = _find(public_id)
    found = overview.detail(monitor)
    for link in found.links:
        link.label = _component_label(link.component)
        link.down_label = ComponentStatus(link.down_status).label
        link.degraded_label = ComponentStatus(link.degraded_status).label
    draft = incidents.draft_of(monitor)
    ping_url = (f"{settings.SITE_URL.rstrip('/')}/ping/{monitor.heartbeat_key}"
                if monitor.kind == MonitorKind.HEARTBEAT and monitor.heartbeat_key else "")
    return render(request, "console/monitor.html", {
        "monitor": monitor, "found": found, "settings_shown": _settings_shown(monitor), "draft": draft,
        "ping_url": ping_url,
        "can_edit": has_role(request.user, "admin"), "can_pause": has_role(request.user, "responder"),
    })


# --- creating and changing ----------------------------------------------------------------------------


def _form_page(request: HttpRequest, form: MonitorForm, monitor: Monitor | None, status: int) -> HttpResponse:
    return render(request, "console/monitor_form.html", {
        "form": form, "monitor": monitor, "kinds": _kinds(request, form.kind),
        "kind_label": MonitorKind(form.kind).label,
    }, status=status)


@role_required("admin")
def monitor_new(request: HttpRequest) -> HttpResponse:
    kind = _kind(request, MonitorKind.HTTP)
    defaults = {key: value for key, value in config.DEFAULTS.items() if key in config.fields_of(kind)}
    form = MonitorForm(kind, request.POST if request.method == "POST" else None,
                       initial=MonitorForm.initial_of({**defaults, "components": []}))
    if request.method == "POST" and form.is_valid():
        try:
            monitor = config.create(form.item())
        except config.BadMonitor as bad:
            form.show(bad)
        else:
            messages.success(request, f"Monitor “{monitor.name}” created: it is checked within one interval.")
            return redirect("console:monitor", monitor.public_id)
    return _form_page(request, form, None, 400 if form.is_bound else 200)


@role_required("admin")
def monitor_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    monitor = _find(public_id)
    kind = _kind(request, monitor.kind)
    item = config.item_of(monitor)
    item = {**{k: v for k, v in config.DEFAULTS.items() if k in config.fields_of(kind)},
            **{k: v for k, v in item.items() if k == "name" or k in config.fields_of(kind)}}
    form = MonitorForm(kind, request.POST if request.method == "POST" else None, initial=MonitorForm.initial_of(item))
    if request.method == "POST" and form.is_valid():
        try:
            config.change(monitor, form.item())
        except config.BadMonitor as bad:
            monitor.refresh_from_db()
            form.show(bad)
        else:
            messages.success(request, f"Monitor “{monitor.name}” saved.")
            return redirect("console:monitor", monitor.public_id)
    return _form_page(request, form, monitor, 400 if form.is_bound else 200)


# --- pausing, resuming, removing ------------------------------------------------------------------------


@role_required("responder")
@require_POST
def monitor_pause(request: HttpRequest, public_id: str) -> HttpResponse:
    monitor = _find(public_id)
    if config.pause(monitor):
        messages.success(request, f"Monitor “{monitor.name}” paused: it is not checked, and the status it gave "
                                  "its components is cleared.")
    else:
        messages.info(request, f"Monitor “{monitor.name}” was paused already: nothing changed.")
    return redirect("console:monitor", monitor.public_id)


@role_required("responder")
@require_POST
def monitor_resume(request: HttpRequest, public_id: str) -> HttpResponse:
    monitor = _find(public_id)
    if config.resume(monitor):
        messages.success(request, f"Monitor “{monitor.name}” resumed: it is checked again from now.")
    else:
        messages.info(request, f"Monitor “{monitor.name}” was not paused: nothing changed.")
    return redirect("console:monitor", monitor.public_id)


@role_required("responder")
@require_POST
def monitor_publish_draft(request: HttpRequest, public_id: str) -> HttpResponse:
    """The draft incident the monitor made when it went down, published as of that moment."""
    monitor = _find(public_id)
    try:
        incident = incidents.publish_draft(monitor.name)
    except InvalidInput as error:
        messages.info(request, f"{error.message}: nothing was published.")
        return redirect("console:monitor", monitor.public_id)
    messages.success(request, f"Incident “{incident.name}” published, as of when the monitor went down.")
    return redirect("console:incident", incident.public_id)


@role_required("admin")
@require_POST
def monitor_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    monitor = _find(public_id)
    config.remove(monitor)
    messages.success(request, f"Monitor “{monitor.name}” removed; its components' past intervals stay.")
    return redirect(reverse("console:monitors"))
