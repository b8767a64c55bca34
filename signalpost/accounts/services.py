"""The verbs of administration: invitations, roles, deactivation, passwords and two-factor devices.

The console calls these; each one that changes something records exactly one audit entry inside its own
transaction, and one that refuses records none. The role rules live here, once:

- only an owner grants or takes away the roles owner and admin, or changes another owner or admin;
- an admin manages responders and viewers;
- nobody demotes or deactivates the last active owner;
- nobody deactivates themselves.
"""

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from signalpost.errors import InvalidInput, NotFound
from signalpost.events.record import record as record_event

from . import audit
from .models import ROLE_RANK, AuditEvent, Invitation, Profile, Role
from .sessions import end_sessions

log = logging.getLogger("signalpost.accounts")

INVITATION_LIFETIME = timedelta(days=7)
# A visitor may ask for a reset link this often per address typed and per client address.
RESET_WINDOW = timedelta(hours=1)
RESET_MAX_PER_EMAIL = 3
RESET_MAX_PER_ADDRESS = 10

# Roles only an owner may hand out or take away.
OWNER_ONLY_ROLES = (Role.OWNER, Role.ADMIN)

ACTIONS = (
    "invitation.create", "invitation.revoke", "invitation.accept", "user.role", "user.deactivate",
    "user.reactivate", "user.password_change", "user.password_reset", "user.password_reset_request",
    "user.2fa_start", "user.2fa_enable", "user.2fa_disable", "user.2fa_reset",
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def stored_role(user: AbstractBaseUser) -> str:
    """The user's role whether or not the account is active (roles.role_of says None for inactive)."""
    profile = Profile.objects.filter(user_id=user.pk).only("role").first()
    if profile is not None:
        return profile.role
    return Role.OWNER if user.is_superuser else Role.VIEWER


def _active_owner_count() -> int:
    """Active owners, counting superusers made before roles existed (they are owners, see roles.role_of).
    The owners' profile rows are locked, so two owners demoting each other at once cannot both succeed."""
    User = get_user_model()
    with_profile = list(Profile.objects.select_for_update().filter(role=Role.OWNER, user__is_active=True)
                        .values_list("pk", flat=True))
    without_profile = User.objects.filter(is_active=True, is_superuser=True, profile__isnull=True).count()
    return len(with_profile) + without_profile


def _may_manage(by: AbstractBaseUser, target: AbstractBaseUser, field: str) -> str:
    """Refuse unless `by` may change `target` at all; returns the target's current role."""
    mine = stored_role(by) if by.is_active else None
    if mine is None or ROLE_RANK[mine] < ROLE_RANK[Role.ADMIN]:
        raise InvalidInput(field, "Only an admin or an owner may manage users.")
    current = stored_role(target)
    if current in OWNER_ONLY_ROLES and mine != Role.OWNER:
        if target.pk == by.pk:
            raise InvalidInput(field, "Only an owner may take away the role admin, including your own.")
        raise InvalidInput(field, f"{target.get_username()} is an {Role(current).label.lower()}: only an owner "
                                  "may change an owner or an admin.")
    return current


def _may_grant(by: AbstractBaseUser, role: str, field: str) -> None:
    if role not in ROLE_RANK:
        raise InvalidInput(field, f'"{role}" is not one of: {", ".join(ROLE_RANK)}.')
    if role in OWNER_ONLY_ROLES and stored_role(by) != Role.OWNER:
        raise InvalidInput(field, f"Only an owner may grant the role {Role(role).label.lower()}.")


@contextmanager
def _acting_as(user: AbstractBaseUser) -> Iterator[None]:
    """Name a visitor who just proved who they are (an invitation, a reset link) as that user, keeping
    the address the request came from."""
    with audit.acting(audit.user_actor(user, "console", audit.current_actor().address)):
        yield


# --- invitations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationSent:
    invitation: Invitation
    link: str  # shown once to the inviter; only a digest of its token is kept
    mailed: bool  # an e-mail is on its way (the mailer sends it; see console/mail.py)


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/console/invitations/{token}"


def invitation_token(invitation: Invitation) -> str | None:
    """The token of an invitation's link, written again from its nonce (None for one made before)."""
    if not invitation.nonce:
        return None
    return salted_hmac("signalpost.accounts.invitation", invitation.nonce, algorithm="sha256").hexdigest()


def invite(email: str, role: str, *, by: AbstractBaseUser) -> InvitationSent:
    """An invitation for `email` to join with `role`, e-mailed by the mailer when SMTP is configured: the
    request does not wait for a mail server, and one that is down only delays the mail."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("email", "Enter an e-mail address such as alice@example.com.") from None
    if stored_role(by) not in OWNER_ONLY_ROLES:
        raise InvalidInput("role", "Only an admin or an owner may invite people.")
    _may_grant(by, role, "role")
    User = get_user_model()
    if User.objects.filter(email__iexact=email, is_active=True).exists():
        raise InvalidInput("email", "Someone with this address already has an account.")
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation(email=email, role=role, nonce=secrets.token_urlsafe(32), invited_by=by,
                                created_at=now, expires_at=now + INVITATION_LIFETIME)
        token = invitation_token(invitation)
        invitation.digest = digest(token)
        invitation.save()
        audit.record("invitation.create", invitation, object_repr=f"invitation for {email}",
                     after={"email": email, "role": role, "expires_at": invitation.expires_at})
        record_event("invitation.created", f"invitation:{invitation.pk}", data={"invitation": invitation.pk})
    return InvitationSent(invitation, invitation_link(token), mailed=settings.SMTP_CONFIGURED)


def usable_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.filter(digest=digest(token or "")).first()
    if invitation is None or not invitation.is_usable:
        raise NotFound("This invitation is not valid: it was used, revoked, or has expired.")
    return invitation


def revoke_invitation(invitation: Invitation, *, by: AbstractBaseUser) -> Invitation:
    if stored_role(by) not in OWNER_ONLY_ROLES:
        raise InvalidInput("invitation", "Only an admin or an owner may revoke invitations.")
    if invitation.role in OWNER_ONLY_ROLES and stored_role(by) != Role.OWNER:
        raise InvalidInput("invitation", f"Only an owner may revoke an invitation as {invitation.role}.")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvalidInput("invitation", f"The invitation for {invitation.email} was already accepted.")
        if invitation.revoked_at is not None:
            raise InvalidInput("invitation", f"The invitation for {invitation.email} was already revoked.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record("invitation.revoke", invitation, object_repr=f"invitation for {invitation.email}",
                     before={"revoked": False}, after={"revoked": True})
    return invitation


def _validated_username(username: str) -> str:
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvalidInput("username", "Choose a username.")
    if len(username) > 150:
        raise InvalidInput("username", "At most 150 characters.")
    try:
        User.username_validator(username)
    except ValidationError:
        raise InvalidInput("username", "Use letters, digits and @ . + - _ only.") from None
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput("username", "This username is taken: choose another.")
    return username


def _validated_password(password: str, user: AbstractBaseUser, field: str) -> None:
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as error:
        raise InvalidInput(field, " ".join(error.messages)) from None


def accept_invitation(token: str, username: str, password: str) -> AbstractBaseUser:
    """The account the invitation promised: a user with the invitation's address and role."""
    User = get_user_model()
    invitation = usable_invitation(token)
    username = _validated_username(username)
    user = User(username=username, email=invitation.email)
    _validated_password(password, user, "password")
    user.set_password(password)
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:  # accepted in another tab meanwhile
            raise NotFound("This invitation is not valid: it was used, revoked, or has expired.")
        user.save()
        Profile.objects.create(user=user, role=locked.role)
        locked.accepted_at, locked.accepted_by = timezone.now(), user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        with _acting_as(user):
            audit.record("invitation.accept", user, object_repr=username,
                         after={"username": username, "email": locked.email, "role": locked.role,
                                "invited_by": locked.invited_by.get_username() if locked.invited_by else None})
    return user


# --- roles and deactivation --------------------------------------------------------------------


def change_role(user: AbstractBaseUser, role: str, *, by: AbstractBaseUser) -> AbstractBaseUser:
    with transaction.atomic():
        current = _may_manage(by, user, "role")
        _may_grant(by, role, "role")
        if role == current:
            return user
        if current == Role.OWNER and user.is_active and _active_owner_count() <= 1:
            raise InvalidInput("role", f"{user.get_username()} is the last active owner: make someone else "
                                       "owner first.")
        Profile.objects.update_or_create(user=user, defaults={"role": role})
        user._signalpost_role = None  # roles.role_of caches the role on the object
        if ROLE_RANK[role] < ROLE_RANK[current]:
            end_sessions(user)  # no browser keeps the access of the role before
        audit.record("user.role", user, object_repr=user.get_username(), before={"role": current},
                     after={"role": role})
    return user


def deactivate_user(user: AbstractBaseUser, *, by: AbstractBaseUser) -> AbstractBaseUser:
    """The user can no longer log in (their sessions end too); the account stays, since the audit log
    refers to it."""
    if user.pk == by.pk:
        raise InvalidInput("user", "You cannot deactivate yourself: ask another admin or owner.")
    with transaction.atomic():
        current = _may_manage(by, user, "user")
        if not user.is_active:
            raise InvalidInput("user", f"{user.get_username()} is already deactivated.")
        if current == Role.OWNER and _active_owner_count() <= 1:
            raise InvalidInput("user", f"{user.get_username()} is the last active owner and stays active.")
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        end_sessions(user)  # and reactivating them later does not bring these sessions back
        audit.record("user.deactivate", user, object_repr=user.get_username(), before={"active": True},
                     after={"active": False})
    return user


def reactivate_user(user: AbstractBaseUser, *, by: AbstractBaseUser) -> AbstractBaseUser:
    with transaction.atomic():
        _may_manage(by, user, "user")
        if user.is_active:
            raise InvalidInput("user", f"{user.get_username()} is already active.")
        get_user_model().objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
        audit.record("user.reactivate", user, object_repr=user.get_username(), before={"active": False},
                     after={"active": True})
    return user


# --- passwords ---------------------------------------------------------------------------------


def change_password(user: AbstractBaseUser, current_password: str, new_password: str) -> AbstractBaseUser:
    if not user.check_password(current_password or ""):
        raise InvalidInput("current_password", "This is not your current password.")
    _validated_password(new_password, user, "new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_sessions(user)
        audit.record("user.password_change", user, object_repr=user.get_username(),
                     before={"password": "(old)"}, after={"password": "(changed)"})
    return user


def reset_throttled(email: str, address: str | None) -> bool:
    """Too many reset requests lately for this address typed, or from this client address. The
    requests are the audit entries themselves, which every instance shares."""
    recent = AuditEvent.objects.filter(action="user.password_reset_request", at__gte=timezone.now() - RESET_WINDOW)
    if recent.filter(object_repr=email.strip().lower()[:300]).count() >= RESET_MAX_PER_EMAIL:
        return True
    return bool(address) and recent.filter(address=address).count() >= RESET_MAX_PER_ADDRESS


def reset_accounts(email: str) -> list[AbstractBaseUser]:
    """The active accounts with a password that use this address (usually one, possibly none)."""
    return [user for user in get_user_model().objects.filter(email__iexact=email, is_active=True)
            if user.has_usable_password()]


def request_password_reset(email: str) -> None:
    """Record that someone asked for a reset link for `email`; the mailer looks up the accounts using
    that address and sends each a link. The request does the same work whether or not an account
    exists, so neither its answer nor its time tells a visitor which addresses have one."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("email", "Enter an e-mail address such as alice@example.com.") from None
    with transaction.atomic():
        # The entry names the address typed, not an account, so the log shows attempts on any address.
        audit.record("user.password_reset_request", object_type="user", object_repr=email.lower()[:300])
        record_event("password_reset.requested", f"password_reset:{email.lower()[:60]}", data={"email": email})


def reset_password(user: AbstractBaseUser, new_password: str) -> AbstractBaseUser:
    """A new password set through a reset link; the link's token is checked by the caller."""
    if not user.is_active:
        raise NotFound("This account is deactivated.")
    _validated_password(new_password, user, "new_password")
    with transaction.atomic(), _acting_as(user):
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_sessions(user)
        audit.record("user.password_reset", user, object_repr=user.get_username(),
                     before={"password": "(old)"}, after={"password": "(reset by e-mail link)"})
    return user


# --- two-factor authentication -------------------------------------------------------------------


def two_factor_device(user: AbstractBaseUser, *, confirmed: bool = True):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def start_two_factor(user: AbstractBaseUser):
    """A new, unconfirmed authenticator secret for `user`; it counts only once confirmed with a code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if two_factor_device(user) is not None:
        raise InvalidInput("two_factor", "Two-factor authentication is already on. Turn it off first to "
                                         "move it to another app.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        audit.record("user.2fa_start", user, object_repr=user.get_username(), after={"two_factor": "pending"})
    return device


def confirm_two_factor(user: AbstractBaseUser, code: str):
    """Turn two-factor on once the user proves their app shows the right code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = two_factor_device(user, confirmed=False)
    if device is None:
        raise InvalidInput("two_factor", "Start the setup first: there is no secret waiting for a code.")
    code = (code or "").replace(" ", "")
    # Outside the transaction: a wrong code must still count towards django-otp's throttling.
    if not device.verify_token(code):
        raise InvalidInput("code", "That code is not right, or has expired. Check the time on your phone "
                                   "and type the code your app shows now.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        audit.record("user.2fa_enable", user, object_repr=user.get_username(), before={"two_factor": False},
                     after={"two_factor": True})
    return device


def disable_two_factor(user: AbstractBaseUser, *, code: str = "", password: str = "") -> AbstractBaseUser:
    """Turn two-factor off; the user proves it is them with a current code or their password."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = two_factor_device(user)
    if device is None:
        raise InvalidInput("two_factor", "Two-factor authentication is not on.")
    code = (code or "").replace(" ", "")
    if code:
        if not device.verify_token(code):
            raise InvalidInput("code", "That code is not right, or has expired.")
    elif password:
        if not user.check_password(password):
            raise InvalidInput("password", "This is not your current password.")
    else:
        raise InvalidInput("code", "Type a current code from your app, or your password.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit.record("user.2fa_disable", user, object_repr=user.get_username(), before={"two_factor": True},
                     after={"two_factor": False})
    return user


def reset_two_factor(user: AbstractBaseUser, *, by: AbstractBaseUser) -> AbstractBaseUser:
    """An admin turns off the two-factor of someone who lost their phone; they log in with the password
    alone and can set it up again."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.pk == by.pk:
        raise InvalidInput("user", "Turn off your own two-factor authentication on your account page.")
    with transaction.atomic():
        _may_manage(by, user, "user")
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise InvalidInput("user", f"{user.get_username()} has no two-factor authentication to reset.")
        TOTPDevice.objects.filter(user=user).delete()
        audit.record("user.2fa_reset", user, object_repr=user.get_username(), before={"two_factor": True},
                     after={"two_factor": False})
    return user
