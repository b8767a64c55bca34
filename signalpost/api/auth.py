"""Bearer-token authentication and scopes for the management API.

A token is read from `Authorization: Bearer <token>` once per request and kept on the request, so the
idempotency layer (which runs before ninja's own auth) and the operation share one lookup.
"""

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from signalpost.accounts.models import ApiToken
from signalpost.accounts.tokens import bearer_token


class TokenAuth(HttpBearer):
    """Bearer token with at least `scope` (read < write < admin; probe apart, see ApiToken.allows).
    Bearer requests carry no cookie,
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
probe = TokenAuth("probe")
