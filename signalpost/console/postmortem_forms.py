"""The forms of the postmortem editor and the action item list.

They only parse: wall-clock times typed in the document's zone become instants, a date becomes a date.
Whether the instants come in order, whether a reviewer may review, whether an item's link is a link:
the postmortem services decide, and `show_refusal` puts their words beside the field at fault.

Every form that takes a time carries, hidden, the zone it showed its times in (`shown_zone`). A time is
read in that zone, so changing the document's zone in the same submission does not move the instants
already typed; they are shown in the new zone afterwards.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model

from signalpost.accounts.roles import has_role
from signalpost.postmortems.models import (
    SECTION_TITLES,
    SECTIONS,
    ActionItem,
    Postmortem,
    PostmortemTemplate,
    Template,
)
from signalpost.presentation.zone import zone_named
from signalpost.status.models import Incident, Kind

from .forms import LocalDateTimeField, ZonedTimesMixin, zone_field
from .localtime import LocalTimeError, aware_in_zone, local_input_value, zone_names

SECTION_LIMIT = 50_000
CUSTOM = "custom"
INSTANTS = [
    ("first_signal_at", "First signal", "When the problem first showed (an alert, a graph), if before detection."),
    ("detected_at", "Detected", "When the team knew. Empty: when the first incident was opened."),
    ("acknowledged_at", "Acknowledged", "When someone took it on. Empty: the incident's first update after it opened."),
]
ITEM_STATES = ActionItem.State.choices


def zone_of(name: str) -> ZoneInfo:
    return zone_named(name)


class ShownZoneMixin:
    """Reads the LocalDateTimeFields in the zone the form was shown in. `keep` maps a field to the instant
    it held: a value typed back unchanged (to the minute, as the input shows it) keeps the exact instant,
    seconds included, instead of moving it to the whole minute."""

    def _read_times(self, cleaned: dict, keep: dict[str, datetime | None]) -> None:
        zone_name = cleaned.get("shown_zone") or "UTC"
        zone = zone_of(zone_name)
        for name, field in self.fields.items():
            if not isinstance(field, LocalDateTimeField):
                continue
            value = cleaned.get(name)
            if not isinstance(value, datetime) or value.tzinfo is not None:  # a date alone stays a date
                continue
            held = keep.get(name)
            if held is not None and local_input_value(held, zone) == value.replace(second=0, microsecond=0):
                cleaned[name] = held
                continue
            try:
                cleaned[name] = aware_in_zone(value, zone_name)
            except LocalTimeError as error:
                self.add_error(name, str(error))


def shown_zone_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, required=False)


def candidate_incidents(postmortem: Postmortem | None = None, limit: int = 200) -> list[Incident]:
    """Incidents and maintenance windows a postmortem may cover: those without one (and its own)."""
    free = Incident.objects.filter(postmortems__isnull=True)
    chosen = list(postmortem.incidents.all()) if postmortem is not None else []
    found = list(free.order_by("-started_at", "-created_at", "-id")[:limit])
    return chosen + [i for i in found if i not in chosen]


def incident_label(incident: Incident, zone: ZoneInfo) -> str:
    kind = "maintenance" if incident.kind == Kind.MAINTENANCE else "incident"
    began = incident.begins_at
    when = f"{began.astimezone(zone):%Y-%m-%d %H:%M}" if began else "not begun"
    state = "" if incident.resolved_at else ", still open"
    return f"{incident.name} ({kind}, {when}{state})"


class IncidentsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def setup(self, incidents: list[Incident], zone: ZoneInfo) -> None:
        self.by_id = {i.public_id: i for i in incidents}
        self.choices = [(i.public_id, incident_label(i, zone)) for i in incidents]

    def chosen(self, ids: list[str]) -> list[Incident]:
        return [self.by_id[i] for i in ids if i in self.by_id]


# --- a new postmortem ---------------------------------------------------------------------------------


def template_choices(templates: list[PostmortemTemplate]) -> list[tuple[str, str]]:
    """The templates to start from (a built-in one by its key, which scripts and links use too), then
    a kind of document the team only names."""
    choices = []
    for template in templates:
        sections = ", ".join(SECTION_TITLES[f].lower() for f in template.sections)
        about = template.description or f"sections: {sections}"
        choices.append((template.key or template.public_id, f"{template.name}: {about}"))
    return choices + [(CUSTOM, "Another kind of document, named below: every section, no starter text")]


class NewPostmortemForm(forms.Form):
    incidents = IncidentsField(label="The incidents or the maintenance it covers",
                               help_text="One incident, one maintenance, or several incidents with one cause.")
    template = forms.ChoiceField(label="Template", initial=Template.LEARNING_REVIEW, widget=forms.RadioSelect)
    custom_template = forms.CharField(label="Name of the kind of document", required=False, max_length=64,
                                      help_text="e.g. “Downtime report”. Used only with the last choice above.")
    title = forms.CharField(label="Title", required=False, max_length=300,
                            help_text="Empty: the kind of document and the first incident's title.")

    def __init__(self, *args, zone: ZoneInfo, templates: list[PostmortemTemplate], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incidents"].setup(candidate_incidents(), zone)
        self.fields["template"].choices = template_choices(templates)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("template") == CUSTOM:
            if not (cleaned.get("custom_template") or "").strip():
                self.add_error("custom_template", "Name the kind of document, or choose one of the first two.")
            else:
                cleaned["template"] = cleaned["custom_template"].strip()
        cleaned["incidents"] = self.fields["incidents"].chosen(cleaned.get("incidents") or [])
        return cleaned


# --- the document ------------------------------------------------------------------------------------


def section_field(field: str, title: str, prompt: str) -> forms.CharField:
    return forms.CharField(label=title, required=False, max_length=SECTION_LIMIT, strip=False, help_text=prompt,
                           widget=forms.Textarea(attrs={"rows": 6, "data-preview": f"preview-{field}"}))


class DocumentForm(ShownZoneMixin, forms.Form):
    """Everything the author writes in one submission: title, kind, zone, sections, the team's instants
    and the incidents covered. One save, one version."""

    title = forms.CharField(label="Title", max_length=300)
    template = forms.CharField(label="Kind of document", max_length=64,
                               widget=forms.TextInput(attrs={"list": "pm-template-names"}),
                               help_text="A template's name (its sections are offered below), or the team's own "
                                         "name for the document (every section).")
    timeline_zone = forms.ChoiceField(label="Time zone of the document",
                                      help_text="The timeline and the instants below are stated in it "
                                                "(“All times PST”).")
    shown_zone = shown_zone_field()
    root_cause_unknown = forms.BooleanField(label="Root cause unknown", required=False,
                                            help_text="Said plainly at the top of the root cause section.")
    incidents = IncidentsField(label="Incidents covered")

    def __init__(self, *args, postmortem: Postmortem, zone: ZoneInfo, **kwargs):
        self.postmortem = postmortem
        initial = {
            "title": postmortem.title, "template": postmortem.document_label, "timeline_zone": postmortem.timeline_zone,
            "shown_zone": postmortem.timeline_zone, "root_cause_unknown": postmortem.root_cause_unknown,
            "incidents": [i.public_id for i in postmortem.incidents.all()],
            **{s.field: getattr(postmortem, s.field) for s in SECTIONS},
            **{name: local_input_value(getattr(postmortem, name), zone_of(postmortem.timeline_zone))
               for name, _, _ in INSTANTS},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["timeline_zone"].choices = [(z, z) for z in zone_names()]
        for section in SECTIONS:
            self.fields[section.field] = section_field(section.field, section.title, section.prompt)
        for name, label, help_text in INSTANTS:
            self.fields[name] = LocalDateTimeField(label=label, required=False,
                                                   help_text=f"In {postmortem.timeline_zone} time. {help_text}")
        self.fields["incidents"].setup(candidate_incidents(postmortem), zone)

    def clean_template(self) -> str:
        value = self.cleaned_data["template"].strip()
        for key, label in Template.choices:
            if value.lower() in (key, label.lower()):
                return key
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        self._read_times(cleaned, {name: getattr(self.postmortem, name) for name, _, _ in INSTANTS})
        cleaned["incidents"] = self.fields["incidents"].chosen(cleaned.get("incidents") or [])
        return cleaned

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("shown_zone", None)
        return data

    @property
    def section_fields(self) -> list:
        return [self[s.field] for s in SECTIONS]

    @property
    def instant_fields(self) -> list:
        return [self[name] for name, _, _ in INSTANTS]


class FigureForm(forms.Form):
    label = forms.CharField(label="What", required=False, max_length=200)
    value = forms.CharField(label="Figure", required=False, max_length=200)

    def clean(self) -> dict:
        cleaned = super().clean()
        label, value = (cleaned.get("label") or "").strip(), (cleaned.get("value") or "").strip()
        if label and not value:
            self.add_error("value", "Give the figure for this line, or empty both to drop it.")
        if value and not label:
            self.add_error("label", "Say what this figure counts, or empty both to drop it.")
        return cleaned


class BaseFigureFormSet(forms.BaseFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"


FigureFormSet = forms.formset_factory(FigureForm, formset=BaseFigureFormSet, extra=2, can_delete=True, max_num=30,
                                      validate_max=True)


def figure_formset(data, postmortem: Postmortem):
    initial = [{"label": f.label, "value": f.value} for f in postmortem.figures.all()]
    return FigureFormSet(data, initial=initial, prefix="figures")


def kept_figures(formset) -> list[tuple[str, str]]:
    kept = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        label, value = (data.get("label") or "").strip(), (data.get("value") or "").strip()
        if label and value:
            kept.append((label, value))
    return kept


# --- the timeline -------------------------------------------------------------------------------------


class EntryForm(ShownZoneMixin, forms.Form):
    at = LocalDateTimeField(label="Time")
    date_only = forms.BooleanField(label="Time not known: show the date only", required=False)
    text = forms.CharField(label="What happened", max_length=10_000, strip=False,
                           widget=forms.Textarea(attrs={"rows": 2}), help_text="Markdown.")
    shown_zone = shown_zone_field()

    def __init__(self, *args, zone_name: str, entry=None, **kwargs):
        self.entry = entry
        initial = {"shown_zone": zone_name}
        if entry is not None:
            initial.update(at=local_input_value(entry.at, zone_of(zone_name)), text=entry.text,
                           date_only=entry.on is not None)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["at"].help_text = f"In {zone_name} time."

    def clean(self) -> dict:
        cleaned = super().clean()
        at = cleaned.get("at")
        if cleaned.get("date_only") and isinstance(at, datetime):
            # The day as typed (in the zone the document is shown in), without the time.
            cleaned["at"] = at.date() if at.tzinfo is None else at.astimezone(
                zone_of(cleaned.get("shown_zone") or "UTC")).date()
        self._read_times(cleaned, {"at": self.entry.at if self.entry is not None else None})
        return cleaned


# --- action items -------------------------------------------------------------------------------------


class ItemForm(forms.Form):
    title = forms.CharField(label="Action", max_length=300)
    kind = forms.ChoiceField(label="Kind")
    owner = forms.CharField(label="Owner", required=False, max_length=200, help_text="A person or a team.")
    due_date = forms.DateField(label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               input_formats=["%Y-%m-%d"], error_messages={"invalid": "Enter a date, e.g. 2026-03-31."})
    state = forms.ChoiceField(label="State", choices=ITEM_STATES, initial=ActionItem.State.OPEN)
    link = forms.CharField(label="Link", required=False, max_length=500,
                           help_text="The item in your tracker (https://…).")
    description = forms.CharField(label="Details", required=False, max_length=SECTION_LIMIT, strip=False,
                                  widget=forms.Textarea(attrs={"rows": 2}), help_text="Markdown: why, and what exactly.")

    def __init__(self, *args, kinds: list, item: ActionItem | None = None, **kwargs):
        initial = {}
        if item is not None:
            initial = {"title": item.title, "kind": item.kind.public_id, "owner": item.owner,
                       "due_date": item.due_date, "state": item.state, "link": item.link,
                       "description": item.description}
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["kind"].choices = [(k.public_id, k.name) for k in kinds]


class ItemTrackingForm(forms.Form):
    """Following an item up from the list of all items: state, owner, due date."""

    state = forms.ChoiceField(label="State", choices=ITEM_STATES)
    owner = forms.CharField(label="Owner", required=False, max_length=200)
    due_date = forms.DateField(label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               input_formats=["%Y-%m-%d"], error_messages={"invalid": "Enter a date, e.g. 2026-03-31."})
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, item: ActionItem, next_url: str = "", **kwargs):
        initial = {"state": item.state, "owner": item.owner, "due_date": item.due_date, "next": next_url}
        super().__init__(*args, initial=initial, prefix=f"item-{item.public_id}", **kwargs)


class TemplateForm(forms.Form):
    """A postmortem template: its name, what it is for, the sections it uses and the starter text of
    each (the `starter_<section>` fields)."""

    name = forms.CharField(label="Name", max_length=64, help_text="What a postmortem written from it calls itself.")
    description = forms.CharField(label="What it is for", required=False, max_length=300,
                                  help_text="Shown when choosing a template for a new postmortem.")
    position = forms.IntegerField(label="Position in the list", required=False,
                                  help_text="Empty: at the end (a new template) or where it is.")
    sections = forms.MultipleChoiceField(label="Sections", required=False, widget=forms.CheckboxSelectMultiple,
                                         choices=[(s.field, s.title) for s in SECTIONS])

    def __init__(self, *args, template: PostmortemTemplate | None = None, **kwargs):
        initial = {"sections": [s.field for s in SECTIONS]}
        if template is not None:
            initial = {"name": template.name, "description": template.description, "position": template.position,
                       "sections": list(template.sections),
                       **{f"starter_{f}": text for f, text in (template.starter or {}).items()}}
        super().__init__(*args, initial=initial, **kwargs)
        for section in SECTIONS:
            self.fields[f"starter_{section.field}"] = forms.CharField(
                label="Starter text", required=False, max_length=SECTION_LIMIT, strip=False,
                help_text=f"Markdown a new postmortem starts with. {section.prompt}",
                widget=forms.Textarea(attrs={"rows": 3}))

    def values(self) -> dict:
        """The service's arguments."""
        data = self.cleaned_data
        values = {"name": data["name"], "description": data["description"], "sections": data["sections"],
                  "starter": {s.field: data.get(f"starter_{s.field}") or "" for s in SECTIONS}}
        if data.get("position") is not None:
            values["position"] = data["position"]
        return values

    def section_rows(self) -> list[tuple]:
        """(section, its check box, its starter text field), in the order of a postmortem."""
        boxes = list(self["sections"])
        return [(section, box, self[f"starter_{section.field}"]) for section, box in zip(SECTIONS, boxes, strict=True)]

    def refuse(self, refusal) -> None:
        """A service's refusal beside its field: starter.summary is the field starter_summary."""
        field = refusal.field.replace("starter.", "starter_", 1)
        self.add_error(field if field in self.fields else None, refusal.message)


class KindForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)


# --- review -----------------------------------------------------------------------------------------------


def reviewers_for(postmortem: Postmortem) -> list:
    """Console users who may review it: responder or above, and not its author."""
    users = get_user_model().objects.filter(is_active=True).exclude(pk=postmortem.author_id).order_by("username")
    return [u for u in users if has_role(u, "responder")]


class ReviewForm(forms.Form):
    reviewer = forms.ChoiceField(label="Reviewer", help_text="Someone other than the author, responder or above.")

    def __init__(self, *args, postmortem: Postmortem, **kwargs):
        super().__init__(*args, prefix="review", **kwargs)
        self.people = {str(u.pk): u for u in reviewers_for(postmortem)}
        self.fields["reviewer"].choices = [("", "Choose a reviewer")] + [
            (pk, u.get_username()) for pk, u in self.people.items()]

    def clean_reviewer(self):
        return self.people[self.cleaned_data["reviewer"]]


class PublishForm(ZonedTimesMixin, forms.Form):
    """Publishing, now or, for a postmortem entered after the fact, at the time it was published."""

    published_at = LocalDateTimeField(
        label="Published at", required=False,
        help_text="Only for a postmortem published elsewhere first: when. Empty: now.")
    time_zone = forms.ChoiceField(label="Time zone of that time")

    def __init__(self, *args, zone_name: str, **kwargs):
        super().__init__(*args, prefix="publish", **kwargs)
        self.zone_name = zone_name
        self.fields["time_zone"] = zone_field(zone_name, "Time zone of that time")
        self.fields["time_zone"].required = False  # a plain "Publish" sends no time: the page's zone

    def clean(self) -> dict:
        cleaned = super().clean()
        self._aware_times(cleaned)
        return cleaned
