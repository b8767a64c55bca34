"""A postmortem's way to its readers: review by someone other than the author, approval, publication,
withdrawal; its versions and the differences between them; its Markdown, and a page to print.

A refusal of the workflow (the author approving their own postmortem, publishing before approval) is
the service's own words, shown at the top of the editor's workflow panel with HTTP 400.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.postmortems import reading, services
from signalpost.postmortems.export import figure_lines, to_markdown
from signalpost.errors import InvalidInput, NotFound
from signalpost.status import services as status_services

from .postmortem_forms import PublishForm, ReviewForm
from .postmortems import editor, editor_url, find_postmortem


def _refused(request: HttpRequest, postmortem, refusal: InvalidInput) -> HttpResponse:
    message = refusal.message[:1].upper() + refusal.message[1:]
    return editor(request, postmortem, status=400, workflow_error=f"{message}.")


@role_required("responder")
@require_POST
def request_review(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    form = ReviewForm(request.POST, postmortem=postmortem)
    if form.is_valid():
        try:
            services.request_review(postmortem, form.cleaned_data["reviewer"], user=request.user)
        except InvalidInput as refusal:
            form.add_error("reviewer" if refusal.field == "reviewer" else None, refusal.message)
        else:
            messages.success(request, f"Review requested from {form.cleaned_data['reviewer'].get_username()}.")
            return redirect(editor_url(postmortem, "workflow"))
    return editor(request, postmortem, status=400, review_form=form)


@role_required("responder")
@require_POST
def approve(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    try:
        services.approve(postmortem, request.user)
    except InvalidInput as refusal:
        return _refused(request, postmortem, refusal)
    messages.success(request, "Approved. It can be published now.")
    return redirect(editor_url(postmortem, "workflow"))


@role_required("responder")
@require_POST
def publish(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    form = PublishForm(request.POST, zone_name=status_services.get_page().time_zone)
    if not form.is_valid():
        return editor(request, postmortem, status=400, publish_form=form)
    try:
        services.publish(postmortem, request.user, published_at=form.cleaned_data["published_at"])
    except InvalidInput as refusal:
        if refusal.field != "published_at":
            return _refused(request, postmortem, refusal)
        form.add_error("published_at", refusal.message)
        return editor(request, postmortem, status=400, publish_form=form)
    messages.success(request, "Published: it is on the public page, linked from the incidents it covers.")
    return redirect(editor_url(postmortem, "workflow"))


@role_required("responder")
@require_POST
def unpublish(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    try:
        services.unpublish(postmortem, request.user)
    except InvalidInput as refusal:
        return _refused(request, postmortem, refusal)
    messages.success(request, "Unpublished. It is a draft again; publishing it needs a new review.")
    return redirect(editor_url(postmortem, "workflow"))


# --- versions ---------------------------------------------------------------------------------------


@dataclass
class DiffLine:
    kind: str  # added, removed, context, hunk
    sign: str  # "+", "-", " " or "@@": printed, so a change does not rest on colour alone
    text: str


def diff_lines(diff: str) -> list[DiffLine]:
    lines = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue  # the file names: the part's title says it
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", "@@", line.strip("@ ")))
        elif line.startswith("+"):
            lines.append(DiffLine("added", "+", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("removed", "-", line[1:]))
        else:
            lines.append(DiffLine("context", " ", line.removeprefix(" ")))
    return lines


# What each kind of save changed, in words (the version keeps the service's action name).
SAVES = {
    "postmortem.create": "Started", "postmortem.update": "Document saved", "postmortem.figures": "Impact figures",
    "postmortem.timeline_add": "Timeline entry added", "postmortem.timeline_edit": "Timeline entry changed",
    "postmortem.timeline_remove": "Timeline entry removed", "postmortem.timeline_set": "Timeline replaced",
    "postmortem.timeline_prefill": "Timeline filled from the updates",
    "postmortem.action_item_add": "Action item added", "postmortem.action_item_update": "Action item changed",
    "postmortem.action_item_remove": "Action item removed",
}


def _number(value: str | None, default: int, latest: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return min(max(number, 1), latest)


@role_required("viewer")
@require_safe
def versions(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = find_postmortem(public_id)
    saved = list(postmortem.versions.order_by("-number").only("number", "saved_by", "saved_at", "action"))
    for version in saved:
        version.what = SAVES.get(version.action, version.action.replace("postmortem.", "").replace("_", " "))
    latest = postmortem.version or 1
    old = _number(request.GET.get("from"), max(1, latest - 1), latest)
    new = _number(request.GET.get("to"), latest, latest)
    parts = []
    if saved and old != new:
        try:
            changed = services.diff_versions(services.version_of(postmortem, old), services.version_of(postmortem, new))
        except NotFound:  # a version the database lost: show the list anyway
            changed = []
        parts = [(part.title, diff_lines(part.diff)) for part in changed]
    return render(request, "console/postmortem_versions.html", {
        "pm": postmortem, "saved": saved, "old": old, "new": new, "parts": parts,
        "numbers": [v.number for v in saved],
    })


# --- export -----------------------------------------------------------------------------------------


@role_required("viewer")
@require_safe
def markdown(request: HttpRequest, public_id: str) -> HttpResponse:
    """The document as Markdown, as the public .md serves a published one; drafts too (for a wiki)."""
    postmortem = find_postmortem(public_id)
    response = HttpResponse(to_markdown(postmortem), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="postmortem-{postmortem.public_id}.md"'
    return response


@role_required("viewer")
@require_safe
def print_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """The document as readers will see it, on a page without the console around it: to print a draft
    for a review meeting. A published one prints from its public page."""
    postmortem = find_postmortem(public_id)
    view = reading.build(postmortem)
    return render(request, "console/postmortem_print.html", {
        "doc": view, "pm": postmortem, "numbers": bool(figure_lines(view)),
    })
