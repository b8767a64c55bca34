from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import audit
from .throttle import client_address
from .tokens import bearer_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def audit_actor(get_response: Callable[[HttpRequest], HttpResponse]):
    """Name the actor of every write request, for the audit entries its services record: the API token
    for /api/v1, the signed-in user for the console."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS:
            return get_response(request)
        address = client_address(request)
        actor = None
        if request.path.startswith("/api/"):
            token = bearer_token(request)
            if token is not None:
                actor = audit.token_actor(token, address)
        elif request.user.is_authenticated:
            actor = audit.user_actor(request.user, "console", address)
        if actor is None:  # a visitor: logging in, resetting a password, accepting an invitation
            actor = audit.Actor(kind="visitor", name="visitor", source="console", address=address)
        with audit.acting(actor):
            return get_response(request)

    return middleware
