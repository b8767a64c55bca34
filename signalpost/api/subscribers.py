"""/api/v1/subscribers and /api/v1/deliveries: the admin's side of notifications from scripts, as in the
console. Listing, adding (confirmed at once when `confirmed` is true, else asked to confirm), removing;
CSV import (a text/csv body, all or nothing; `dry_run` says what it would do) and export; the
deliveries that ran out of attempts, and retrying them. Every operation needs an admin token: the
subscribers' addresses are personal data.

Each handler parses its input, calls one verb of signalpost.notify.admin and renders the result;
refusals are the API's usual {"detail", "errors": [{"field", "message"}]} (see views.py).
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from signalpost.errors import InvalidInput, NotFound
from signalpost.notify import admin
from signalpost.notify.models import Channel, Delivery, DeliveryState, Source, Subscriber

from . import auth
from .idempotency import idempotent
from .schemas import ERRORS, Checked, ErrorOut, Input, Paged, PageParams, Required

subscribers = Router(tags=["subscribers"], auth=auth.admin)
deliveries = Router(tags=["deliveries"], auth=auth.admin)

ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
StateName = Literal[admin.State.ALL]  # type: ignore[valid-type]
SourceName = Literal[tuple(Source.values)]  # type: ignore[valid-type]
DeliveryStateName = Literal[tuple(DeliveryState.values)]  # type: ignore[valid-type]
CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}


# --- schemas --------------------------------------------------------------------------------------


class ComponentRef(Schema):
    id: str
    name: str


class SubscriberOut(Schema):
    id: str
    channel: ChannelName
    address: str
    state: StateName = Field(description="pending: waiting for its confirmation; confirmed; paused: a webhook that "
                                          "kept failing, until an admin resumes it")
    all_components: bool
    components: list[ComponentRef] = Field(description="what it hears about when all_components is false")
    source: SourceName
    owner_email: str
    secret: str = Field(description="a webhook's signing secret (Standard Webhooks); empty for other channels")
    created_at: datetime
    confirmed_at: datetime | None
    paused_at: datetime | None
    paused_reason: str


class SubscriberIn(Input):
    channel: ChannelName
    address: Required = Field(description="the e-mail address, or the webhook's or chat tool's URL")
    components: list[str] = Field([], description='component ids, names or "Group/Name"; empty: every component')
    confirmed: bool = Field(False, description="true: the person agreed elsewhere, no confirmation is asked")
    owner_email: str = Field("", description="webhooks: who is told when it is paused")
    secret: str = Field("", description="webhooks: the signing secret (generated when empty)")


class SubscriberFilters(PageParams):
    q: str | None = Field(None, description="the address contains this (any case)")
    channel: ChannelName | None = None
    state: StateName | None = None


class ImportParams(Checked):
    confirmed: bool = Field(False, description="mark every imported address confirmed (no confirmation is asked)")
    dry_run: bool = Field(False, description="say what the import would do, and write nothing")


class ImportProblemOut(Schema):
    line: int
    column: str
    message: str


class ImportOut(Schema):
    added: int = Field(description="new subscribers (with dry_run: that would be added)")
    already_subscribed: int = Field(description="lines whose address is subscribed already: left as they are")
    dry_run: bool


class AttemptOut(Schema):
    at: datetime
    ok: bool
    status: int | None = Field(description="the HTTP status or SMTP reply code, when there was one")
    error: str
    elapsed_ms: int


class DeliveryOut(Schema):
    id: str = Field(description="stable: sent along as the e-mail's Message-ID and the webhook-id")
    event_kind: str
    subject: str = Field(description='what it is about, e.g. "incident:kctbh9vrtdwd"')
    about: str
    subscriber: str | None = Field(description="the subscriber's id; null once it has left")
    channel: ChannelName
    address: str
    state: DeliveryStateName
    attempts: list[AttemptOut]
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    last_error: str


class DeliveryFilters(PageParams):
    state: DeliveryStateName | None = Field(None, description="failed: the dead-letter list")
    subject: str | None = Field(None, description='only the deliveries about this, e.g. "incident:kctbh9vrtdwd"')


# --- rendering ------------------------------------------------------------------------------------------


def subscriber_out(subscriber: Subscriber) -> dict:
    return {
        "id": subscriber.public_id, "channel": subscriber.channel, "address": subscriber.address,
        "state": admin.state_of(subscriber), "all_components": subscriber.all_components,
        "components": [{"id": c.public_id, "name": c.name}
                       for c in sorted(subscriber.components.all(), key=lambda c: (c.name, c.pk))],
        "source": subscriber.source, "owner_email": subscriber.owner_email, "secret": subscriber.secret,
        "created_at": subscriber.created_at, "confirmed_at": subscriber.confirmed_at,
        "paused_at": subscriber.paused_at, "paused_reason": subscriber.paused_reason,
    }


def delivery_out(delivery: Delivery) -> dict:
    return {
        "id": delivery.key, "event_kind": delivery.event_kind, "subject": delivery.subject, "about": delivery.about,
        "subscriber": delivery.subscriber.public_id if delivery.subscriber else None, "channel": delivery.channel,
        "address": delivery.address, "state": delivery.state,
        "attempts": [{"at": a.at, "ok": a.ok, "status": a.status, "error": a.error, "elapsed_ms": a.elapsed_ms}
                     for a in sorted(delivery.attempt_set.all(), key=lambda a: (a.at, a.pk))],
        "created_at": delivery.created_at, "due_at": delivery.due_at, "sent_at": delivery.sent_at,
        "last_error": delivery.last_error,
    }


def _paged(queryset, params: PageParams, render) -> dict:
    start = (params.page - 1) * params.per_page
    items = list(queryset[start:start + params.per_page])
    return {"items": [render(i) for i in items], "count": queryset.count(), "page": params.page,
            "per_page": params.per_page}


def _subscriber(subscriber_id: str) -> Subscriber:
    subscriber = admin.find_subscriber(subscriber_id)
    if subscriber is None:
        raise NotFound(f'no subscriber with id "{subscriber_id}"')
    return subscriber


def _delivery(delivery_id: str) -> Delivery:
    delivery = (Delivery.objects.select_related("subscriber").prefetch_related("attempt_set")
                .filter(key=delivery_id).first())
    if delivery is None:
        raise NotFound(f'no delivery with id "{delivery_id}"')
    return delivery


# --- subscribers ------------------------------------------------------------------------------------


@subscribers.get("", response={200: Paged[SubscriberOut], **ERRORS}, summary="List subscribers, newest first")
def list_subscribers(request: HttpRequest, filters: Query[SubscriberFilters]):
    found = admin.search(query=filters.q or "", channel=filters.channel or "", state=filters.state or "")
    return _paged(found, filters, subscriber_out)


@subscribers.post("", response={201: SubscriberOut, **ERRORS},
                  summary="Add a subscriber (confirmed at once with confirmed=true, else asked to confirm)")
@idempotent
def create_subscriber(request: HttpRequest, payload: SubscriberIn):
    subscriber = admin.add_subscriber(**payload.model_dump())
    return Status(201, subscriber_out(_subscriber(subscriber.public_id)))


@subscribers.get("/export", response={200: None, **ERRORS}, summary="Export every subscriber as CSV",
                 openapi_extra={"responses": {200: {"description": "channel, address, components, confirmed, "
                                                                   "created", "content": CSV_CONTENT}}})
def export_subscribers(request: HttpRequest):
    response = StreamingHttpResponse(admin.export_lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="signalpost-subscribers-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@subscribers.post("/import", response={200: ImportOut, **ERRORS},
                  summary="Import subscribers from CSV (all or nothing; a bad line is a 422 naming line and column)",
                  openapi_extra={"requestBody": {"required": True, "content": CSV_CONTENT}})
@idempotent
def import_subscribers(request: HttpRequest, params: Query[ImportParams]):
    if (request.content_type or "").lower() != "text/csv":
        given = request.META.get("CONTENT_TYPE") or "none"
        return Status(415, ErrorOut(detail=f"The request body must be CSV (Content-Type: text/csv), not {given}.",
                                    errors=[{"field": "Content-Type", "message": "must be text/csv"}]))
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("body", "is not UTF-8 text") from None
    if "\x00" in text:
        raise InvalidInput("body", "must not contain NUL characters")
    if params.dry_run:
        plan = admin.plan_import(text, all_confirmed=params.confirmed)
    else:
        plan = admin.import_subscribers(text, all_confirmed=params.confirmed)
    if not plan.ok:
        errors = [{"field": f"line {p.line}.{p.column}", "message": p.message} for p in plan.problems[:200]]
        first = plan.problems[0]
        more = f" (and {len(plan.problems) - 1} more)" if len(plan.problems) > 1 else ""
        body = ErrorOut(detail=f"Nothing was imported: line {first.line}, {first.column}: {first.message}{more}.",
                        errors=errors)
        return Status(422, body)
    return {"added": len(plan.new), "already_subscribed": len(plan.duplicates), "dry_run": params.dry_run}


@subscribers.get("/{subscriber_id}", response={200: SubscriberOut, **ERRORS}, summary="Show a subscriber")
def get_subscriber(request: HttpRequest, subscriber_id: str):
    return subscriber_out(_subscriber(subscriber_id))


@subscribers.delete("/{subscriber_id}", response={204: None, **ERRORS},
                    summary="Remove a subscriber: it is told nothing more, what waited for it is cancelled")
def delete_subscriber(request: HttpRequest, subscriber_id: str):
    admin.remove_subscriber(_subscriber(subscriber_id))
    return Status(204, None)


@subscribers.post("/{subscriber_id}/resume", response={200: SubscriberOut, **ERRORS},
                  summary="Resume a paused webhook")
@idempotent
def resume_subscriber(request: HttpRequest, subscriber_id: str):
    subscriber = _subscriber(subscriber_id)
    if not admin.resume_subscriber(subscriber):
        raise InvalidInput("state", f"is {admin.state_of(subscriber)}: only a paused subscriber is resumed")
    return subscriber_out(_subscriber(subscriber_id))


# --- deliveries -------------------------------------------------------------------------------------


@deliveries.get("", response={200: Paged[DeliveryOut], **ERRORS},
                summary="List deliveries, newest first (state=failed: the dead-letter list)")
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]):
    found = Delivery.objects.select_related("subscriber").prefetch_related("attempt_set")
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.subject is not None:
        found = found.filter(subject=filters.subject)
    return _paged(found.order_by("-created_at", "-id"), filters, delivery_out)


@deliveries.get("/{delivery_id}", response={200: DeliveryOut, **ERRORS}, summary="Show a delivery and its attempts")
def get_delivery(request: HttpRequest, delivery_id: str):
    return delivery_out(_delivery(delivery_id))


@deliveries.post("/{delivery_id}/retry", response={200: DeliveryOut, **ERRORS},
                 summary="Send a failed delivery again, from now, with a fresh count of attempts")
@idempotent
def retry_delivery(request: HttpRequest, delivery_id: str):
    delivery = _delivery(delivery_id)
    if not admin.retry_deliveries(Delivery.objects.filter(pk=delivery.pk)):
        raise InvalidInput("state", f"is {delivery.state}: only a failed delivery is retried")
    return delivery_out(_delivery(delivery_id))
