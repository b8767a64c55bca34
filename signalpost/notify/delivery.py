"""The delivery job: claims due deliveries in batches, sends each batch concurrently, records every
attempt, retries with back-off, fails for good after its attempts (the dead letters), pauses a webhook
that keeps failing, and holds what passes a subscriber's hourly limit for one digest.

A claim is marked in the UPDATE that takes it (`claimed_by`, `claimed_until`), and on PostgreSQL skips
rows another worker is claiming at that instant (FOR UPDATE SKIP LOCKED), so several worker processes
share the deliveries. A worker killed mid-batch leaves claims that expire (SIGNALPOST_NOTIFY_LEASE) and
are taken again: at least once, and what is sent twice is at most the batch that was in flight, each
copy carrying the same Message-ID / webhook-id.

The sending is asyncio in the job's own event loop: e-mail over a few SMTP connections kept open across
batches (aiosmtplib), webhooks and chat through outbound.post_all. The database is read before and
written after, never from inside the loop.
"""

import asyncio
import json
import logging
import random
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from signalpost.events import wake
from signalpost.events.models import Event
from signalpost.events.record import record as record_event
from signalpost.events.work import claimed_ids
from signalpost.presentation.zone import page_zone

from . import email
from .consumer import TOPIC
from .models import Attempt, Channel, Delivery, DeliveryState, Subscriber

log = logging.getLogger("signalpost.notify")

HTTP_CHANNELS = {Channel.WEBHOOK, Channel.SLACK, Channel.DISCORD, Channel.TEAMS}
CHAT_CHANNELS = {Channel.SLACK, Channel.DISCORD, Channel.TEAMS}
LIMITED_CHANNELS = {Channel.EMAIL, *CHAT_CHANNELS}  # a webhook is a program: it gets every event, in its shape
DIGEST_KIND = "digest"
OWNER_KINDS = {"subscriber.paused"}  # mail to a webhook's owner, not to the (paused) subscriber
PAUSE_FAILURES = 10
PAUSE_WINDOW = timedelta(hours=1)
MAX_BACKOFF_SECONDS = 3600

_CLAIM = """
UPDATE notify_delivery SET claimed_by = %(worker)s, claimed_until = %(until)s
WHERE id IN (
    SELECT id FROM notify_delivery
    WHERE state = 'pending' AND due_at <= %(now)s AND (claimed_until IS NULL OR claimed_until < %(now)s)
    ORDER BY due_at
    LIMIT %(limit)s
    {lock}
) AND (claimed_until IS NULL OR claimed_until < %(now)s)
RETURNING id
"""


def claim(worker: str, limit: int, now: datetime) -> list[Delivery]:
    ids = claimed_ids(_CLAIM, {"worker": worker, "until": now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
                               "now": now, "limit": limit})
    if not ids:
        return []
    return list(Delivery.objects.filter(pk__in=ids).select_related("subscriber").order_by("created_at", "id"))


def backoff(attempts: int) -> timedelta:
    """Exponential, with jitter (half to all of it), so that retries of one outage spread out."""
    full = min(settings.NOTIFY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return timedelta(seconds=full * random.uniform(0.5, 1.0))


def seconds_until_due(now: datetime | None = None) -> float:
    """Until the next pending delivery is due (a retry, a digest, an expiring claim), at most the poll."""
    now = now or timezone.now()
    pending = Delivery.objects.filter(state=DeliveryState.PENDING)
    # Those another worker holds count by the end of its claim, not by their (past) due time.
    free = pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    due = free.order_by("due_at").values_list("due_at", flat=True).first()
    timeout = settings.EVENTS_POLL_SECONDS
    if due is not None:
        timeout = min(timeout, (due - now).total_seconds())
    held = (pending.filter(claimed_until__gte=now).order_by("claimed_until").values_list("claimed_until", flat=True)
            .first())
    if held is not None:
        timeout = min(timeout, (held - now).total_seconds())
    return max(0.05, timeout)


def recover_own_claims(worker: str) -> int:
    """Claims this worker left when a pass broke off (between batches none is in hand)."""
    return Delivery.objects.filter(claimed_by=worker, state=DeliveryState.PENDING,
                                   claimed_until__isnull=False).update(claimed_until=None, claimed_by="")


def release_claims_of(worker: str) -> int:
    """Every claim of a worker process known to be dead: taken again at once."""
    return recover_own_claims(worker)


def retry(delivery_ids: list[int]) -> int:
    """Put failed deliveries back to be sent now, as new (the console's dead-letter Retry)."""
    count = Delivery.objects.filter(pk__in=delivery_ids, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, attempts=0, due_at=timezone.now(), claimed_until=None, claimed_by="")
    if count:
        wake.announce(TOPIC)
    return count


def cancel_pending(subscriber_ids: list[int], reason: str) -> int:
    """A paused or removed subscriber's deliveries that have not gone yet are cancelled."""
    return Delivery.objects.filter(subscriber_id__in=subscriber_ids, state__in=[DeliveryState.PENDING,
                                                                                DeliveryState.HELD]).update(
        state=DeliveryState.CANCELLED, last_error=reason[:4000], claimed_until=None, claimed_by="")


# --- what one batch sends ---------------------------------------------------------------------------


@dataclass
class Outgoing:
    delivery: Delivery
    message: bytes | None = None  # e-mail
    request: object | None = None  # outbound.Request
    included: list[int] | None = None  # a digest: the held deliveries it carries


@dataclass
class Batch:
    taken: int
    outgoing: list[Outgoing]
    now: datetime
    started: datetime
    claim_ms: float
    write_ms: float


@dataclass
class Result:
    ok: bool
    status: int | None
    error: str
    elapsed_ms: int
    permanent: bool = False  # the server refused for good (an SMTP 5xx): no point trying again


class Renderings:
    """Each event rendered once per process (an update to 100,000 subscribers spans many batches)."""

    def __init__(self, size: int = 32):
        self.size = size
        self.items: OrderedDict = OrderedDict()

    def get(self, key, make):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


class RateLimit:
    """At most `per_second` starts a second in this process (0: no limit)."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0

    async def take(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        start = max(now, self.next_at)
        self.next_at = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class SmtpPool:
    """A few SMTP connections kept open across batches, each sending one message at a time."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self.clients: list = []

    def _client(self):
        import aiosmtplib

        return aiosmtplib.SMTP(hostname=settings.EMAIL_HOST, port=settings.EMAIL_PORT,
                               username=settings.EMAIL_HOST_USER or None,
                               password=settings.EMAIL_HOST_PASSWORD or None,
                               use_tls=settings.EMAIL_USE_SSL, start_tls=settings.EMAIL_USE_TLS,
                               timeout=settings.EMAIL_TIMEOUT)

    async def send_all(self, messages: list[tuple[int, str, bytes]], rate: RateLimit) -> dict[int, Result]:
        """(id, recipient, message) each over one of the connections; never raises for one message."""
        while len(self.clients) < min(self.size, len(messages)):
            self.clients.append(self._client())
        queue: asyncio.Queue = asyncio.Queue()
        for item in messages:
            queue.put_nowait(item)
        results: dict[int, Result] = {}
        await asyncio.gather(*(self._work(client, queue, results, rate) for client in self.clients))
        return results

    async def _work(self, client, queue: asyncio.Queue, results: dict, rate: RateLimit) -> None:
        import aiosmtplib

        envelope_sender = email.sender()
        while not queue.empty():
            pk, recipient, message = queue.get_nowait()
            await rate.take()
            started = time.monotonic()
            try:
                if not client.is_connected:
                    await client.connect()
                errors, response = await client.sendmail(envelope_sender, [recipient], message)
                results[pk] = Result(True, _smtp_code(response), "", _ms(started))
            except aiosmtplib.SMTPRecipientsRefused as error:
                refusal = error.recipients[0] if error.recipients else None
                code = getattr(refusal, "code", None)
                results[pk] = Result(False, code, f"the mail server refused {recipient}: {refusal}", _ms(started),
                                     permanent=code is not None and code >= 500)
            except aiosmtplib.SMTPResponseException as error:
                results[pk] = Result(False, error.code, f"the mail server answered {error.code} {error.message}",
                                     _ms(started), permanent=error.code >= 500 and error.code != 554)
                await _reset(client)
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
                results[pk] = Result(False, None, f"mail to {recipient} failed: {error or type(error).__name__}",
                                     _ms(started))
                client.close()  # a broken connection is opened again for the next message

    async def close(self) -> None:
        for client in self.clients:
            if client.is_connected:
                try:
                    await client.quit()
                except Exception:
                    client.close()
        self.clients = []


async def _reset(client) -> None:
    try:
        await client.rset()
    except Exception:
        client.close()


def _smtp_code(response) -> int | None:
    return getattr(response, "code", None) if response is not None and not isinstance(response, str) else 250


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class Deliverer:
    """One delivery job's state: its event loop, SMTP connections and renderings, kept across batches."""

    def __init__(self, worker: str):
        self.worker = worker
        self.loop: asyncio.AbstractEventLoop | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.ahead: Batch | None = None  # the next batch, claimed and written while one was sent
        self.smtp = SmtpPool(settings.NOTIFY_SMTP_CONNECTIONS)
        self.renderings = Renderings()
        self.bodies = Renderings()
        self.rates = {"email": RateLimit(settings.NOTIFY_RATE_EMAIL), "webhook": RateLimit(settings.NOTIFY_RATE_WEBHOOK),
                      "chat": RateLimit(settings.NOTIFY_RATE_CHAT)}

    def run_once(self, now: datetime | None = None, stopping=None) -> int:
        """Send one batch and record it. Returns how many deliveries were taken (0: none due).

        On PostgreSQL the next batch is claimed and written while this one is being sent (in a thread of
        its own, with its own connection), so that the SMTP connections are not idle while the database
        is: a worker that is told to stop gives that next batch back at once."""
        batch = self.ahead
        self.ahead = None
        if batch is None:
            recover_own_claims(self.worker)
            batch = self._next_batch(now)
        if batch is None:
            return 0
        ahead_too = connection.vendor == "postgresql" and now is None and not (stopping and stopping.is_set())
        began = time.monotonic()
        if ahead_too:
            results, self.ahead = self._event_loop().run_until_complete(self._send_and_fetch(batch.outgoing))
        else:
            results = self._send(batch.outgoing)
        sent = time.monotonic()
        self._record(batch.outgoing, results, batch.now + (timezone.now() - batch.started))
        log.info("batch of %s: claimed in %.0f ms, written in %.0f ms, sent in %.0f ms, recorded in %.0f ms",
                 batch.taken, batch.claim_ms, batch.write_ms, (sent - began) * 1000, (time.monotonic() - sent) * 1000)
        if self.ahead is not None and stopping is not None and stopping.is_set():
            self._give_back(self.ahead)
            self.ahead = None
        return batch.taken

    def _next_batch(self, now: datetime | None) -> Batch | None:
        started, began = timezone.now(), time.monotonic()
        now = now or started
        deliveries = claim(self.worker, settings.NOTIFY_BATCH, now)
        if not deliveries:
            return None
        claimed = time.monotonic()
        outgoing = self._prepare(self._triage(deliveries, now), now)
        return Batch(len(deliveries), outgoing, now, started, (claimed - began) * 1000,
                     (time.monotonic() - claimed) * 1000)

    def _fetch_in_thread(self) -> Batch | None:
        try:
            return self._next_batch(None)
        except Exception:  # the claims (if any) expire; the next pass claims again
            log.exception("claiming the next batch failed")
            connection.close()
            return None

    async def _send_and_fetch(self, outgoing: list[Outgoing]) -> tuple[dict, Batch | None]:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deliveries-ahead")
        fetching = asyncio.get_running_loop().run_in_executor(self.executor, self._fetch_in_thread)
        results = await self._send_all(outgoing) if outgoing else {}
        return results, await fetching

    def _give_back(self, batch: Batch) -> None:
        Delivery.objects.filter(pk__in=[o.delivery.pk for o in batch.outgoing], claimed_by=self.worker,
                                state=DeliveryState.PENDING).update(claimed_until=None, claimed_by="")

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        return self.loop

    def drain(self, now: datetime | None = None) -> int:
        total = 0
        while taken := self.run_once(now):
            total += taken
        return total

    # --- before sending: who still hears, the hourly limit -----------------------------------------

    def _triage(self, deliveries: list[Delivery], now: datetime) -> list[Delivery]:
        cancelled: dict[str, list[int]] = {}
        keep, later = [], []
        hooks_in_batch = set()
        for delivery in deliveries:
            reason = self._why_not(delivery)
            if reason:
                cancelled.setdefault(reason, []).append(delivery.pk)
            elif delivery.channel in HTTP_CHANNELS and delivery.subscriber_id in hooks_in_batch:
                later.append(delivery.pk)
            else:
                keep.append(delivery)
                if delivery.channel in HTTP_CHANNELS:
                    hooks_in_batch.add(delivery.subscriber_id)
        with transaction.atomic():
            # One message at a time to a hook: they arrive in order, and one that fails is paused at its
            # tenth failure, not at the end of a batch that sent it twenty.
            Delivery.objects.filter(pk__in=later).update(claimed_until=None, claimed_by="")
            for reason, ids in cancelled.items():
                Delivery.objects.filter(pk__in=ids).update(state=DeliveryState.CANCELLED, last_error=reason,
                                                           claimed_until=None, claimed_by="")
                Delivery.objects.filter(digest_id__in=ids, state=DeliveryState.HELD).update(
                    state=DeliveryState.CANCELLED, last_error=reason)
            return self._hold_over_limit(keep, now)

    def _why_not(self, delivery: Delivery) -> str:
        if delivery.channel == Channel.EMAIL and not settings.SMTP_CONFIGURED:
            return "e-mail is off: no mail server (EMAIL_HOST) is set"
        if delivery.event_kind in OWNER_KINDS:
            return ""
        subscriber = delivery.subscriber
        if subscriber is None:
            return "the subscriber was removed"
        if subscriber.paused_at is not None:
            return "the subscriber is paused"
        if subscriber.confirmed_at is None:
            return "the subscriber is not confirmed"
        return ""

    def _hold_over_limit(self, deliveries: list[Delivery], now: datetime) -> list[Delivery]:
        """At most NOTIFY_PER_HOUR messages per subscriber and clock hour: the rest are held for one
        digest at the end of the hour."""
        limit = settings.NOTIFY_PER_HOUR
        limited = [d for d in deliveries if d.channel in LIMITED_CHANNELS and d.event_kind != DIGEST_KIND
                   and d.event_kind not in OWNER_KINDS and d.subscriber_id is not None]
        if not limited or limit <= 0:
            return deliveries
        hour = now.replace(minute=0, second=0, microsecond=0)
        sent = dict(Delivery.objects.filter(subscriber_id__in={d.subscriber_id for d in limited}, sent_at__gte=hour)
                    .values_list("subscriber_id").annotate(n=Count("id")).values_list("subscriber_id", "n"))
        held: dict[int, list[Delivery]] = {}
        for delivery in limited:
            if sent.get(delivery.subscriber_id, 0) >= limit:
                held.setdefault(delivery.subscriber_id, []).append(delivery)
            else:
                sent[delivery.subscriber_id] = sent.get(delivery.subscriber_id, 0) + 1
        if not held:
            return deliveries
        for subscriber_id, items in held.items():
            first = items[0]
            digest, _ = Delivery.objects.get_or_create(
                key=f"digest.{subscriber_id}.{hour:%Y-%m-%dT%H}", defaults={
                    "event_id": 0, "event_kind": DIGEST_KIND, "subject": "digest", "about": "Digest of held updates",
                    "subscriber_id": subscriber_id, "channel": first.channel, "address": first.address,
                    "created_at": now, "due_at": hour + timedelta(hours=1)})
            Delivery.objects.filter(pk__in=[d.pk for d in items]).update(
                state=DeliveryState.HELD, digest=digest, claimed_until=None, claimed_by="")
        held_ids = {d.pk for items in held.values() for d in items}
        return [d for d in deliveries if d.pk not in held_ids]

    # --- the messages ------------------------------------------------------------------------------

    def _prepare(self, deliveries: list[Delivery], now: datetime) -> list[Outgoing]:
        events = Event.objects.in_bulk({d.event_id for d in deliveries if d.event_id})
        outgoing = []
        failed: list[tuple[Delivery, str]] = []
        for delivery in deliveries:
            try:
                item = self._outgoing(delivery, events.get(delivery.event_id), now)
            except Exception as error:  # one that cannot be written fails alone, with its reason
                log.exception("delivery %s could not be written", delivery.key)
                failed.append((delivery, f"{type(error).__name__}: {error}"))
                continue
            if item is None:
                Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.CANCELLED, claimed_until=None,
                                                               claimed_by="", last_error="nothing left to send")
            else:
                outgoing.append(item)
        if failed:
            self._record([Outgoing(d) for d, _ in failed],
                         {d.pk: Result(False, None, error, 0) for d, error in failed}, now)
        return outgoing

    def _outgoing(self, delivery: Delivery, event: Event | None, now: datetime) -> Outgoing | None:
        if delivery.event_kind == DIGEST_KIND:
            return self._digest(delivery, now)
        if delivery.event_kind in OWNER_KINDS:
            rendered = email.render(delivery.event_kind, email.context_for(delivery.event_kind, {}, event.data if event else {}))
            return Outgoing(delivery, message=email.message_bytes(rendered, key=delivery.key, to=delivery.address,
                                                                  subscriber=None, at=now))
        if event is None:
            raise LookupError(f"event {delivery.event_id} is no longer kept")
        if delivery.channel == Channel.EMAIL:
            rendered = self.renderings.get(event.pk, lambda: email.render(event.kind, email.context_for(event.kind, event.data)))
            return Outgoing(delivery, message=email.message_bytes(rendered, key=delivery.key, to=delivery.address,
                                                                  subscriber=delivery.subscriber, at=now))
        return Outgoing(delivery, request=self._http_request(delivery, event, now))

    def _digest(self, delivery: Delivery, now: datetime) -> Outgoing | None:
        held = list(Delivery.objects.filter(digest=delivery, state=DeliveryState.HELD).order_by("created_at", "id"))
        if not held:
            return None
        zone = page_zone()
        items = [{"about": d.about, "link": email.link_for_subject(d.subject, d.event_kind),
                  "at": email.when(d.created_at, zone)} for d in held]
        if delivery.channel == Channel.EMAIL:
            rendered = email.render(DIGEST_KIND, email.context_for(DIGEST_KIND, {}, {"items": items}))
            return Outgoing(delivery, included=[d.pk for d in held],
                            message=email.message_bytes(rendered, key=delivery.key, to=delivery.address,
                                                        subscriber=delivery.subscriber, at=now))
        lines = "\n".join(f"• {i['about']} ({i['at']}) {i['link']}" for i in items)
        body = json.dumps(chat_text(delivery.channel, f"{len(items)} more updates, held so as not to flood you:\n{lines}")).encode()
        return Outgoing(delivery, included=[d.pk for d in held], request=_request(delivery.key, delivery.address, body, {}))

    def _http_request(self, delivery: Delivery, event: Event, now: datetime):
        from . import formats, links

        subscriber = delivery.subscriber
        if delivery.channel == Channel.WEBHOOK:
            if event.kind.startswith("component."):
                body = self.bodies.get(("component", event.pk), lambda: formats.component_body(event))
            else:
                body = self.bodies.get(("incident", event.pk), lambda: _incident_body(event))
            payload = formats.with_links(body, unsubscribe_url=links.unsubscribe_url(subscriber))
            # Signed at the moment it goes (a receiver refuses a stale timestamp), whatever clock the batch runs by.
            headers = (formats.signature_headers(subscriber.secret, delivery.key, payload, timezone.now())
                       if subscriber.secret else {})
            return _request(delivery.key, delivery.address, payload, headers)
        link = email.link_for_subject(event.subject, event.kind)
        body = self.bodies.get((delivery.channel, event.pk), lambda: formats.chat_bytes(
            formats.chat_body(delivery.channel, event, link=link)))
        return _request(delivery.key, delivery.address, body, {})

    # --- sending -----------------------------------------------------------------------------------

    def _send(self, outgoing: list[Outgoing]) -> dict[int, Result]:
        if not outgoing:
            return {}
        return self._event_loop().run_until_complete(self._send_all(outgoing))

    async def _send_all(self, outgoing: list[Outgoing]) -> dict[int, Result]:
        mails = [(o.delivery.pk, o.delivery.address, o.message) for o in outgoing if o.message is not None]
        webhooks = [o for o in outgoing if o.request is not None and o.delivery.channel == Channel.WEBHOOK]
        chats = [o for o in outgoing if o.request is not None and o.delivery.channel != Channel.WEBHOOK]
        parts = await asyncio.gather(
            self.smtp.send_all(mails, self.rates["email"]) if mails else _nothing(),
            self._post(webhooks, self.rates["webhook"]), self._post(chats, self.rates["chat"]))
        results: dict[int, Result] = {}
        for part in parts:
            results.update(part)
        return results

    async def _post(self, outgoing: list[Outgoing], rate: RateLimit) -> dict[int, Result]:
        if not outgoing:
            return {}
        from . import outbound

        by_key = {o.delivery.key: o.delivery.pk for o in outgoing}
        requests = [o.request for o in outgoing]
        # A rate limit sends in slices of one second's worth; without one, all at once (post_all bounds it).
        step = max(1, int(1 / rate.interval)) if rate.interval else len(requests)
        results: dict[int, Result] = {}
        for start in range(0, len(requests), step):
            if start:
                await asyncio.sleep(1.0)
            for result in await outbound.post_all(requests[start:start + step], timeout=settings.NOTIFY_HTTP_TIMEOUT):
                results[by_key[result.key]] = Result(result.ok, result.status, result.error, result.elapsed_ms)
        return results

    # --- after sending: the record -----------------------------------------------------------------

    def _record(self, outgoing: list[Outgoing], results: dict[int, Result], now: datetime) -> None:
        if not outgoing:
            return
        sent, failed, dead, digests = [], [], [], []
        attempts = []
        for item in outgoing:
            delivery = item.delivery
            result = results.get(delivery.pk) or Result(False, None, "not sent (no result)", 0)
            attempts.append(Attempt(delivery_id=delivery.pk, at=now, ok=result.ok, status=result.status,
                                    error=result.error[:4000], elapsed_ms=result.elapsed_ms))
            if result.ok:
                sent.append(delivery.pk)
                if item.included:
                    digests.extend(item.included)
                continue
            delivery.attempts += 1
            delivery.last_error = result.error[:4000]
            delivery.claimed_by, delivery.claimed_until = "", None
            if result.permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.state = DeliveryState.FAILED
                dead.append(delivery)
            else:
                delivery.due_at = now + backoff(delivery.attempts)
            failed.append(delivery)
        with transaction.atomic():
            Attempt.objects.bulk_create(attempts)
            if sent:
                Delivery.objects.filter(pk__in=sent).update(state=DeliveryState.SENT, sent_at=now,
                                                            attempts=F("attempts") + 1, claimed_until=None,
                                                            claimed_by="", last_error="")
            if digests:
                Delivery.objects.filter(pk__in=digests, state=DeliveryState.HELD).update(
                    state=DeliveryState.DIGESTED, sent_at=now)
            if failed:
                Delivery.objects.bulk_update(failed, ["state", "attempts", "due_at", "last_error", "claimed_by",
                                                      "claimed_until"], batch_size=500)
            if dead:
                _record_failed(dead)
            self._pause_failing({d.subscriber_id for d in failed if d.channel in HTTP_CHANNELS and d.subscriber_id},
                                now)
            if any(d.state == DeliveryState.PENDING for d in failed):
                wake.announce(TOPIC)
        if sent or failed:
            log.info("sent %s deliveries, %s failed (%s for good)", len(sent), len(failed), len(dead))

    def _pause_failing(self, subscriber_ids: set[int], now: datetime) -> None:
        """A webhook or chat hook that failed PAUSE_FAILURES times within PAUSE_WINDOW is paused."""
        if not subscriber_ids:
            return
        counts = (Attempt.objects.filter(delivery__subscriber_id__in=subscriber_ids, ok=False, at__gte=now - PAUSE_WINDOW)
                  .values("delivery__subscriber_id").annotate(n=Count("id")).filter(n__gte=PAUSE_FAILURES))
        for row in counts:
            subscriber = Subscriber.objects.filter(pk=row["delivery__subscriber_id"], paused_at__isnull=True).first()
            if subscriber is not None:
                last = Attempt.objects.filter(delivery__subscriber=subscriber, ok=False).order_by("-at", "-id").first()
                pause(subscriber, f"failed {row['n']} times within an hour; last: {last.error if last else ''}", now,
                      failures=row["n"])


async def _nothing() -> dict:
    return {}


def _request(key: str, url: str, body: bytes, headers: dict[str, str]):
    from . import outbound

    return outbound.Request(key=key, url=url, body=body, headers=headers)


def _incident_body(event: Event) -> dict:
    from signalpost.status.models import Incident

    from . import formats

    incident = Incident.objects.filter(public_id=event.data.get("incident")).first()
    if incident is None:
        raise LookupError(f"incident {event.data.get('incident')} no longer exists")
    return formats.incident_body(incident.pk)


def chat_text(tool: str, text: str) -> dict:
    """A plain message in a chat tool's incoming-webhook shape (the digest)."""
    if tool == Channel.DISCORD:
        return {"content": text[:2000]}
    if tool == Channel.TEAMS:
        return {"@type": "MessageCard", "@context": "http://schema.org/extensions", "summary": text[:80], "text": text}
    return {"text": text}


def _record_failed(dead: list[Delivery]) -> None:
    """One `delivery.failed` event per batch (an outage fails many at once: one alert, not thousands)."""
    first = dead[0]
    others = f" and {len(dead) - 1} more" if len(dead) > 1 else ""
    record_event("delivery.failed", "deliveries", data={
        "count": len(dead),
        # The first one named at the top (what a team alert says), every one (up to 20) below.
        "key": first.key, "channel": first.channel, "address": first.address + others, "about": first.about,
        "attempts": first.attempts, "error": first.last_error[:500],
        "deliveries": [{"key": d.key, "channel": d.channel, "address": d.address, "about": d.about,
                        "error": d.last_error[:500], "attempts": d.attempts} for d in dead[:20]],
    })


def pause(subscriber: Subscriber, reason: str, now: datetime | None = None, failures: int = PAUSE_FAILURES) -> bool:
    """Pause a subscriber that keeps failing: its pending deliveries are cancelled, the event
    `subscriber.paused` recorded, and its owner (when it has one) told by e-mail. Returns whether it was
    paused now (False: already)."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Subscriber.objects.filter(pk=subscriber.pk, paused_at__isnull=True).update(paused_at=now,
                                                                                         paused_reason=reason[:300]):
            return False
        cancel_pending([subscriber.pk], "the subscriber was paused")
        data = {"subscriber": subscriber.public_id, "channel": subscriber.channel, "address": subscriber.address,
                "owner_email": subscriber.owner_email, "reason": reason[:300], "failures": failures}
        event = record_event("subscriber.paused", f"subscriber:{subscriber.public_id}", data=data)
        if subscriber.owner_email and settings.SMTP_CONFIGURED:
            Delivery.objects.create(key=f"paused.{subscriber.pk}.{int(now.timestamp())}", event_id=event.pk,
                                    event_kind="subscriber.paused", subject=event.subject,
                                    about=f"{subscriber.address} paused", subscriber=subscriber,
                                    channel=Channel.EMAIL, address=subscriber.owner_email, due_at=now)
            wake.announce(TOPIC)
    log.warning("paused %s: %s", subscriber, reason)
    return True
