"""The forms of the incident, maintenance and message-template screens.

They parse what a responder typed into what the services take; the rules themselves (what may follow
what, which times make sense) live in the services, whose refusals `show_refusal` puts beside the field
at fault.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from signalpost.errors import InvalidInput
from signalpost.status.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    IncidentStatus,
    Kind,
    MaintenanceStatus,
)
from signalpost.status import reminders as reminder_offsets
from signalpost.status.layout import page_order
from signalpost.status.ranges import day_problem

from .localtime import LocalTimeError, aware_in_zone, local_input_value, zone_names
from .models import MessageTemplate
from .services import BODY_LIMIT

NOT_AFFECTED = ""
# Under maintenance is what a maintenance window says; an incident speaks of the other four.
INCIDENT_COMPONENT_CHOICES = [(s.value, s.label) for s in ComponentStatus if s != ComponentStatus.UNDER_MAINTENANCE]
INCIDENT_IMPACT_CHOICES = [(i.value, i.label) for i in Impact if i != Impact.MAINTENANCE]
OPEN_STATUS_CHOICES = [(s.value, s.label) for s in IncidentStatus if s != IncidentStatus.RESOLVED]


def body_field(label: str = "Message", required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=BODY_LIMIT, strip=False,
        help_text=help_text or "Markdown. What readers see is previewed below.",
        widget=forms.Textarea(attrs={"rows": 7, "data-preview": "body-preview"}),
    )


def notify_field() -> forms.BooleanField:
    return forms.BooleanField(label="Notify subscribers", required=False, initial=True)


class LocalDateTimeField(forms.Field):
    """A datetime-local input: a wall-clock time without a zone (the form says which zone it is in)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    default_error_messages = {"invalid": "Enter a date and time, e.g. 2026-11-25 14:00."}

    def to_python(self, value) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def zone_field(initial: str, label: str = "Time zone of these times") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[(z, z) for z in zone_names()], initial=initial)


class ZonedTimesMixin:
    """Reads the form's LocalDateTimeFields in the zone its `time_zone` field (or `zone_name`) names;
    those in `page_zone_fields` always in `zone_name` (the page's: the form's zone choice is for others)."""

    zone_name: str = "UTC"
    page_zone_fields: tuple[str, ...] = ()

    def _zone_of(self, name: str, cleaned: dict) -> str:
        return self.zone_name if name in self.page_zone_fields else cleaned.get("time_zone") or self.zone_name

    def _aware_times(self, cleaned: dict) -> None:
        for name, field in self.fields.items():
            value = cleaned.get(name)
            if not isinstance(field, LocalDateTimeField) or not isinstance(value, datetime):
                continue
            if value.tzinfo is not None:  # typed with an explicit offset: already one instant
                continue
            try:
                cleaned[name] = aware_in_zone(value, self._zone_of(name, cleaned))
            except LocalTimeError as error:
                self.add_error(name, str(error))


    def _dates_only(self, cleaned: dict, **flags: str) -> None:
        """{time field: its "time not known" box}: a ticked box keeps the date typed, without the time."""
        for name, flag in flags.items():
            value = cleaned.get(name)
            if cleaned.get(flag) and isinstance(value, datetime):
                day = value.date() if value.tzinfo is None else value.astimezone(
                    ZoneInfo(self._zone_of(name, cleaned))).date()
                problem = day_problem(day)
                if problem is not None:
                    self.add_error(name, problem)
                else:
                    cleaned[name] = day


def date_only_field() -> forms.BooleanField:
    return forms.BooleanField(label="Time not known: show the date only", required=False)


def impact_fields(form: forms.Form, zone_name: str) -> None:
    """The customer impact window, when it differs from when the incident was opened and resolved."""
    form.fields["impact_started_at"] = LocalDateTimeField(
        label="Customer impact began", required=False,
        help_text=f"Optional, in {zone_name} time unless told otherwise: when customers were first affected, "
                  "if not when it was opened. Uptime and durations count from here.")
    form.fields["impact_ended_at"] = LocalDateTimeField(
        label="Customer impact ended", required=False, help_text="Optional: empty means when it was resolved.")


# --- components -----------------------------------------------------------------------------------


@dataclass
class ComponentBlock:
    group: ComponentGroup | None  # None: components outside any group
    components: list[Component]


def component_blocks() -> list[ComponentBlock]:
    """Every component, grouped and in the public page's order (hidden ones too: responders need them)."""
    groups = list(ComponentGroup.objects.all())
    components = list(Component.objects.select_related("group"))
    by_group: dict[int | None, list[Component]] = {}
    for component in components:
        by_group.setdefault(component.group_id, []).append(component)
    blocks: list[ComponentBlock] = []
    for item in page_order(groups, by_group.get(None, [])):
        if isinstance(item, ComponentGroup):
            if by_group.get(item.pk):
                blocks.append(ComponentBlock(item, by_group[item.pk]))
        elif blocks and blocks[-1].group is None:
            blocks[-1].components.append(item)
        else:
            blocks.append(ComponentBlock(None, [item]))
    return blocks


def component_field_name(component: Component) -> str:
    return f"component_{component.public_id}"


class ComponentStatusesMixin:
    """One status select per component, grouped as on the page. `current` holds the status the incident
    gives each affected component; a component it does not affect starts at "Not affected"."""

    def _add_component_fields(self, blocks: list[ComponentBlock], current: dict[int, str] | None = None) -> None:
        current = current or {}
        self._blocks = blocks
        self._current = current
        self._components = {}
        for block in blocks:
            for component in block.components:
                name = component_field_name(component)
                self._components[name] = component
                affected = component.pk in current
                # Once affected, a component stays on the incident: it can only change status.
                choices = INCIDENT_COMPONENT_CHOICES if affected else [(NOT_AFFECTED, "Not affected"),
                                                                       *INCIDENT_COMPONENT_CHOICES]
                self.fields[name] = forms.ChoiceField(label=component.name, choices=choices, required=affected,
                                                      initial=current.get(component.pk, NOT_AFFECTED))

    @property
    def component_blocks(self) -> list[dict]:
        return [{"group": block.group, "fields": [self[component_field_name(c)] for c in block.components]}
                for block in self._blocks]

    def component_statuses(self, changed_only: bool = False) -> dict[Component, str]:
        """The statuses chosen: every affected component, or only those whose status changes."""
        chosen = {}
        for name, component in self._components.items():
            status = self.cleaned_data.get(name) or NOT_AFFECTED
            if status == NOT_AFFECTED:
                continue
            if changed_only and self._current.get(component.pk) == status:
                continue
            chosen[component] = status
        return chosen


def show_refusal(form: forms.Form, error: InvalidInput) -> None:
    """A service's refusal beside the field it names: components.<id> is that component's select."""
    field = error.field
    if field.startswith("components.") and f"component_{field.split('.', 1)[1]}" in form.fields:
        field = f"component_{field.split('.', 1)[1]}"
    message = error.message
    # The service names other inputs by their parameter names (scheduled_for); the form shows labels.
    for name, other in form.fields.items():
        if "_" in name and name != field and other.label:
            message = re.sub(rf"\b{re.escape(name)}\b", f"“{other.label}”", message)
    if field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, f"{field}: {message}")


# --- incidents ------------------------------------------------------------------------------------


class IncidentOpenForm(ComponentStatusesMixin, ZonedTimesMixin, forms.Form):
    name = forms.CharField(label="Title", max_length=300,
                           widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    status = forms.ChoiceField(choices=OPEN_STATUS_CHOICES, initial=IncidentStatus.INVESTIGATING)
    impact = forms.ChoiceField(choices=INCIDENT_IMPACT_CHOICES, initial=Impact.MINOR)
    body = body_field()
    display_at = LocalDateTimeField(label="Began at", required=False)
    display_date_only = date_only_field()
    deliver_notifications = notify_field()

    def __init__(self, *args, blocks: list[ComponentBlock], zone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name
        self.fields["display_at"].help_text = (
            f"Optional, in {zone_name} time: when it began, if a few minutes ago. Empty means now.")
        self._add_component_fields(blocks)

    def clean(self) -> dict:
        cleaned = super().clean()
        self._dates_only(cleaned, display_at="display_date_only")
        self._aware_times(cleaned)
        return cleaned


def display_time_field(zone_name: str) -> LocalDateTimeField:
    """When an update is shown as posted, for one written down after the fact."""
    return LocalDateTimeField(
        label="Shown as posted at", required=False,
        help_text=f"Optional, in {zone_name} time: when this was said, if earlier than now. Empty means now.")


class IncidentUpdateForm(ComponentStatusesMixin, ZonedTimesMixin, forms.Form):
    reopen = forms.BooleanField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    body = body_field()
    impact = forms.ChoiceField(choices=INCIDENT_IMPACT_CHOICES)
    display_date_only = date_only_field()
    deliver_notifications = notify_field()

    def __init__(self, *args, incident, blocks: list[ComponentBlock], current: dict[int, str],
                 zone_name: str = "UTC", **kwargs):
        resolved = incident.status == IncidentStatus.RESOLVED
        initial = {"reopen": resolved, "impact": incident.impact,
                   "status": IncidentStatus.INVESTIGATING if resolved else incident.status}
        super().__init__(*args, initial=initial, **kwargs)
        self.zone_name = zone_name
        self.fields["display_at"] = display_time_field(zone_name)
        self.reopening = resolved
        if resolved:  # a resolved incident takes an update only to reopen it
            self.fields["status"].choices = OPEN_STATUS_CHOICES
        self._add_component_fields(blocks, current)

    def clean(self) -> dict:
        cleaned = super().clean()
        self._dates_only(cleaned, display_at="display_date_only")
        self._aware_times(cleaned)
        return cleaned


class IncidentEditForm(ZonedTimesMixin, forms.Form):
    name = forms.CharField(label="Title", max_length=300)
    impact = forms.ChoiceField(choices=INCIDENT_IMPACT_CHOICES)

    def __init__(self, *args, zone_name: str = "UTC", incident=None, **kwargs):
        if incident is not None:
            zone = ZoneInfo(zone_name)
            kwargs["initial"] = {
                "name": incident.name, "impact": incident.impact, "time_zone": zone_name,
                "impact_started_at": local_input_value(incident.impact_started_at, zone),
                "impact_ended_at": local_input_value(incident.impact_ended_at, zone),
            }
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name
        impact_fields(self, zone_name)
        self.fields["time_zone"] = zone_field(zone_name, "Time zone of the impact times")
        self.fields["time_zone"].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        self._aware_times(cleaned)
        return cleaned


class UpdateEditForm(forms.Form):
    # Required: a correction that empties an update is far likelier a slip than a wish.
    body = body_field(required=True, help_text="Markdown. The public page will say the update was edited, and when.")


class BackfillForm(ComponentStatusesMixin, ZonedTimesMixin, forms.Form):
    name = forms.CharField(label="Title", max_length=300, widget=forms.TextInput(attrs={"autofocus": True}))
    impact = forms.ChoiceField(choices=INCIDENT_IMPACT_CHOICES, initial=Impact.MINOR)
    started_at = LocalDateTimeField(label="Started at")
    started_date_only = date_only_field()
    resolved_at = LocalDateTimeField(label="Resolved at")
    resolved_date_only = date_only_field()
    time_zone = forms.ChoiceField(label="Time zone of these times")
    body = body_field(label="First update", help_text="Markdown: what was wrong, as first reported.")
    resolution_body = forms.CharField(
        label="Resolution", max_length=BODY_LIMIT, initial="This incident has been resolved.",
        widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown: the last update, saying it is over.")

    def __init__(self, *args, blocks: list[ComponentBlock], zone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = zone_field(zone_name)
        impact_fields(self, zone_name)
        self._add_component_fields(blocks)

    def clean(self) -> dict:
        cleaned = super().clean()
        self._dates_only(cleaned, started_at="started_date_only", resolved_at="resolved_date_only")
        self._aware_times(cleaned)
        return cleaned


# --- maintenance ----------------------------------------------------------------------------------


def reminders_field() -> forms.CharField:
    """The reminders before a window starts, as written ("24h, 1h"): empty for the page's, "none" for none."""
    page = reminder_offsets.described(reminder_offsets.default())
    return forms.CharField(
        label="Remind subscribers before it starts", required=False, max_length=200,
        widget=forms.TextInput(attrs={"placeholder": ", ".join(reminder_offsets.texts(reminder_offsets.default()))
                                      or "none"}),
        help_text=f"Times before the start, such as 24h, 1h or 30m. Empty: the page's default ({page}); "
                  "“none”: no reminders.")


def clean_reminders(value: str) -> list[str] | None:
    """The field's text as the services take it: None for the page's default, [] for none."""
    value = value.strip()
    if not value:
        return None
    if value.lower() == "none":
        return []
    try:
        return reminder_offsets.texts(reminder_offsets.parse("reminders", value))
    except InvalidInput as refusal:
        raise ValidationError(refusal.message) from None


def reminders_initial(offsets: list[int] | None) -> str:
    if offsets is None:
        return ""
    return ", ".join(reminder_offsets.texts(offsets)) or "none"


class MaintenanceForm(ZonedTimesMixin, forms.Form):
    name = forms.CharField(label="Title", max_length=300, widget=forms.TextInput(attrs={"autofocus": True}))
    scheduled_for = LocalDateTimeField(label="Window starts")
    scheduled_until = LocalDateTimeField(label="Window ends")
    time_zone = forms.ChoiceField(label="Time zone of the window")
    components = forms.MultipleChoiceField(label="Affected components", required=False)
    body = body_field()
    auto_start = forms.BooleanField(label="Start it automatically when the window opens", required=False,
                                    initial=True)
    auto_complete = forms.BooleanField(label="Complete it automatically when the window ends", required=False,
                                       initial=True)
    deliver_notifications = notify_field()

    def __init__(self, *args, blocks: list[ComponentBlock], zone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminders"] = reminders_field()
        self.fields["time_zone"] = zone_field(zone_name, "Time zone of the window")
        self.blocks = blocks
        self._by_id = {c.public_id: c for block in blocks for c in block.components}
        self.fields["components"].choices = [(pid, str(c)) for pid, c in self._by_id.items()]

    @property
    def chosen_ids(self) -> list[str]:
        return [str(v) for v in (self["components"].value() or [])]

    def clean_reminders(self) -> list[str] | None:
        return clean_reminders(self.cleaned_data.get("reminders", ""))

    def clean(self) -> dict:
        cleaned = super().clean()
        self._aware_times(cleaned)
        cleaned["components"] = [self._by_id[pid] for pid in cleaned.get("components") or []]
        return cleaned


class MaintenanceUpdateForm(ZonedTimesMixin, forms.Form):
    page_zone_fields = ("display_at",)
    status = forms.ChoiceField(choices=MaintenanceStatus.choices)
    body = body_field(help_text="Markdown. Empty with a new status: the usual words for that status.")
    scheduled_until = LocalDateTimeField(
        label="New window end", required=False,
        help_text="Only when it overruns: the window then ends at this time instead.")
    time_zone = forms.ChoiceField(label="Time zone of the new end")
    overrun = forms.BooleanField(
        label="It is taking longer than planned", required=False,
        help_text="Without a new end, the window stays open until someone completes it.")
    deliver_notifications = notify_field()

    display_date_only = date_only_field()

    def __init__(self, *args, maintenance, zone_name: str, **kwargs):
        super().__init__(*args, initial={"status": maintenance.status}, **kwargs)
        self.zone_name = zone_name
        self.fields["time_zone"] = zone_field(zone_name, "Time zone of the new end")
        self.fields["display_at"] = display_time_field(zone_name)

    def clean(self) -> dict:
        cleaned = super().clean()
        self._dates_only(cleaned, display_at="display_date_only")
        self._aware_times(cleaned)
        return cleaned


class MaintenanceImpactForm(ZonedTimesMixin, forms.Form):
    """When customers were affected during a maintenance, and how badly (the impact the window counts as)."""

    impact = forms.ChoiceField(choices=Impact.choices, help_text="“Maintenance” counts the whole window as "
                               "maintenance; minor, major or critical count the impact window as degraded "
                               "performance, partial or major outage of its components.")

    def __init__(self, *args, zone_name: str = "UTC", maintenance=None, **kwargs):
        if maintenance is not None:
            zone = ZoneInfo(zone_name)
            kwargs["initial"] = {
                "impact": maintenance.impact, "time_zone": zone_name,
                "impact_started_at": local_input_value(maintenance.impact_started_at, zone),
                "impact_ended_at": local_input_value(maintenance.impact_ended_at, zone),
            }
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name
        impact_fields(self, zone_name)
        self.fields["impact_ended_at"].help_text = "Optional: empty means when the maintenance ended."
        self.fields["time_zone"] = zone_field(zone_name, "Time zone of the impact times")
        self.fields["time_zone"].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        self._aware_times(cleaned)
        return cleaned


class MaintenanceRemindersForm(forms.Form):
    """A window's reminders, changed before it starts (a reminder already sent is not sent again)."""

    def __init__(self, *args, maintenance=None, **kwargs):
        if maintenance is not None:
            kwargs["initial"] = {"reminders": reminders_initial(maintenance.reminders)}
        super().__init__(*args, **kwargs)
        self.fields["reminders"] = reminders_field()

    def clean_reminders(self) -> list[str] | None:
        return clean_reminders(self.cleaned_data.get("reminders", ""))


def window_initial(scheduled_for: datetime | None, scheduled_until: datetime | None, zone: ZoneInfo) -> dict:
    return {"scheduled_for": local_input_value(scheduled_for, zone),
            "scheduled_until": local_input_value(scheduled_until, zone)}


# --- message templates ----------------------------------------------------------------------------


TEMPLATE_STATUS_CHOICES = [
    (NOT_AFFECTED, "None (keep the status chosen in the form)"),
    ("Incident", [(s.value, s.label) for s in IncidentStatus]),
    ("Maintenance", [(s.value, s.label) for s in MaintenanceStatus]),
]


class MessageTemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))
    kind = forms.ChoiceField(label="For", choices=Kind.choices, initial=Kind.INCIDENT)
    status = forms.ChoiceField(
        label="Status it preselects", required=False, choices=TEMPLATE_STATUS_CHOICES,
        help_text="Choosing the template in an update form also sets this status.")
    body = forms.CharField(label="Text", max_length=BODY_LIMIT, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8, "data-preview": "body-preview"}),
                           help_text="Markdown, as it will appear in the update.")
    position = forms.IntegerField(label="Position in the list", required=False, min_value=0, max_value=10_000)

    @classmethod
    def of(cls, template: MessageTemplate) -> "MessageTemplateForm":
        return cls(initial={"name": template.name, "kind": template.kind, "status": template.status,
                            "body": template.body, "position": template.position})
