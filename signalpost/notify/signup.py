"""The reader's side of subscribing: the verbs the public pages call (subscribe, confirm, change,
unsubscribe), the limits on self-signup, and the consumer "signups" that sends the confirmation mail.

E-mail is double opt-in: subscribing records an unconfirmed subscriber and the event
`subscriber.confirmation_requested` in one transaction; the consumer mails a signed confirmation link
that expires. Asking again for an address that is pending sends a new link (the old ones stop working);
asking for one already subscribed mails that subscription's own manage link instead. The page answers
the same in all three cases, so it never tells whether an address is subscribed, and knowing an address
is never enough to change a subscription: that needs a link that was mailed to it.

Webhooks and chat hooks are confirmed at once, once the URL passes the outbound address rules: whoever
gives a webhook URL holds it (a chat tool's incoming-webhook URL is itself the credential to post there),
and a test delivery would prove no more than the rules and the first real delivery do. Their manage link
is shown once, on the page that answers the signup, and travels in every webhook body.

Every write records one audit entry, made by the visitor. Entries and events name the subscriber by its
public id and a masked address: when a reader leaves, their row is deleted and nothing names them.
"""

import base64
import hashlib
import hmac
import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.events.consumers import Consumer
from signalpost.events.record import record as record_event
from signalpost.events.work import Failed, Outcome, Work
from signalpost.status.models import Component
from signalpost.status.services import get_page

from . import links
from .models import Channel, Delivery, SignupRequest, Source, Subscriber

log = logging.getLogger("signalpost.notify.signup")

CONFIRMATION_REQUESTED = "subscriber.confirmation_requested"
CONSUMER = Consumer(name="signups", handler="signalpost.notify.signup.handle",
                    kinds=(CONFIRMATION_REQUESTED,), max_attempts=10)

SIGNUP_WINDOW = timedelta(hours=1)
URL_CHANNELS = (Channel.WEBHOOK, Channel.SLACK, Channel.DISCORD, Channel.TEAMS)
CHAT_CHANNELS = (Channel.SLACK, Channel.DISCORD, Channel.TEAMS)


class Throttled(Exception):
    """Too many signup requests for this address, or from this client, within the hour."""


# --- what is offered -------------------------------------------------------------------------------


def email_available() -> bool:
    """Whether readers may subscribe by e-mail: only with a mail server (EMAIL_HOST). Without one the
    public page offers no e-mail at all; the console says why to admins."""
    return bool(settings.SMTP_CONFIGURED)


def channels_offered() -> list[Channel]:
    return [c for c in Channel if c != Channel.EMAIL or email_available()]


def chat_hosts(channel: str) -> tuple[str, ...]:
    from .outbound import CHAT_HOSTS

    return CHAT_HOSTS[channel]


def subscribable_components() -> list[Component]:
    """The components readers see, in the page's order: the only ones a reader may choose."""
    from signalpost.status.layout import layout

    return [component for block in layout(visible_only=True) for component in block.components]


# --- addresses -------------------------------------------------------------------------------------


def address_key(channel: str, address: str) -> str:
    """What makes two subscriptions the same one: an e-mail address in lower case, a URL with its
    scheme and host in lower case (its path and query are the hook's own and kept as given)."""
    address = address.strip()
    if channel == Channel.EMAIL:
        return address.lower()
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:  # not a port: the URL is refused elsewhere, this only has to not fail
        port = None
    host = (parts.hostname or "").rstrip(".")
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def masked(channel: str, address: str) -> str:
    """The address as the audit log shows it: enough to tell subscriptions apart, not enough to write to
    one (a chat hook's URL is a credential; an e-mail address belongs to a reader who may leave)."""
    if channel == Channel.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}…@{domain}"
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


def _digest(key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def clean_email(value: str, field: str = "email") -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidInput(field, "Enter an e-mail address such as alice@example.com.") from None
    if len(value) > 320:
        raise InvalidInput(field, "This address is too long.")
    return value


def clean_url(channel: str, value: str) -> str:
    """The URL, if the outbound address rules let Signalpost post to it (and, for a chat tool, it is one
    of that tool's own hosts); otherwise InvalidInput naming the reason, for the field "url"."""
    from . import outbound

    value = (value or "").strip()
    if not value:
        raise InvalidInput("url", "Enter the URL to send updates to.")
    if len(value) > 2000:
        raise InvalidInput("url", "This URL is too long.")
    hosts = chat_hosts(channel) if channel in CHAT_CHANNELS else None
    try:
        outbound.check_url(value, hosts=hosts)
    except outbound.Refused as error:
        reason = str(error)
        raise InvalidInput("url", reason[:1].upper() + reason[1:] + ".") from None
    return value


def clean_secret(value: str) -> str:
    """A webhook secret given by the reader, in the Standard Webhooks form: "whsec_" and base64 of 24 to
    64 random bytes. Empty: one is generated."""
    value = (value or "").strip()
    if not value:
        return new_secret()
    body = value.removeprefix("whsec_")
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raw = b""
    if not value.startswith("whsec_") or not 24 <= len(raw) <= 64:
        raise InvalidInput("secret", 'Give a secret such as "whsec_" followed by 32 to 88 base64 characters, '
                                     "or leave it empty to get one.")
    return value


def new_secret() -> str:
    from .formats import new_secret as signing_secret

    return signing_secret()


# --- rate limits -----------------------------------------------------------------------------------


def _key(channel: str, address: str) -> str:
    try:
        return address_key(channel, address)
    except ValueError:  # not a URL at all: the verb refuses it; it still counts as given
        return address.strip()


def throttled(channel: str, address: str, client: str | None) -> bool:
    """Too many signup requests within the hour for this address (SIGNALPOST_SIGNUP_PER_ADDRESS) or
    from this client address (SIGNALPOST_SIGNUP_PER_IP). Counted from rows every instance shares."""
    recent = SignupRequest.objects.filter(at__gte=timezone.now() - SIGNUP_WINDOW)
    if recent.filter(address_digest=_digest(_key(channel, address))).count() >= settings.SIGNUP_PER_ADDRESS:
        return True
    return bool(client) and recent.filter(client_address=client).count() >= settings.SIGNUP_PER_IP


def admit(channel: str, address: str) -> None:
    """Count one signup request from the current visitor, or raise Throttled when over a limit (and
    count nothing). Every request counts, refused ones too: each costs a lookup, and a refusal's answer
    is worth limiting as much as an acceptance's. Pending e-mail subscriptions whose confirmation link
    has expired are forgotten here too: nobody asked for them to be kept."""
    client = audit.current_actor().address
    now = timezone.now()
    with transaction.atomic():
        if throttled(channel, address, client):
            raise Throttled()
        SignupRequest.objects.filter(at__lt=now - SIGNUP_WINDOW).delete()
        SignupRequest.objects.create(address_digest=_digest(_key(channel, address)), client_address=client)
        expired = now - timedelta(seconds=links.CONFIRM_MAX_AGE)
        Subscriber.objects.filter(confirmed_at__isnull=True, source=Source.SELF, confirmation_sent_at__lt=expired).delete()


# --- the verbs -------------------------------------------------------------------------------------


def _components_after(subscriber: Subscriber) -> dict:
    return {"all_components": subscriber.all_components,
            "components": sorted(c.public_id for c in subscriber.components.all())}


def _choose(subscriber: Subscriber, components: Iterable[Component] | None) -> None:
    """All components (None) or the ones given."""
    chosen = list(components or [])
    subscriber.all_components = components is None
    subscriber.save(update_fields=["all_components"])
    subscriber.components.set([] if components is None else chosen)


def _check_choice(components: Iterable[Component] | None) -> list[Component] | None:
    if components is None:
        return None
    chosen = list(components)
    if not chosen:
        raise InvalidInput("components", "Choose at least one component, or all of them.")
    return chosen


def _ask_confirmation(subscriber: Subscriber) -> None:
    record_event(CONFIRMATION_REQUESTED, f"subscriber:{subscriber.public_id}",
                 data={"subscriber": subscriber.public_id, "generation": subscriber.link_generation})


def subscribe_email(address: str, components: Iterable[Component] | None = None) -> None:
    """Ask for updates by e-mail, for every component (None) or some. Whatever the address's state,
    a mail goes to it: a confirmation link (new or pending), or the manage link (already subscribed).
    Returns nothing, so that the caller cannot tell those apart either."""
    if not email_available():
        raise InvalidInput("channel", "E-mail subscriptions are not offered on this page.")
    address = clean_email(address)
    chosen = _check_choice(components)
    key = address_key(Channel.EMAIL, address)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(channel=Channel.EMAIL, address_key=key).first()
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(channel=Channel.EMAIL, address=address, address_key=key,
                                                           confirmation_sent_at=timezone.now())
            except IntegrityError:  # the same address, at the same moment: the other request's mail goes
                return
            _choose(subscriber, chosen)
            audit.record("subscriber.subscribe", subscriber, object_repr=masked(Channel.EMAIL, address),
                         after={"channel": Channel.EMAIL, "confirmed": False, **_components_after(subscriber)})
        elif not subscriber.is_confirmed:
            # Not a subscription yet: the newest request is the one a confirmation would confirm, and
            # only its link works.
            subscriber.link_generation += 1
            subscriber.confirmation_sent_at = timezone.now()
            subscriber.save(update_fields=["link_generation", "confirmation_sent_at"])
            _choose(subscriber, chosen)
            audit.record("subscriber.confirmation_resend", subscriber, object_repr=masked(Channel.EMAIL, address),
                         after={"confirmed": False, **_components_after(subscriber)})
        else:
            # Subscribed already: the owner gets the manage link; nothing changes without it.
            audit.record("subscriber.manage_link_request", subscriber, object_repr=masked(Channel.EMAIL, address))
        _ask_confirmation(subscriber)


def subscribe_url(channel: str, url: str, components: Iterable[Component] | None = None, *,
                  owner_email: str = "", secret: str = "") -> Subscriber:
    """A webhook or chat hook, confirmed at once (see the module's docstring). A webhook gets the
    secret given or a new one. Returns the subscriber, whose secret and manage link the caller shows
    once."""
    if channel not in URL_CHANNELS:
        raise InvalidInput("channel", "Choose how to receive updates.")
    url = clean_url(channel, url)
    owner_email = clean_email(owner_email, "owner_email") if (owner_email or "").strip() else ""
    secret = clean_secret(secret) if channel == Channel.WEBHOOK else ""
    chosen = _check_choice(components)
    key = address_key(channel, url)
    with transaction.atomic():
        if Subscriber.objects.filter(channel=channel, address_key=key).exists():
            raise InvalidInput("url", "This URL is subscribed already. Change or end that subscription with "
                                      "the link it was given (also in every webhook body, meta.unsubscribe).")
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(channel=channel, address=url, address_key=key, secret=secret,
                                                       owner_email=owner_email, confirmed_at=timezone.now())
        except IntegrityError:
            raise InvalidInput("url", "This URL is subscribed already.") from None
        _choose(subscriber, chosen)
        audit.record("subscriber.subscribe", subscriber, object_repr=masked(channel, url),
                     after={"channel": channel, "confirmed": True, **_components_after(subscriber)})
    return subscriber


def confirm(subscriber: Subscriber) -> Subscriber:
    """The double opt-in's second step, through the mailed link. The link works once: confirming moves
    the subscriber's links on a generation."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if not subscriber.is_confirmed:
            subscriber.confirmed_at = timezone.now()
        subscriber.link_generation += 1
        subscriber.save(update_fields=["confirmed_at", "link_generation"])
        audit.record("subscriber.confirm", subscriber, object_repr=masked(subscriber.channel, subscriber.address),
                     before={"confirmed": False}, after={"confirmed": True})
    return subscriber


def change(subscriber: Subscriber, components: Iterable[Component] | None) -> Subscriber:
    """What the subscriber hears about: every component (None) or the ones given."""
    chosen = _check_choice(components)
    with transaction.atomic():
        before = _components_after(subscriber)
        _choose(subscriber, chosen)
        audit.record("subscriber.change", subscriber, object_repr=masked(subscriber.channel, subscriber.address),
                     before=before, after=_components_after(subscriber))
    return subscriber


def unsubscribe(subscriber: Subscriber) -> None:
    """The subscriber leaves: the row goes, and the deliveries made for them keep only the masked
    address (what was sent stays countable; to whom is forgotten)."""
    shown = masked(subscriber.channel, subscriber.address)
    with transaction.atomic():
        audit.record("subscriber.unsubscribe", subscriber, object_repr=shown,
                     before={"channel": subscriber.channel}, after=None, diff=False)
        Delivery.objects.filter(subscriber=subscriber).update(address=shown)
        Subscriber.objects.filter(pk=subscriber.pk).delete()


# --- the confirmation mail -------------------------------------------------------------------------


def _message_id(work: Work) -> str:
    host = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "signalpost"
    return f"<{work.event.kind}.{work.event.pk}@{host}>"


def _what(subscriber: Subscriber) -> str:
    if subscriber.all_components:
        return "every component"
    names = sorted(c.name for c in subscriber.components.all())
    return ", ".join(names) if names else "no component"


def confirmation_message(subscriber: Subscriber, work: Work) -> EmailMessage:
    page = get_page().name
    if subscriber.is_confirmed:
        subject = f"Your subscription to {page}"
        body = (f"Someone (hopefully you) asked to subscribe this address to updates from {page}. It is "
                f"subscribed already, to {_what(subscriber)}.\n\nChange what you hear about, or unsubscribe, "
                f"here:\n\n{links.manage_url(subscriber)}\n\n"
                "If you did not ask for this, ignore this message: nothing has changed.\n")
    else:
        days = links.CONFIRM_MAX_AGE // 86400
        subject = f"Confirm your subscription to {page}"
        body = (f"Someone (hopefully you) asked to get updates from {page} at this address, about "
                f"{_what(subscriber)}.\n\nConfirm here (the link works once, for {days} days):\n\n"
                f"{links.confirm_url(subscriber)}\n\n"
                "If you did not ask for this, ignore this message: you will not hear from us again.\n")
    return EmailMessage(subject, body, to=[subscriber.address],
                        headers={"Message-ID": _message_id(work), "Auto-Submitted": "auto-generated"})


def handle(work: Work) -> Outcome | None:
    if not settings.SMTP_CONFIGURED:
        return None  # no mail server: e-mail is not offered
    data = work.event.data
    subscriber = Subscriber.objects.filter(public_id=data.get("subscriber"), channel=Channel.EMAIL).first()
    if subscriber is None or subscriber.link_generation != data.get("generation"):
        return None  # gone, or asked again since: that request's own event sends the newer mail
    message = confirmation_message(subscriber, work)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        return Failed(f"mail to a subscriber failed: {error or type(error).__name__}")
    log.info("mailed %s for subscriber %s", work.event.kind, subscriber.public_id)
    return None
