"""API tokens: made by an admin (console or CLI), shown once, stored as a digest, revocable."""

import hashlib
import secrets

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from signalpost.errors import InvalidInput

from . import audit
from .models import ApiToken, Scope

TOKEN_PREFIX = "sp_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, scope: str, created_by=None) -> tuple[ApiToken, str]:
    """A new token; the plain text is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if scope not in Scope.values:
        raise InvalidInput("scope", f'"{scope}" is not one of: {", ".join(Scope.values)}')
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if len(name) > 200:
        raise InvalidInput("name", "must be at most 200 characters")
    with transaction.atomic():
        token = ApiToken.objects.create(name=name, scope=scope, prefix=plain[:10], digest=digest(plain),
                                        created_by=created_by)
        audit.record("token.create", token, object_repr=str(token), after={"name": name, "scope": scope})
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    token = ApiToken.objects.filter(digest=digest(plain), revoked_at__isnull=True).first()
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


_UNSET = object()


def bearer_token(request: HttpRequest) -> ApiToken | None:
    """The valid, unrevoked token a request carries in `Authorization: Bearer <token>`, or None. Read
    once per request and kept on it: the audit actor, the idempotency layer and the API's own
    authentication share one lookup."""
    cached = getattr(request, "_signalpost_token", _UNSET)
    if cached is not _UNSET:
        return cached
    token = None
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and plain.strip():
        token = authenticate(plain.strip())
    request._signalpost_token = token
    return token


def revoke_token(token: ApiToken) -> bool:
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit.record("token.revoke", token, object_repr=str(token), before={"revoked": False},
                         after={"revoked": True})
    return bool(revoked)
