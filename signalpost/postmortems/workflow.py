"""Review and publication: draft → in review → approved → published. Someone other than the author
approves; only an approved postmortem whose incidents have ended is published; unpublishing takes it
back to draft, to be reviewed again."""

from datetime import datetime
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.accounts.roles import has_role
from signalpost.errors import InvalidInput
from signalpost.status.validation import CLOCK_SKEW, aware

from .changes import record_postmortem
from .models import Postmortem, State
from .saving import locked, person_of

REVIEWER_ROLE = "responder"


def _workflow_snapshot(postmortem: Postmortem) -> dict:
    reviewer = postmortem.reviewer
    return {"status": postmortem.status, "reviewer": reviewer.get_username() if reviewer else None,
            "approved_by": postmortem.approved_by_name or None}


def request_review(postmortem: Postmortem, reviewer=None, *, user=None, now: datetime | None = None) -> Postmortem:
    """Ask for a review (of a given user, or of anyone on the team). Asking again restarts it."""
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(postmortem)
        if postmortem.status == State.PUBLISHED:
            raise InvalidInput("status", "the postmortem is published; unpublish it to review it again")
        if reviewer is not None:
            if postmortem.author_id is not None and reviewer.pk == postmortem.author_id:
                raise InvalidInput("reviewer", "the author cannot review their own postmortem")
            if not has_role(reviewer, REVIEWER_ROLE):
                raise InvalidInput("reviewer", f"{reviewer.get_username()} cannot review: reviewing needs the "
                                               "responder role or higher")
        before = {**_workflow_snapshot(postmortem)}
        postmortem.status = State.IN_REVIEW
        postmortem.reviewer = reviewer
        postmortem.review_requested_at = now
        postmortem.approved_by, postmortem.approved_by_name = None, ""
        postmortem.approved_at = postmortem.approved_version = None
        postmortem.updated_at = now
        postmortem.save()
        audit.record("postmortem.request_review", postmortem, before=before,
                     after={**_workflow_snapshot(postmortem), "requested_by": person.name})
    return postmortem


def approve(postmortem: Postmortem, user=None, *, now: datetime | None = None) -> Postmortem:
    """Approve the postmortem as it is now. Never its own author."""
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(postmortem)
        if postmortem.status == State.APPROVED:
            raise InvalidInput("status", f"already approved by {postmortem.approved_by_name}")
        if postmortem.status != State.IN_REVIEW:
            raise InvalidInput("status", "only a postmortem in review can be approved; request a review first"
                               if postmortem.status == State.DRAFT else "the postmortem is already published")
        # A postmortem written by a token that acted for no one is its author's by name (the token's).
        same_token = user is None and postmortem.author_id is None and postmortem.author_name == \
            audit.current_actor().name[:200]
        if person.same_as(postmortem.author_id, postmortem.author_name) or same_token:
            raise InvalidInput("approved_by", "an author cannot approve their own postmortem")
        if person.user is None:
            # Four eyes need a second person: a token made on the server, the CLI or the worker is no one.
            raise InvalidInput("approved_by", "approving needs a person: use the console, or a token created "
                                              "by a responder or higher in the console")
        if not has_role(person.user, REVIEWER_ROLE):
            raise InvalidInput("approved_by", "approving needs the responder role or higher")
        before = _workflow_snapshot(postmortem)
        postmortem.status = State.APPROVED
        postmortem.approved_by, postmortem.approved_by_name = person.user, person.name
        postmortem.approved_at = now
        postmortem.approved_version = postmortem.version
        postmortem.updated_at = now
        postmortem.save()
        audit.record("postmortem.approve", postmortem, before=before,
                     after={**_workflow_snapshot(postmortem), "version": postmortem.version})
    return postmortem


def publish(postmortem: Postmortem, user=None, *, published_at: datetime | None = None,
            now: datetime | None = None) -> Postmortem:
    """Make an approved postmortem public, next to the incidents it covers. `published_at` says when,
    for one entered after the fact (it was published elsewhere first): not in the future, not before
    its incidents ended nor before it was last withdrawn."""
    now = now or timezone.now()
    person = person_of(user)
    published_at = aware("published_at", published_at)
    if published_at is not None and published_at > now + CLOCK_SKEW:
        raise InvalidInput("published_at", "is in the future; give when it was published, or leave it out for now")
    published_at = min(published_at, now) if published_at is not None else None
    with transaction.atomic():
        postmortem = locked(postmortem)
        if postmortem.status == State.PUBLISHED:
            raise InvalidInput("status", "the postmortem is already published")
        if postmortem.status != State.APPROVED:
            raise InvalidInput("status", "only an approved postmortem can be published; someone other than its "
                                         "author approves it first")
        incidents = list(postmortem.incidents.all())
        still_open = [i for i in incidents if i.resolved_at is None]
        if still_open:
            raise InvalidInput("incidents", f'"{still_open[0].name}" is still open; publish the postmortem '
                                            "after it ends")
        if published_at is not None:
            ended = max((i.resolved_at for i in incidents), default=None)
            if ended is not None and published_at < ended:
                raise InvalidInput("published_at", f'is before "{max(incidents, key=lambda i: i.resolved_at).name}" '
                                                   "ended; a postmortem is published after its incidents")
            if postmortem.withdrawn_at is not None and published_at < postmortem.withdrawn_at:
                raise InvalidInput("published_at", "is before the postmortem was last withdrawn")
        at = published_at or now
        before = _workflow_snapshot(postmortem)
        postmortem.status = State.PUBLISHED
        postmortem.published_at = at
        postmortem.first_published_at = min(postmortem.first_published_at or at, at)
        postmortem.withdrawn_at = None
        postmortem.revised_at = None
        postmortem.updated_at = now
        postmortem.save()
        audit.record("postmortem.publish", postmortem, before=before,
                     after={**_workflow_snapshot(postmortem), "version": postmortem.version, "by": person.name,
                            "published_at": at.astimezone(dt_timezone.utc).isoformat()})
        record_postmortem("postmortem.published", postmortem)
    return postmortem


def unpublish(postmortem: Postmortem, user=None, *, now: datetime | None = None) -> Postmortem:
    """Take a published postmortem off the public pages. It goes back to draft: publishing it again
    needs a new review. Its address then says it was withdrawn, instead of showing the old text."""
    now = now or timezone.now()
    person = person_of(user)
    with transaction.atomic():
        postmortem = locked(postmortem)
        if postmortem.status != State.PUBLISHED:
            raise InvalidInput("status", "the postmortem is not published")
        before = _workflow_snapshot(postmortem)
        postmortem.status = State.DRAFT
        postmortem.approved_by, postmortem.approved_by_name = None, ""
        postmortem.approved_at = postmortem.approved_version = None
        postmortem.withdrawn_at = now
        postmortem.updated_at = now
        postmortem.save()
        audit.record("postmortem.unpublish", postmortem, before=before,
                     after={**_workflow_snapshot(postmortem), "by": person.name})
        record_postmortem("postmortem.unpublished", postmortem)
    return postmortem
