"""Who may do what (roles), how people join (invitations), and the record of every write (audit)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"  # reads the console
    RESPONDER = "responder", "Responder"  # incidents, maintenance, overrides, postmortems
    ADMIN = "admin", "Admin"  # also components, page settings, users, tokens, the audit log
    OWNER = "owner", "Owner"  # also other admins and owners


# A role includes those before it.
ROLE_RANK = {role: rank for rank, role in enumerate(Role.values)}


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved on to end every session of the person (see sessions.py).
    session_generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"


class Invitation(models.Model):
    """A link that lets one person create an account with a given role. Only a digest of the link's
    token is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    digest = models.CharField(max_length=64, unique=True)
    # The link's token is an HMAC of this nonce under the installation's secret key, so that the mailer
    # can write the link later without the token being stored ("" for invitations made before).
    nonce = models.CharField(max_length=64, blank=True, default="")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class LoginFailure(models.Model):
    """A failed console login, kept briefly to throttle password guessing (shared by all instances)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("audit entries cannot be changed")

    def delete(self):
        raise PermissionDenied("audit entries cannot be deleted")


class AuditEvent(models.Model):
    """One write: who (a user, an API token, the CLI on the server, the worker), what (action and object),
    the change (before/after), from where and when. Append-only: the model refuses updates and deletes,
    and a database trigger refuses them too (see the migration)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=8)  # user, token, cli, system
    actor = models.CharField(max_length=200)  # as it was named at the time (a user may be renamed later)
    actor_user_id = models.IntegerField(null=True, blank=True, db_index=True)
    actor_token_id = models.IntegerField(null=True, blank=True)
    source = models.CharField(max_length=16)  # console, api, cli, worker
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)  # e.g. incident.open, component.update
    object_type = models.CharField(max_length=32, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField(max_length=300, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("audit entries cannot be deleted")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"
    # A remote probe's: fetching the monitors and sending results, nothing else (not even reading). A
    # probe's machine sits outside, so its token must not be able to change incidents or the page.
    PROBE = "probe", "Probe"


# A scope includes those before it. The probe scope stands apart: see ApiToken.allows.
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}


class ApiToken(models.Model):
    """A bearer token for the management API. Only a SHA-256 digest is stored: the token is random
    (256 bits), so a fast digest is enough and a leaked database reveals no usable token."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, db_index=True)  # shown in lists to tell tokens apart
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        db_table = "api_apitoken"  # made by the API app before tokens moved here with the accounts

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope})"

    def allows(self, scope: str) -> bool:
        """Whether the token may use an operation needing `scope`. The probe operations take a probe
        token or an admin one (an admin may run a probe with its own token); a probe token takes
        nothing else."""
        if self.revoked_at is not None:
            return False
        if scope == Scope.PROBE:
            return self.scope in (Scope.PROBE, Scope.ADMIN)
        if self.scope == Scope.PROBE:
            return False
        return SCOPE_RANK[self.scope] >= SCOPE_RANK[scope]
