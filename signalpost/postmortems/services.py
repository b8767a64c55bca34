"""The verbs of postmortems. The API, the console and the CLI call these, so each rule is written once.

Every write records exactly one audit entry inside its transaction, and one that changes the content
keeps the whole document as a new version (saving.py). The workflow is draft → in review → approved →
published (workflow.py): someone other than the author approves, and only an approved postmortem is
published. Changing the content of an approved postmortem withdraws the approval (the reviewer approved
what they read); following up an action item (actions.py) does not. A published postmortem stays
public while it is corrected: each change is a version, and the page says when it was revised.

This module is the one to import: it also offers the verbs of actions.py and workflow.py.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.presentation.zone import zone_named
from signalpost.status import services as status_services
from signalpost.errors import InvalidInput, NotFound
from signalpost.status.models import Incident
from signalpost.status.validation import (
    aware,
    choice,
    required_text,
    validate_time_zone,
)

from .actions import (  # noqa: F401  (part of this module's verbs)
    DEFAULT_KINDS,
    action_item_kinds,
    action_items_by_kind,
    add_action_item,
    create_kind,
    delete_kind,
    find_item,
    find_kind,
    remove_action_item,
    update_action_item,
    update_kind,
)
from .figures import incidents_of  # noqa: F401  (part of this module's verbs)
from .doc_templates import (  # noqa: F401  (part of this module's verbs)
    create_template,
    delete_template,
    find_template,
    postmortem_templates,
    starter_sections,
    template_choice,
    templates_in_use,
    update_template,
)
from .models import (
    SECTION_FIELDS,
    ImpactFigure,
    Postmortem,
    PostmortemTemplate,
    PostmortemVersion,
    State,
    Template,
    TimelineEntry,
)
from .saving import Person, locked, person_of, pm_snapshot, save_change, section_text  # noqa: F401
from .timeline import prefilled_entries
from .versions import PartDiff, diff_versions, document  # noqa: F401
from .workflow import approve, publish, request_review, unpublish  # noqa: F401

ENTRY_MAX = 10_000
MAX_FIGURES = 30


# --- reading ----------------------------------------------------------------------------------------


def get_postmortem(public_id: str) -> Postmortem:
    try:
        return Postmortem.objects.get(public_id=public_id)
    except Postmortem.DoesNotExist:
        raise NotFound(f'no postmortem with id "{public_id}"') from None


def published_for_incidents(incident_ids: Iterable[int]) -> dict[int, Postmortem]:
    """The published postmortem of each of these incidents that has one: one query."""
    links = Postmortem.incidents.through.objects.filter(
        incident_id__in=list(incident_ids), postmortem__status=State.PUBLISHED
    ).select_related("postmortem")
    return {link.incident_id: link.postmortem for link in links}


def find_entry(postmortem: Postmortem, public_id: str) -> TimelineEntry:
    entry = postmortem.timeline.filter(public_id=public_id).first()
    if entry is None:
        raise NotFound(f'no timeline entry with id "{public_id}" in this postmortem')
    return entry


def version_of(postmortem: Postmortem, number: int) -> PostmortemVersion:
    found = postmortem.versions.filter(number=number).first()
    if found is None:
        raise NotFound(f"this postmortem has no version {number}")
    return found


def public_paths(incident_ids: Iterable[int] = (), everything: bool = False) -> list[str]:
    """The public URLs of the postmortems covering these incidents (of all, with everything): the page
    and its Markdown twin of each published one, and of each withdrawn one (whose page now says so)."""
    shown = Postmortem.objects.filter(Q(status=State.PUBLISHED) | Q(withdrawn_at__isnull=False))
    if not everything:
        shown = shown.filter(incidents__in=list(incident_ids))
    paths = []
    for public_id in shown.values_list("public_id", flat=True).distinct():
        paths += [f"/postmortems/{public_id}", f"/postmortems/{public_id}.md"]
    return list(dict.fromkeys(paths))


def incidents_missing_pages(published: set[str]) -> list[int]:
    """Incidents whose published postmortem is not in the snapshot yet (a start after an upgrade)."""
    missing = []
    for postmortem in Postmortem.objects.filter(status=State.PUBLISHED).prefetch_related("incidents"):
        if postmortem.public_path not in published or postmortem.markdown_path not in published:
            missing += [i.pk for i in postmortem.incidents.all()]
    return missing


# --- checks on input ----------------------------------------------------------------------------------


def _incidents(incidents: Iterable[Incident], postmortem: Postmortem | None = None) -> list[Incident]:
    incidents = list(dict.fromkeys(incidents))
    if not incidents:
        raise InvalidInput("incidents", "name at least one incident or maintenance")
    for incident in incidents:
        if not isinstance(incident, Incident):
            raise InvalidInput("incidents", f'unknown incident "{incident}"')
    if sum(1 for i in incidents if i.is_maintenance) > 1:
        raise InvalidInput("incidents", "a postmortem covers one maintenance, or incidents with one cause; "
                                        "not several maintenance windows")
    taken = Postmortem.objects.filter(incidents__in=incidents)
    if postmortem is not None:
        taken = taken.exclude(pk=postmortem.pk)
    for other in taken.prefetch_related("incidents").distinct():
        clash = next(i for i in other.incidents.all() if i in incidents)
        raise InvalidInput("incidents", f'"{clash.name}" already has a postmortem ("{other.title}")')
    return incidents


def _check_instants(postmortem: Postmortem, incidents: list[Incident]) -> None:
    """The team's instants must come in order: first signal ≤ detection ≤ acknowledgement."""
    from .figures import default_acknowledged_at, default_detected_at, utc

    detected = utc(postmortem.detected_at) or default_detected_at(incidents)
    acknowledged = utc(postmortem.acknowledged_at) or default_acknowledged_at(incidents)
    first_signal = utc(postmortem.first_signal_at)
    if first_signal and detected and first_signal > detected:
        raise InvalidInput("first_signal_at", f"is after the problem was detected ({detected:%Y-%m-%d %H:%M} UTC); "
                                              "set detected_at too if detection came later")
    if postmortem.acknowledged_at and detected and utc(postmortem.acknowledged_at) < detected:
        raise InvalidInput("acknowledged_at", f"is before the problem was detected ({detected:%Y-%m-%d %H:%M} UTC)")
    if postmortem.detected_at and acknowledged and not postmortem.acknowledged_at and acknowledged < detected:
        raise InvalidInput("detected_at", "is after the first update that acknowledged the incident; "
                                          "set acknowledged_at too")


def _entry_fields(field: str, at: datetime | date | None, text: str | None,
                  zone: str = "UTC") -> tuple[datetime, str, date | None]:
    """An entry's time (or its date alone, when the time is not known: the day's first instant in the
    timeline's zone) and text."""
    on = None
    if isinstance(at, date) and not isinstance(at, datetime):
        on, at = at, datetime(at.year, at.month, at.day, tzinfo=zone_named(zone))
    at = aware(f"{field}.at", at)
    if at is None:
        raise InvalidInput(f"{field}.at", "is required")
    text = required_text(f"{field}.text", text, ENTRY_MAX)
    return at, text, on


# --- writing the document -----------------------------------------------------------------------------


def create_postmortem(*, incidents: Iterable[Incident], title: str = "",
                      template: "str | PostmortemTemplate" = Template.POSTMORTEM, author=None,
                      timeline_zone: str | None = None, prefill: bool = True, starter_text: bool = False,
                      first_signal_at: datetime | None = None, detected_at: datetime | None = None,
                      acknowledged_at: datetime | None = None, root_cause_unknown: bool = False,
                      now: datetime | None = None, **sections: str) -> Postmortem:
    """A new draft for these incidents. Its timeline starts from their updates and state changes
    (prefill), for the author to trim; its zone is the page's unless given.

    `template` is a template (object, id or name, or "learning_review" / "postmortem"), or any other
    name for a kind of document the team only named. With starter_text, each of the template's sections
    not given starts with the template's questions."""
    now = now or timezone.now()
    person = person_of(author)
    for name in sections:
        if name not in SECTION_FIELDS:
            raise InvalidInput(name, "is not a section of a postmortem")
    clean_sections = {name: section_text(name, value) for name, value in sections.items()}
    chosen_template, label = template_choice(template)
    if starter_text:
        clean_sections.update(starter_sections(chosen_template, clean_sections))
    zone = validate_time_zone(timeline_zone, "timeline_zone") if timeline_zone else status_services.get_page().time_zone
    instants = {name: aware(name, value) for name, value in
                [("first_signal_at", first_signal_at), ("detected_at", detected_at),
                 ("acknowledged_at", acknowledged_at)]}
    with transaction.atomic():
        chosen = _incidents(incidents)
        shown_label = dict(Template.choices).get(label, label)
        title = required_text("title", title or f"{shown_label}: {chosen[0].name}", 300)
        postmortem = Postmortem(title=title, template=label, from_template=chosen_template, timeline_zone=zone,
                                author=person.user,
                                author_name=person.name, root_cause_unknown=bool(root_cause_unknown),
                                created_at=now, updated_at=now, **instants, **clean_sections)
        _check_instants(postmortem, chosen)
        postmortem.save()
        postmortem.incidents.set(chosen)
        if prefill:
            _add_entries(postmortem, prefilled_entries(incidents_of(postmortem)))
        postmortem.version = 1
        postmortem.save(update_fields=["version"])
        PostmortemVersion.objects.create(postmortem=postmortem, number=1, saved_by=person.name, saved_at=now,
                                         action="postmortem.create", content=document(postmortem))
        audit.record("postmortem.create", postmortem, after={
            **pm_snapshot(postmortem), "incidents": [i.public_id for i in chosen],
            "timeline_entries": postmortem.timeline.count(),
        })
    return postmortem


def update_postmortem(postmortem: Postmortem, *, user=None, now: datetime | None = None, **fields) -> Postmortem:
    """Change the title, template, zone, sections, the team's instants, or the incidents covered."""
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(postmortem)
        before, content_before = pm_snapshot(postmortem), document(postmortem)
        incidents = None
        for name, value in fields.items():
            if name in SECTION_FIELDS:
                setattr(postmortem, name, section_text(name, value))
            elif name == "title":
                postmortem.title = required_text("title", value, 300)
            elif name == "template":
                # Only a new label moves the postmortem to another template (or to none): saving the
                # editor with the label unchanged keeps its template, even one renamed since.
                chosen_template, label = template_choice(value)
                if label != postmortem.template:
                    postmortem.template, postmortem.from_template = label, chosen_template
            elif name == "timeline_zone":
                postmortem.timeline_zone = validate_time_zone(value, "timeline_zone")
            elif name == "root_cause_unknown":
                postmortem.root_cause_unknown = bool(value)
            elif name in ("first_signal_at", "detected_at", "acknowledged_at"):
                setattr(postmortem, name, aware(name, value))
            elif name == "incidents":
                incidents = _incidents(value, postmortem)
            else:
                raise InvalidInput(name, "is not a field of a postmortem")
        old_incidents = list(postmortem.incidents.all())
        if incidents is not None and postmortem.status == State.PUBLISHED and set(incidents) != set(old_incidents):
            raise InvalidInput("incidents", "unpublish the postmortem before changing the incidents it covers")
        _check_instants(postmortem, incidents if incidents is not None else incidents_of(postmortem))
        postmortem.save()
        if incidents is not None:
            postmortem.incidents.set(incidents)
        after = pm_snapshot(postmortem)
        if incidents is not None:
            before["incidents"] = [i.public_id for i in old_incidents]
            after["incidents"] = [i.public_id for i in incidents]
        save_change(postmortem, "postmortem.update", person, now, before=before, after=after,
                    content_before=content_before)
    return postmortem


# --- the timeline -------------------------------------------------------------------------------------


def _add_entries(postmortem: Postmortem, entries: Iterable[tuple[datetime, str, str, date | None]]) -> int:
    """Add (at, text, source, on) entries not already there (same instant, same text)."""
    existing = set(postmortem.readable_timeline().values_list("at", "text"))
    last = postmortem.timeline.aggregate(m=Max("position"))["m"] or 0
    added = 0
    for at, text, source, on in entries:
        if (at, text) in existing:
            continue
        last += 1
        TimelineEntry.objects.create(postmortem=postmortem, at=at, on=on, text=text, source=source, position=last)
        existing.add((at, text))
        added += 1
    return added


def prefill_timeline(postmortem: Postmortem, *, user=None, now: datetime | None = None) -> int:
    """Add the incidents' updates and state changes that the timeline does not have yet."""
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(postmortem)
        content_before = document(postmortem)
        added = _add_entries(postmortem, prefilled_entries(incidents_of(postmortem)))
        if added:
            save_change(postmortem, "postmortem.timeline_prefill", person, now, before=None,
                        after={"entries_added": added}, content_before=content_before)
    return added


def set_timeline(postmortem: Postmortem, entries: Iterable[Mapping], *, user=None,
                 now: datetime | None = None) -> list[TimelineEntry]:
    """Replace the whole timeline: [{at, text, source?}], in any order (it is shown by time). `at` may
    be a date alone, for an entry whose time is not known."""
    now = now or timezone.now()
    person = person_of(user)
    clean = []
    for n, entry in enumerate(entries):
        at, text, on = _entry_fields(f"entries[{n}]", entry.get("at"), entry.get("text"), postmortem.timeline_zone)
        source = choice(f"entries[{n}].source", entry.get("source") or TimelineEntry.Source.MANUAL,
                        TimelineEntry.Source)
        clean.append((at, text, source, on))
    with transaction.atomic():
        postmortem = locked(postmortem)
        content_before = document(postmortem)
        count_before = postmortem.timeline.count()
        postmortem.timeline.all().delete()
        for position, (at, text, source, on) in enumerate(clean, start=1):
            TimelineEntry.objects.create(postmortem=postmortem, at=at, on=on, text=text, source=source,
                                         position=position)
        save_change(postmortem, "postmortem.timeline_set", person, now, before={"entries": count_before},
                    after={"entries": len(clean)}, content_before=content_before)
    return list(postmortem.timeline.all())


def add_timeline_entry(postmortem: Postmortem, *, at: datetime | date, text: str, user=None,
                       now: datetime | None = None) -> TimelineEntry:
    now = now or timezone.now()
    person = person_of(user)
    at, text, on = _entry_fields("entry", at, text, postmortem.timeline_zone)
    with transaction.atomic():
        postmortem = locked(postmortem)
        content_before = document(postmortem)
        last = postmortem.timeline.aggregate(m=Max("position"))["m"] or 0
        entry = TimelineEntry.objects.create(postmortem=postmortem, at=at, on=on, text=text, position=last + 1)
        save_change(postmortem, "postmortem.timeline_add", person, now, before=None,
                    after={"at": on or at, "text": text}, content_before=content_before)
    return entry


def edit_timeline_entry(entry: TimelineEntry, *, at: datetime | date | None = None, text: str | None = None,
                        user=None, now: datetime | None = None) -> TimelineEntry:
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(entry.postmortem)
        entry = TimelineEntry.objects.get(pk=entry.pk)
        before = {"at": entry.on or entry.at, "text": entry.text}
        new_at, new_text, new_on = _entry_fields("entry", at if at is not None else (entry.on or entry.at),
                                                 text if text is not None else entry.text, postmortem.timeline_zone)
        content_before = document(postmortem)
        entry.at, entry.text, entry.on = new_at, new_text, new_on
        if entry.source != TimelineEntry.Source.MANUAL and (before["text"] != new_text or before["at"] != new_at):
            entry.source = TimelineEntry.Source.MANUAL  # it no longer says what the record says
        entry.save()
        save_change(postmortem, "postmortem.timeline_edit", person, now, before=before,
                    after={"at": new_on or new_at, "text": new_text}, content_before=content_before)
    return entry


def remove_timeline_entry(entry: TimelineEntry, *, user=None, now: datetime | None = None) -> None:
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(entry.postmortem)
        content_before = document(postmortem)
        before = {"at": entry.at, "text": entry.text}
        TimelineEntry.objects.filter(pk=entry.pk).delete()
        save_change(postmortem, "postmortem.timeline_remove", person, now, before=before, after=None,
                    content_before=content_before)


# --- impact figures -----------------------------------------------------------------------------------


def set_figures(postmortem: Postmortem, figures: Iterable[Mapping | tuple[str, str]], *, user=None,
                now: datetime | None = None) -> list[ImpactFigure]:
    """Replace the impact figures: [{label, value}] or [(label, value)], in the order given."""
    now = now or timezone.now()
    person = person_of(user)
    clean = []
    for n, figure in enumerate(figures):
        label, value = (figure.get("label"), figure.get("value")) if isinstance(figure, Mapping) else figure
        clean.append((required_text(f"figures[{n}].label", label, 200),
                      required_text(f"figures[{n}].value", value, 200)))
    if len(clean) > MAX_FIGURES:
        raise InvalidInput("figures", f"at most {MAX_FIGURES} figures")
    with transaction.atomic():
        postmortem = locked(postmortem)
        content_before = document(postmortem)
        postmortem.figures.all().delete()
        for position, (label, value) in enumerate(clean, start=1):
            ImpactFigure.objects.create(postmortem=postmortem, label=label, value=value, position=position)
        save_change(postmortem, "postmortem.figures", person, now, before={"figures": content_before["figures"]},
                    after={"figures": [{"label": label, "value": value} for label, value in clean]},
                    content_before=content_before)
    return list(postmortem.figures.all())


