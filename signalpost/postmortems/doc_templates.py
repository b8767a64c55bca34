"""Postmortem templates: the kinds of document the team writes, each with the sections it uses and
the Markdown a new postmortem starts with in each (questions the reviewer answers, then deletes).

Two are built in and come with every installation (migration 0004): "Learning review", the long form
with every section (shared/seeds 002), and "Postmortem", the short one (seed 003). The team edits them
and adds its own ("Downtime report", seed 004). A built-in template cannot be deleted; a team's can,
even while postmortems were written from it: they keep their text and the name they call themselves,
and the editor then offers them every section.

Like every service: one audit entry per write that changes something, none when nothing changed.
"""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.status.validation import required_text

from .models import SECTION_FIELDS, PostmortemTemplate, Template
from .saving import section_text

# What a reviewer is asked in each section before writing it: replaced by the answer.
STARTER = {
    "summary": "What happened, in two or three sentences a customer understands?\n\n"
               "- What broke, and for whom?\n- When did it start and end (say the time zone)?",
    "impact": "What did customers experience, for how long?\n\n"
              "- Which services, regions or features were affected?\n"
              "- How many customers or requests? Put the numbers in the impact figures.\n"
              "- Was any data lost, delayed or exposed?",
    "timeline_intro": "What did the team set out to do first, before the entries below? "
                      "Delete this if the entries speak for themselves.",
    "recovery": "How was service restored, and in what order?\n\n"
                "- What was tried first, and did it help?\n- When could customers use the service again?",
    "root_cause": "Why did it happen?\n\n- What failed, and what made it fail?\n"
                  "- If the cause is not known, say what is known and tick \u201croot cause unknown\u201d.",
    "contributing_factors": "What made it more likely, worse, or longer? "
                            "(A missing alert, a risky deploy, a runbook out of date.)",
    "went_well": "What helped detection, response or recovery, that the team should keep doing?",
    "went_badly": "What hindered detection, response or recovery?",
    "actions_intro": "How are the action items below organised, and where will customers hear about progress?",
    "closing": "An apology, thanks, and where customers can ask questions.",
}
SHORT_SECTIONS = ["summary", "impact", "timeline_intro", "root_cause", "actions_intro", "closing"]

BUILT_IN = [
    {"key": Template.LEARNING_REVIEW.value, "name": Template.LEARNING_REVIEW.label, "position": 1,
     "description": "The long form, for a serious incident: every section, from what happened to what "
                    "went well and badly.",
     "sections": list(SECTION_FIELDS), "starter": dict(STARTER)},
    {"key": Template.POSTMORTEM.value, "name": Template.POSTMORTEM.label, "position": 2,
     "description": "The short form: summary, impact, timeline, root cause, action items and closing words.",
     "sections": list(SHORT_SECTIONS), "starter": {f: STARTER[f] for f in SHORT_SECTIONS}},
]
TEMPLATE_FIELDS = ["name", "description", "sections", "starter", "position"]
NAME_MAX = 64
DESCRIPTION_MAX = 300


# --- reading ------------------------------------------------------------------------------------------


def postmortem_templates() -> list[PostmortemTemplate]:
    """Every template in the team's order. A built-in one missing (a database emptied by hand) comes back."""
    found = list(PostmortemTemplate.objects.all())
    keys = {t.key for t in found if t.built_in}
    missing = [spec for spec in BUILT_IN if spec["key"] not in keys]
    if not missing:
        return found
    names = {t.name.lower() for t in found}
    for spec in missing:
        name = spec["name"] if spec["name"].lower() not in names else f"{spec['name']} ({spec['key']})"
        PostmortemTemplate.objects.create(built_in=True, **{**spec, "name": name})
    return list(PostmortemTemplate.objects.all())


def templates_in_use() -> dict[int, int]:
    """How many postmortems were written from each template (by its id)."""
    return dict(PostmortemTemplate.objects.annotate(n=Count("postmortems")).values_list("pk", "n"))


def find_template(ref: "str | PostmortemTemplate", field: str = "template") -> PostmortemTemplate:
    """A template by object, public id, name (any case), or a built-in one's key ("learning_review")."""
    if isinstance(ref, PostmortemTemplate):
        return ref
    value = str(ref or "").strip()
    templates = postmortem_templates()
    for match in (lambda t: t.public_id == value, lambda t: t.name.lower() == value.lower(),
                  lambda t: bool(t.key) and t.key == value.lower()):
        found = next((t for t in templates if match(t)), None)
        if found is not None:
            return found
    names = ", ".join(t.name for t in templates)
    raise InvalidInput(field, f'"{value}" is not a postmortem template (one of: {names})')


def label_of(name: str) -> str:
    """What a postmortem stores as its label: a built-in kind's key for its usual name (so that scripts
    reading "template" keep seeing "learning_review"), any other name as it is."""
    for key, label in Template.choices:
        if name.lower() in (key, label.lower()):
            return key
    return name


def template_choice(ref: "str | PostmortemTemplate") -> tuple[PostmortemTemplate | None, str]:
    """(the template, the label a postmortem written from it carries). A name that is no template is a
    kind of document the team only named ("Downtime report"): no template, that name as the label."""
    if isinstance(ref, PostmortemTemplate):
        return ref, label_of(ref.name)
    value = required_text("template", ref, NAME_MAX)
    try:
        chosen = find_template(value)
    except InvalidInput:
        return None, label_of(value)
    return chosen, label_of(chosen.name)


def starter_sections(template: PostmortemTemplate | None, given: Mapping[str, str]) -> dict[str, str]:
    """The template's starter text for each of its sections that `given` leaves empty."""
    if template is None:
        return {}
    return {field: text for field, text in (template.starter or {}).items()
            if field in template.sections and field in SECTION_FIELDS and text and not given.get(field)}


# --- checks on input ----------------------------------------------------------------------------------


def _name(value: str | None, template: PostmortemTemplate | None) -> str:
    name = required_text("name", value, NAME_MAX)
    others = PostmortemTemplate.objects.all() if template is None else PostmortemTemplate.objects.exclude(pk=template.pk)
    if others.filter(name__iexact=name).exists():
        raise InvalidInput("name", f'a template named "{name}" already exists')
    reserved = {spec["key"] for spec in BUILT_IN} - ({template.key} if template and template.key else set())
    if name.lower() in reserved:
        raise InvalidInput("name", f'"{name}" is what scripts call a built-in template; choose another name')
    return name


def _sections(value: Iterable[str] | None) -> list[str]:
    chosen = list(value or [])
    for field in chosen:
        if field not in SECTION_FIELDS:
            raise InvalidInput("sections", f'"{field}" is not a section of a postmortem')
    if not chosen:
        raise InvalidInput("sections", "choose at least one section")
    return [f for f in SECTION_FIELDS if f in chosen]


def _starter(value: Mapping[str, str] | None, sections: list[str]) -> dict[str, str]:
    """Starter text of the chosen sections (others' is dropped with them), empty ones left out."""
    clean = {}
    for field, text in (value or {}).items():
        if field not in SECTION_FIELDS:
            raise InvalidInput(f"starter.{field}", "is not a section of a postmortem")
        text = section_text(f"starter.{field}", text)
        if text and field in sections:
            clean[field] = text
    return clean


def _description(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput("description", f"must be at most {DESCRIPTION_MAX} characters")
    return value


def _position(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("position", "must be a whole number")
    return value


def _snapshot(template: PostmortemTemplate) -> dict:
    return audit.snapshot(template, TEMPLATE_FIELDS)


# --- writing ------------------------------------------------------------------------------------------


def create_template(*, name: str, description: str = "", sections: Iterable[str] | None = None,
                    starter: Mapping[str, str] | None = None, position: int | None = None) -> PostmortemTemplate:
    """A template of the team's own; every section unless told which."""
    with transaction.atomic():
        postmortem_templates()  # the built-in ones first, so that a name cannot take theirs
        clean_sections = _sections(SECTION_FIELDS if sections is None else sections)
        template = PostmortemTemplate(
            name=_name(name, None), description=_description(description), sections=clean_sections,
            starter=_starter(starter, clean_sections),
            position=_position(position) if position is not None else
            (PostmortemTemplate.objects.aggregate(m=Max("position"))["m"] or 0) + 1)
        template.save()
        audit.record("postmortem_template.create", template, after=_snapshot(template))
    return template


def update_template(template: PostmortemTemplate, **fields) -> PostmortemTemplate:
    """Change a template's name, description, sections, starter text or position. The postmortems
    already written from it keep their text and their label."""
    with transaction.atomic():
        template = PostmortemTemplate.objects.select_for_update().get(pk=template.pk)
        before = _snapshot(template)
        unknown = [name for name in fields if name not in TEMPLATE_FIELDS]
        if unknown:
            raise InvalidInput(unknown[0], "is not a field of a postmortem template")
        if "name" in fields:
            template.name = _name(fields["name"], template)
        if "description" in fields:
            template.description = _description(fields["description"])
        if "sections" in fields:
            template.sections = _sections(fields["sections"])
        if "starter" in fields or "sections" in fields:
            template.starter = _starter(fields.get("starter", template.starter), template.sections)
        if "position" in fields:
            template.position = _position(fields["position"])
        after = _snapshot(template)
        if after != before:
            template.updated_at = timezone.now()
            template.save()
            audit.record("postmortem_template.update", template, before=before, after=after)
    return template


def delete_template(template: PostmortemTemplate) -> int:
    """Delete a team's template; the number of postmortems that had been written from it. They keep
    everything they hold; their editor offers every section from then on."""
    with transaction.atomic():
        template = PostmortemTemplate.objects.select_for_update().get(pk=template.pk)
        if template.built_in:
            raise InvalidInput("template", f'"{template.name}" is built in: it can be edited but not deleted')
        used = template.postmortems.count()
        audit.record("postmortem_template.delete", template, before={**_snapshot(template), "postmortems": used})
        template.delete()
    return used
