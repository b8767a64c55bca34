"""Bearer-token authentication and scopes for the management API.

A token is read from `Authorization: Bearer <token>` once per request and kept on the request, so the
idempotency layer (which runs before ninja's own auth) and the operation share one lookup.
"""

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from .models import ApiToken
from .tokens import authenticate

_UNSET = object()


def bearer_token(request: HttpRequest) -> ApiToken | None:
    """The valid, unrevoked token the request carries, or None."""
    cached = getattr(request, "_signalpost_token", _UNSET)
    if cached is not _UNSET:
        return cached
    token = None
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and plain.strip():
        token = authenticate(plain.strip())
    request._signalpost_token = token
    return token


class TokenAuth(HttpBearer):
    """Bearer token with at least `scope` (read < write < admin). Bearer requests carry no cookie,
    so no CSRF check applies: ninja only checks CSRF for cookie-based auth."""

    def __init__(self, scope: str = "read"):
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiToken:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            raise AuthenticationError(message="missing token: send the header Authorization: Bearer <token>")
        if header.partition(" ")[0].lower() != "bearer":
            raise AuthenticationError(message="the Authorization header must be Bearer <token>")
        token = bearer_token(request)
        if token is None:
            raise AuthenticationError(message="this token is not valid, or has been revoked")
        if not token.allows(self.scope):
            raise AuthorizationError(message=f"this token's scope is {token.scope}; this needs {self.scope}")
        return token

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:  # required by HttpBearer
        return bearer_token(request)


read = TokenAuth("read")
write = TokenAuth("write")
admin = TokenAuth("admin")
