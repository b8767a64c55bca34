"""/api/v1/postmortems: write, review and publish postmortems from scripts, like the console does.

Each handler parses its input, calls one service of signalpost.postmortems.services and renders the
postmortem; refusals are the API's usual {"detail", "errors": [{"field", "message"}]} (see views.py).
Reading needs a read token; writing, reviewing and publishing a write token; the list of action item
kinds and the postmortem templates are the team's configuration (admin, as in the console); a new
postmortem names its template by name or id.
"""

from datetime import date, datetime
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from signalpost.postmortems import services
from signalpost.postmortems.export import to_markdown
from signalpost.postmortems.figures import compute
from signalpost.postmortems.models import (
    SECTION_FIELDS,
    ActionItem,
    ActionItemKind,
    Postmortem,
    PostmortemTemplate,
    State,
    TimelineEntry,
)
from signalpost.status import services as status_services
from signalpost.errors import InvalidInput, NotFound

from . import auth
from .idempotency import idempotent
from .schemas import ERRORS, Checked, DateOrMoment, Day, Input, Instant, Paged, PageParams, Position, Required

router = Router(tags=["postmortems"])

ItemStateName = Literal[tuple(ActionItem.State.values)]  # type: ignore[valid-type]
SourceName = Literal[tuple(TimelineEntry.Source.values)]  # type: ignore[valid-type]
StateName = Literal[tuple(State.values)]  # type: ignore[valid-type]


# --- schemas --------------------------------------------------------------------------------------


class Sections(Schema):
    summary: str = ""
    impact: str = ""
    timeline_intro: str = ""
    recovery: str = ""
    root_cause: str = ""
    contributing_factors: str = ""
    went_well: str = ""
    went_badly: str = ""
    actions_intro: str = ""
    closing: str = ""


class PostmortemIn(Input, Sections):
    incidents: list[str] = Field(..., description="Public ids of the incidents or the maintenance it covers")
    title: str = ""
    template: str = Field("postmortem", description='A template\'s name or id (GET /postmortems/templates), '
                                                    '"learning_review", "postmortem", or a name of your own')
    starter_text: bool = Field(False, description="Start each of the template's sections left out with the "
                                                  "template's questions")
    timeline_zone: str | None = Field(None, description="IANA zone the document states times in (default: the page's)")
    prefill_timeline: bool = Field(True, description="Start the timeline from the incidents' updates")
    root_cause_unknown: bool = False
    first_signal_at: Instant | None = Field(None, description="When the problem first showed")
    detected_at: Instant | None = Field(None, description="Default: when the first incident began")
    acknowledged_at: Instant | None = Field(None, description="Default: the first update after that")


class PostmortemPatch(Input):
    incidents: list[str] = None
    title: str = None
    template: str = None
    timeline_zone: str = None
    root_cause_unknown: bool = None
    # These three may be cleared with an explicit null (then derived from the incidents again).
    first_signal_at: Instant | None = None
    detected_at: Instant | None = None
    acknowledged_at: Instant | None = None
    summary: str = None
    impact: str = None
    timeline_intro: str = None
    recovery: str = None
    root_cause: str = None
    contributing_factors: str = None
    went_well: str = None
    went_badly: str = None
    actions_intro: str = None
    closing: str = None


class EntryIn(Input):
    at: DateOrMoment = Field(description="a date alone (2015-07-22) when the time is not known")
    text: Required
    source: SourceName = "manual"


class EntryAdd(Input):
    at: DateOrMoment = Field(description="a date alone (2015-07-22) when the time is not known")
    text: Required


class EntryPatch(Input):
    at: DateOrMoment = None
    text: str = None


class TimelineIn(Input):
    entries: list[EntryIn]


class FigureIn(Input):
    label: str
    value: str


class FiguresIn(Input):
    figures: list[FigureIn]


class ActionItemIn(Input):
    title: Required
    kind: str = Field(..., description='A kind\'s name or id, e.g. "Preventive (process)"')
    owner: str = ""
    due_date: Day | None = None
    state: ItemStateName = "open"
    link: str = ""
    description: str = ""


class ActionItemPatch(Input):
    title: str = None
    kind: str = None
    owner: str = None
    due_date: Day | None = None
    state: ItemStateName = None
    link: str = None
    description: str = None
    position: Position = None


class ReviewIn(Input):
    reviewer: str | None = Field(None, description="Username of the reviewer; none: anyone on the team")


class PublishIn(Input):
    published_at: Instant | None = Field(None, description="When it was published, for a postmortem entered "
                                                                 "after the fact (default: now; not in the future, "
                                                                 "not before its incidents ended)")


class KindIn(Input):
    name: Required
    position: Position | None = None


class KindPatch(Input):
    name: str = None
    position: Position = None


class TemplateIn(Input):
    name: str
    description: str = ""
    sections: list[str] | None = Field(None, description="The sections it offers (default: every section)")
    starter: dict[str, str] = Field({}, description="Section -> the Markdown a new postmortem starts with")
    position: int | None = Field(None, description="Its place in the list (default: at the end)")


class TemplatePatch(Input):
    name: str = None
    description: str = None
    sections: list[str] = None
    starter: dict[str, str] = None
    position: int = None


class TemplateOut(Schema):
    id: str
    key: str | None = Field(None, description='A built-in template\'s fixed name ("learning_review", "postmortem")')
    name: str
    description: str
    built_in: bool
    position: int
    sections: list[str] = Field(..., description="The sections a postmortem written from it offers, in order")
    starter: dict[str, str] = Field(..., description="Section -> the Markdown a new postmortem starts with")
    postmortems: int = Field(..., description="How many postmortems were written from it")


class KindOut(Schema):
    id: str
    name: str
    position: int


class IncidentRef(Schema):
    id: str
    kind: str
    name: str
    url: str


class EntryOut(Schema):
    id: str
    at: datetime | date = Field(description="a date alone when the time is not known")
    text: str
    source: str


class FigureOut(Schema):
    label: str
    value: str


class ActionItemOut(Schema):
    id: str
    title: str
    kind: str
    owner: str
    due_date: Day | None
    state: str
    link: str
    description: str
    position: int


class ComputedOut(Schema):
    started_at: datetime | None
    ended_at: datetime | None
    first_signal_at: datetime | None
    detected_at: datetime | None
    acknowledged_at: datetime | None
    total_duration_seconds: int | None
    time_to_detect_seconds: int | None
    time_to_acknowledge_seconds: int | None
    time_to_resolve_seconds: int | None
    components: list[str]
    groups: list[str]


class PostmortemSummaryOut(Schema):
    id: str
    title: str
    template: str
    template_id: str | None = Field(None, description="The template whose sections it offers (none: every section)")
    label: str
    status: str
    incidents: list[IncidentRef]
    url: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PostmortemOut(PostmortemSummaryOut, Sections):
    markdown_url: str
    root_cause_unknown: bool
    timeline_zone: str
    first_signal_at: datetime | None
    detected_at: datetime | None
    acknowledged_at: datetime | None
    version: int
    author: str
    reviewer: str | None
    review_requested_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    approved_version: int | None
    first_published_at: datetime | None
    revised_at: datetime | None
    withdrawn_at: datetime | None
    figures: list[FigureOut]
    timeline: list[EntryOut]
    action_items: list[ActionItemOut]
    computed: ComputedOut


class MarkdownOut(Schema):
    markdown: str


class VersionOut(Schema):
    number: int
    saved_by: str
    saved_at: datetime
    action: str


class VersionContentOut(VersionOut):
    content: dict


class PartDiffOut(Schema):
    part: str
    title: str
    diff: str


class DiffParams(Checked):
    from_version: int = Field(..., alias="from", ge=1, le=2**31 - 1)
    to_version: int = Field(..., alias="to", ge=1, le=2**31 - 1)


class PostmortemFilters(PageParams):
    status: StateName | None = None
    incident: str | None = Field(None, description="Only the postmortem covering this incident (public id)")


# --- rendering ------------------------------------------------------------------------------------


def _seconds(span) -> int | None:
    return None if span is None else int(span.total_seconds())


def _incident_refs(incidents) -> list[dict]:
    return [{"id": i.public_id, "kind": i.kind, "name": i.name, "url": settings.SITE_URL + i.public_path}
            for i in incidents]


def _summary(pm: Postmortem, incidents) -> dict:
    return {
        "id": pm.public_id, "title": pm.title, "template": pm.template,
        "template_id": pm.from_template.public_id if pm.from_template_id else None, "label": pm.document_label,
        "status": pm.status, "incidents": _incident_refs(incidents), "url": settings.SITE_URL + pm.public_path,
        "published_at": pm.published_at, "created_at": pm.created_at, "updated_at": pm.updated_at,
    }


def _template_out(template: PostmortemTemplate, used: int) -> dict:
    return {"id": template.public_id, "key": template.key or None, "name": template.name,
            "description": template.description, "built_in": template.built_in, "position": template.position,
            "sections": list(template.sections), "starter": dict(template.starter or {}), "postmortems": used}


def _kind_out(kind: ActionItemKind) -> dict:
    return {"id": kind.public_id, "name": kind.name, "position": kind.position}


def postmortem_out(pm: Postmortem) -> dict:
    pm = Postmortem.objects.select_related("reviewer", "from_template").get(pk=pm.pk)
    incidents = services.incidents_of(pm)
    figures = compute(pm, incidents)
    items = [item for _, group in services.action_items_by_kind(pm) for item in group]
    return {
        **_summary(pm, incidents),
        **{name: getattr(pm, name) for name in SECTION_FIELDS},
        "markdown_url": settings.SITE_URL + pm.markdown_path,
        "root_cause_unknown": pm.root_cause_unknown, "timeline_zone": pm.timeline_zone,
        "first_signal_at": pm.first_signal_at, "detected_at": pm.detected_at, "acknowledged_at": pm.acknowledged_at,
        "version": pm.version, "author": pm.author_name,
        "reviewer": pm.reviewer.get_username() if pm.reviewer else None,
        "review_requested_at": pm.review_requested_at, "approved_by": pm.approved_by_name or None,
        "approved_at": pm.approved_at, "approved_version": pm.approved_version,
        "first_published_at": pm.first_published_at, "revised_at": pm.revised_at, "withdrawn_at": pm.withdrawn_at,
        "figures": [{"label": f.label, "value": f.value} for f in pm.figures.all()],
        "timeline": [{"id": e.public_id, "at": e.on or e.at, "text": e.text, "source": e.source}
                     for e in pm.readable_timeline()],
        "action_items": [
            {"id": i.public_id, "title": i.title, "kind": i.kind.name, "owner": i.owner, "due_date": i.due_date,
             "state": i.state, "link": i.link, "description": i.description, "position": i.position}
            for i in items
        ],
        "computed": {
            "started_at": figures.started_at, "ended_at": figures.ended_at,
            "first_signal_at": figures.first_signal_at, "detected_at": figures.detected_at,
            "acknowledged_at": figures.acknowledged_at,
            "total_duration_seconds": _seconds(figures.total_duration),
            "time_to_detect_seconds": _seconds(figures.time_to_detect),
            "time_to_acknowledge_seconds": _seconds(figures.time_to_acknowledge),
            "time_to_resolve_seconds": _seconds(figures.time_to_resolve),
            "components": figures.components, "groups": figures.groups,
        },
    }


def _incidents(refs: list[str]) -> list:
    found = []
    for ref in refs:
        try:
            found.append(status_services.find_incident(ref))
        except NotFound:
            raise InvalidInput("incidents", f'no incident or maintenance with id "{ref}"') from None
    return found


def _user(username: str, field: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise InvalidInput(field, f'no active user named "{username}"')
    return user


# --- templates and action item kinds (before /{postmortem_id}, which would match their path) -------


@router.get("/templates", response={200: list[TemplateOut], **ERRORS},
            summary="List the postmortem templates a new postmortem can start from")
def list_templates(request: HttpRequest):
    used = services.templates_in_use()
    return [_template_out(t, used.get(t.pk, 0)) for t in services.postmortem_templates()]


def _template(template_id: str) -> PostmortemTemplate:
    template = PostmortemTemplate.objects.filter(public_id=template_id).first()
    if template is None:
        raise NotFound(f'no postmortem template with id "{template_id}"')
    return template


def _one_template_out(template: PostmortemTemplate) -> dict:
    return _template_out(template, services.templates_in_use().get(template.pk, 0))


@router.post("/templates", auth=auth.admin, response={201: TemplateOut, **ERRORS},
             summary="Add a postmortem template")
@idempotent
def create_template(request: HttpRequest, payload: TemplateIn):
    return Status(201, _one_template_out(services.create_template(**payload.model_dump())))


@router.get("/templates/{template_id}", response={200: TemplateOut, **ERRORS}, summary="Show a postmortem template")
def get_template(request: HttpRequest, template_id: str):
    return _one_template_out(_template(template_id))


@router.patch("/templates/{template_id}", auth=auth.admin, response={200: TemplateOut, **ERRORS},
              summary="Change a template's name, description, sections, starter text or position "
                      "(postmortems written from it keep their text)")
def patch_template(request: HttpRequest, template_id: str, payload: TemplatePatch):
    return _one_template_out(services.update_template(_template(template_id),
                                                      **payload.model_dump(exclude_unset=True)))


@router.delete("/templates/{template_id}", auth=auth.admin, response={200: list[TemplateOut], **ERRORS},
               summary="Delete a team's template (not a built-in one); the templates left")
def delete_template(request: HttpRequest, template_id: str):
    services.delete_template(_template(template_id))
    return list_templates(request)


@router.get("/action-item-kinds", response={200: list[KindOut], **ERRORS},
            summary="List the kinds action items are grouped by")
def list_kinds(request: HttpRequest):
    return [_kind_out(k) for k in services.action_item_kinds()]


def _kind(kind_id: str) -> ActionItemKind:
    kind = ActionItemKind.objects.filter(public_id=kind_id).first()
    if kind is None:
        raise NotFound(f'no action item kind with id "{kind_id}"')
    return kind


@router.post("/action-item-kinds", auth=auth.admin, response={201: KindOut, **ERRORS},
             summary="Add a kind of action item")
@idempotent
def create_kind(request: HttpRequest, payload: KindIn):
    return Status(201, _kind_out(services.create_kind(**payload.model_dump())))


@router.patch("/action-item-kinds/{kind_id}", auth=auth.admin, response={200: KindOut, **ERRORS},
              summary="Rename or move a kind of action item")
def patch_kind(request: HttpRequest, kind_id: str, payload: KindPatch):
    return _kind_out(services.update_kind(_kind(kind_id), **payload.model_dump(exclude_unset=True)))


@router.delete("/action-item-kinds/{kind_id}", auth=auth.admin, response={200: list[KindOut], **ERRORS},
               summary="Delete a kind of action item no item uses; the kinds left")
def delete_kind(request: HttpRequest, kind_id: str):
    services.delete_kind(_kind(kind_id))
    return [_kind_out(k) for k in services.action_item_kinds()]


# --- postmortems ----------------------------------------------------------------------------------


@router.get("", response={200: Paged[PostmortemSummaryOut], **ERRORS}, summary="List postmortems, newest first")
def list_postmortems(request: HttpRequest, filters: Query[PostmortemFilters]):
    postmortems = (Postmortem.objects.select_related("from_template").prefetch_related("incidents")
                   .order_by("-created_at", "-id"))
    if filters.status is not None:
        postmortems = postmortems.filter(status=filters.status)
    if filters.incident is not None:
        postmortems = postmortems.filter(incidents__public_id=filters.incident)
    start = (filters.page - 1) * filters.per_page
    page = list(postmortems[start:start + filters.per_page])
    return {"items": [_summary(pm, pm.incidents.all()) for pm in page], "count": postmortems.count(),
            "page": filters.page, "per_page": filters.per_page}


@router.post("", auth=auth.write, response={201: PostmortemOut, **ERRORS},
             summary="Start a postmortem of incidents or a maintenance (a draft)")
@idempotent
def create_postmortem(request: HttpRequest, payload: PostmortemIn):
    fields = payload.model_dump()
    incidents = _incidents(fields.pop("incidents"))
    prefill = fields.pop("prefill_timeline")
    for name in SECTION_FIELDS:  # a section left out may take the template's starter text
        if name not in payload.model_fields_set:
            fields.pop(name)
    pm = services.create_postmortem(incidents=incidents, prefill=prefill, **fields)
    return Status(201, postmortem_out(pm))


@router.get("/{postmortem_id}", response={200: PostmortemOut, **ERRORS},
            summary="Show a postmortem: sections, figures, timeline, action items, workflow")
def get_postmortem(request: HttpRequest, postmortem_id: str):
    return postmortem_out(services.get_postmortem(postmortem_id))


@router.patch("/{postmortem_id}", auth=auth.write, response={200: PostmortemOut, **ERRORS},
              summary="Change a postmortem's title, sections, zone, instants or incidents")
def patch_postmortem(request: HttpRequest, postmortem_id: str, payload: PostmortemPatch):
    fields = payload.model_dump(exclude_unset=True)
    if "incidents" in fields:
        fields["incidents"] = _incidents(fields["incidents"])
    return postmortem_out(services.update_postmortem(services.get_postmortem(postmortem_id), **fields))


@router.get("/{postmortem_id}/markdown", response={200: MarkdownOut, **ERRORS},
            summary="The postmortem as Markdown, whatever its state (the public .md is for published ones)")
def get_markdown(request: HttpRequest, postmortem_id: str):
    return {"markdown": to_markdown(services.get_postmortem(postmortem_id))}


# --- timeline -------------------------------------------------------------------------------------


@router.put("/{postmortem_id}/timeline", auth=auth.write, response={200: PostmortemOut, **ERRORS},
            summary="Replace the whole timeline")
def put_timeline(request: HttpRequest, postmortem_id: str, payload: TimelineIn):
    pm = services.get_postmortem(postmortem_id)
    services.set_timeline(pm, [entry.model_dump() for entry in payload.entries])
    return postmortem_out(pm)


@router.post("/{postmortem_id}/timeline", auth=auth.write, response={201: PostmortemOut, **ERRORS},
             summary="Add a timeline entry")
@idempotent
def add_entry(request: HttpRequest, postmortem_id: str, payload: EntryAdd):
    pm = services.get_postmortem(postmortem_id)
    services.add_timeline_entry(pm, at=payload.at, text=payload.text)
    return Status(201, postmortem_out(pm))


@router.post("/{postmortem_id}/timeline/prefill", auth=auth.write, response={200: PostmortemOut, **ERRORS},
             summary="Add the incidents' updates and state changes the timeline lacks")
@idempotent
def prefill(request: HttpRequest, postmortem_id: str):
    pm = services.get_postmortem(postmortem_id)
    services.prefill_timeline(pm)
    return postmortem_out(pm)


@router.patch("/{postmortem_id}/timeline/{entry_id}", auth=auth.write, response={200: PostmortemOut, **ERRORS},
              summary="Change a timeline entry's time or text")
def patch_entry(request: HttpRequest, postmortem_id: str, entry_id: str, payload: EntryPatch):
    pm = services.get_postmortem(postmortem_id)
    services.edit_timeline_entry(services.find_entry(pm, entry_id), **payload.model_dump(exclude_unset=True))
    return postmortem_out(pm)


@router.delete("/{postmortem_id}/timeline/{entry_id}", auth=auth.write, response={200: PostmortemOut, **ERRORS},
               summary="Remove a timeline entry")
def delete_entry(request: HttpRequest, postmortem_id: str, entry_id: str):
    pm = services.get_postmortem(postmortem_id)
    services.remove_timeline_entry(services.find_entry(pm, entry_id))
    return postmortem_out(pm)


# --- impact figures and action items ------------------------------------------------------------------


@router.put("/{postmortem_id}/figures", auth=auth.write, response={200: PostmortemOut, **ERRORS},
            summary="Replace the impact figures")
def put_figures(request: HttpRequest, postmortem_id: str, payload: FiguresIn):
    pm = services.get_postmortem(postmortem_id)
    services.set_figures(pm, [f.model_dump() for f in payload.figures])
    return postmortem_out(pm)


@router.post("/{postmortem_id}/action-items", auth=auth.write, response={201: PostmortemOut, **ERRORS},
             summary="Add an action item")
@idempotent
def add_item(request: HttpRequest, postmortem_id: str, payload: ActionItemIn):
    pm = services.get_postmortem(postmortem_id)
    services.add_action_item(pm, **payload.model_dump())
    return Status(201, postmortem_out(pm))


@router.patch("/{postmortem_id}/action-items/{item_id}", auth=auth.write, response={200: PostmortemOut, **ERRORS},
              summary="Change an action item: its state, owner, due date, link, or its wording")
def patch_item(request: HttpRequest, postmortem_id: str, item_id: str, payload: ActionItemPatch):
    pm = services.get_postmortem(postmortem_id)
    fields = payload.model_dump(exclude_unset=True)
    services.update_action_item(services.find_item(pm, item_id), **fields)
    return postmortem_out(pm)


@router.delete("/{postmortem_id}/action-items/{item_id}", auth=auth.write, response={200: PostmortemOut, **ERRORS},
               summary="Remove an action item")
def delete_item(request: HttpRequest, postmortem_id: str, item_id: str):
    pm = services.get_postmortem(postmortem_id)
    services.remove_action_item(services.find_item(pm, item_id))
    return postmortem_out(pm)


# --- review and publication -------------------------------------------------------------------------


@router.post("/{postmortem_id}/request-review", auth=auth.write, response={200: PostmortemOut, **ERRORS},
             summary="Ask for a review (of a given user, or of anyone)")
@idempotent
def request_review(request: HttpRequest, postmortem_id: str, payload: ReviewIn):
    reviewer = _user(payload.reviewer, "reviewer") if payload.reviewer else None
    return postmortem_out(services.request_review(services.get_postmortem(postmortem_id), reviewer))


@router.post("/{postmortem_id}/approve", auth=auth.write, response={200: PostmortemOut, **ERRORS},
             summary="Approve a postmortem in review (not with the token that wrote it)")
@idempotent
def approve(request: HttpRequest, postmortem_id: str):
    return postmortem_out(services.approve(services.get_postmortem(postmortem_id)))


@router.post("/{postmortem_id}/publish", auth=auth.write, response={200: PostmortemOut, **ERRORS},
             summary="Publish an approved postmortem next to its incidents")
@idempotent
def publish(request: HttpRequest, postmortem_id: str, payload: PublishIn = None):
    published_at = payload.published_at if payload is not None else None
    return postmortem_out(services.publish(services.get_postmortem(postmortem_id), published_at=published_at))


@router.post("/{postmortem_id}/unpublish", auth=auth.write, response={200: PostmortemOut, **ERRORS},
             summary="Take a published postmortem off the public pages (back to draft)")
@idempotent
def unpublish(request: HttpRequest, postmortem_id: str):
    return postmortem_out(services.unpublish(services.get_postmortem(postmortem_id)))


# --- versions -----------------------------------------------------------------------------------------


@router.get("/{postmortem_id}/versions", response={200: list[VersionOut], **ERRORS},
            summary="List the saved versions, oldest first")
def list_versions(request: HttpRequest, postmortem_id: str):
    pm = services.get_postmortem(postmortem_id)
    return [{"number": v.number, "saved_by": v.saved_by, "saved_at": v.saved_at, "action": v.action}
            for v in pm.versions.defer("content")]


@router.get("/{postmortem_id}/versions/{number}", response={200: VersionContentOut, **ERRORS},
            summary="Show one saved version in full")
def get_version(request: HttpRequest, postmortem_id: str, number: int = Path(..., ge=1, le=2**31 - 1)):
    v = services.version_of(services.get_postmortem(postmortem_id), number)
    return {"number": v.number, "saved_by": v.saved_by, "saved_at": v.saved_at, "action": v.action,
            "content": v.content}


@router.get("/{postmortem_id}/diff", response={200: list[PartDiffOut], **ERRORS},
            summary="What changed between two versions (?from=1&to=3), as a unified diff per part")
def diff(request: HttpRequest, postmortem_id: str, params: Query[DiffParams]):
    pm = services.get_postmortem(postmortem_id)
    changes = services.diff_versions(services.version_of(pm, params.from_version),
                                     services.version_of(pm, params.to_version))
    return [{"part": c.part, "title": c.title, "diff": c.diff} for c in changes]
