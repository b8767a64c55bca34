"""The console's mail: invitations and password-reset links, sent by the mailer, a consumer of the
events `invitation.created` and `password_reset.requested`. The request that asked for a mail has
already answered; a mail server that is down delays the mail (retried with back-off, then set aside
and shown on the dashboard), never the request.

Each message carries a Message-ID made from its event, so that a mail sent twice (a worker killed
between sending and recording it) is recognisably the same message.
"""

import hashlib
import logging
import smtplib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from signalpost.accounts import services
from signalpost.accounts.models import Invitation, Role
from signalpost.events.consumers import Consumer
from signalpost.events.work import Failed, Outcome, Work
from signalpost.status.services import get_page

log = logging.getLogger("signalpost.mail")

CONSUMER = Consumer(name="mailer", handler="signalpost.console.mail.handle",
                    kinds=("invitation.created", "password_reset.requested"), max_attempts=10)


def _message_id(work: Work, recipient: str) -> str:
    host = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "signalpost"
    recipient_key = hashlib.blake2b(recipient.encode(), digest_size=4).hexdigest()
    return f"<{work.event.kind}.{work.event.pk}.{recipient_key}@{host}>"


def invitation_message(invitation: Invitation, work: Work) -> EmailMessage | None:
    token = services.invitation_token(invitation)
    if token is None or not invitation.is_usable:
        return None  # revoked, accepted or expired meanwhile: nothing to send
    if services.digest(token) != invitation.digest:
        raise InvitationUnmailable("the installation's secret key changed since the invitation was made, so its "
                                   "link cannot be written again: revoke the invitation and invite again")
    page = get_page().name
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "An administrator"
    body = (f"{inviter} invites you to the {page} console as {Role(invitation.role).label.lower()}.\n\n"
            f"Choose a username and a password here (the link works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{services.invitation_link(token)}\n\n"
            "If you did not expect this, ignore this message.\n")
    return EmailMessage(f"Your invitation to the {page} console", body, to=[invitation.email],
                        headers={"Message-ID": _message_id(work, invitation.email)})


def reset_message(user, work: Work) -> EmailMessage:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"{settings.SITE_URL}/console/password-reset/{uid}/{default_token_generator.make_token(user)}"
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    page = get_page().name
    body = (f"Someone (hopefully you) asked to reset the password of {user.get_username()} on the {page} "
            f"console.\n\nChoose a new password here (the link works once, for {hours} hours):\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n")
    return EmailMessage(f"Reset your password on the {page} console", body, to=[user.email],
                        headers={"Message-ID": _message_id(work, f"{user.pk}")})


def _stand_in(email: str):
    """Someone who is not there, for the work done for an address without an account."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    return get_user_model()(pk=0, username="", email=email, password=make_password(None))


def messages_for(work: Work) -> list[EmailMessage]:
    event = work.event
    if event.kind == "invitation.created":
        invitation = Invitation.objects.filter(pk=event.data.get("invitation")).select_related("invited_by").first()
        message = invitation_message(invitation, work) if invitation is not None else None
        return [message] if message is not None else []
    if event.kind == "password_reset.requested":
        email = event.data.get("email", "")
        accounts = services.reset_accounts(email)
        # An address without an account gets the same work (the lookup, the link, the message) up to
        # sending, so that how long the worker is busy does not tell which addresses have one.
        written = [reset_message(user, work) for user in accounts or [_stand_in(email)]]
        return written if accounts else []
    return []


class InvitationUnmailable(Exception):
    pass


def handle(work: Work) -> Outcome | None:
    if not settings.SMTP_CONFIGURED:
        return None  # no mail server: the console shows invitation links to pass on by hand
    try:
        messages = messages_for(work)
    except InvitationUnmailable as error:
        return Failed(str(error))
    for message in messages:
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as error:
            return Failed(f"mail to {', '.join(message.to)} failed: {error or type(error).__name__}")
        log.info("mailed %s to %s", work.event.kind, ", ".join(message.to))
    return None
