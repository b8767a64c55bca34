"""The subscriber's own links: confirm, change preferences, unsubscribe. Each is signed (Django's
signing, with the installation's secret key) and names the subscriber and its link generation, so that
knowing an address is never enough to change a subscription, and bumping the generation voids every
link sent before. A confirmation link expires; the others last as long as the generation."""

from django.conf import settings
from django.core import signing

from .models import Subscriber

CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds a confirmation link works
_SALT = {"confirm": "signalpost.notify.confirm", "manage": "signalpost.notify.manage"}


class BadLink(Exception):
    """The link is not one Signalpost signed, was changed, expired, or an older generation's."""


def token(subscriber: Subscriber, purpose: str) -> str:
    signer = signing.TimestampSigner(salt=_SALT[purpose])
    return signer.sign_object([subscriber.public_id, subscriber.link_generation], compress=False)


def subscriber_for(value: str, purpose: str) -> Subscriber:
    signer = signing.TimestampSigner(salt=_SALT[purpose])
    max_age = CONFIRM_MAX_AGE if purpose == "confirm" else None
    try:
        public_id, generation = signer.unsign_object(value, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink("this link has expired: subscribe again to get a new one") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise BadLink("this link is not valid") from None
    subscriber = Subscriber.objects.filter(public_id=public_id, link_generation=generation).first()
    if subscriber is None:
        raise BadLink("this link is no longer valid") from None
    return subscriber


def confirm_url(subscriber: Subscriber) -> str:
    return f"{settings.SITE_URL}/subscriptions/confirm/{token(subscriber, 'confirm')}"


def manage_url(subscriber: Subscriber) -> str:
    """Where the subscriber changes what they hear about or leaves (GET shows the page)."""
    return f"{settings.SITE_URL}/subscriptions/{token(subscriber, 'manage')}"


def unsubscribe_url(subscriber: Subscriber) -> str:
    """One click: a POST here (RFC 8058's List-Unsubscribe-Post) ends the subscription; a GET asks first."""
    return f"{settings.SITE_URL}/subscriptions/{token(subscriber, 'manage')}/unsubscribe"
