"""`Idempotency-Key` on POST: a client that retries (a timeout, a dropped connection, a chat-ops
script run twice) gets the first response again instead of a second incident.

The stored response is written in the same transaction as the change it describes, so either both
exist or neither does. Two concurrent requests with one key both run, but only one can insert the
key (a unique constraint); the other's transaction, with everything it wrote, is rolled back and it
answers with the winner's stored response.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.decorators import decorate_view
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from .auth import bearer_token
from .models import ApiToken, IdempotentRequest

log = logging.getLogger("signalpost.api")

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = IdempotentRequest._meta.get_field("key").max_length
# Visible ASCII characters: a UUID, a ULID, "deploy-2026-11-25-1" (spaces only inside, none at the ends).
KEY_PATTERN = rf"^[\x21-\x7e]([\x20-\x7e]{{0,{MAX_KEY_LENGTH - 2}}}[\x21-\x7e])?$"
_KEY = re.compile(KEY_PATTERN)


class _KeyTaken(Exception):
    """Another request stored a response under this key first."""


def _fingerprint(request: HttpRequest) -> str:
    """The request as a digest: method, path and body, the body compared as JSON so that key order or
    whitespace does not make a retry look like a different request."""
    try:
        body = json.dumps(json.loads(request.body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the operation refuses it with a 400
        body = request.body
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(), body)).hexdigest()


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"detail": f"{HEADER} {message}", "errors": [{"field": HEADER, "message": message}]}, status=status
    )


def _replay(stored: IdempotentRequest, fingerprint: str) -> HttpResponse:
    if stored.request_digest != fingerprint:
        return _refuse(422, "was already used for a different request; send a new key for a new request")
    response = HttpResponse(bytes(stored.response_body), status=stored.status_code, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


def _stored(token: ApiToken, key: str) -> IdempotentRequest | None:
    return IdempotentRequest.objects.filter(token=token, key=key).first()


def _replay_or_store(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps a ninja operation's `run`: the whole operation, from auth to the rendered response, runs
    inside the transaction that stores the response."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get(HEADER)
        token = bearer_token(request) if key is not None else None
        if token is None:  # no key; or no valid token, which the operation refuses with a 401
            return run(request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            return _refuse(422, f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID, for example)")
        fingerprint = _fingerprint(request)
        stored = _stored(token, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                # Only a success is remembered: a refused request wrote nothing, so it may be retried
                # (corrected or not) with the same key.
                if 200 <= response.status_code < 300:
                    try:
                        with transaction.atomic():
                            IdempotentRequest.objects.create(
                                token=token, key=key, method=request.method, path=request.path[:500],
                                request_digest=fingerprint, status_code=response.status_code,
                                response_body=response.content,
                            )
                    except IntegrityError:
                        raise _KeyTaken from None
        except _KeyTaken:
            log.info("idempotency key %r of token %s was stored by a concurrent request; this one is undone",
                     key, token.prefix)
            stored = _stored(token, key)
            if stored is None:
                return _refuse(409, "is being used by a request still in progress; retry shortly")
            return _replay(stored, fingerprint)
        return response

    return wrapper


_HEADER_PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    "description": "Makes a retry safe: the same key and body return the first response again "
                   "(with `Idempotent-Replayed: true`) and create nothing; keys are per token.",
}


def _document(operation: Operation) -> None:
    operation.openapi_extra = {**(operation.openapi_extra or {}), "parameters": [_HEADER_PARAMETER]}


def idempotent(handler: Callable) -> Callable:
    """Put under `@api.post(...)`: the operation honours, and documents, the Idempotency-Key header."""
    handler = decorate_view(_replay_or_store)(handler)
    contribute_operation_callback(handler, _document)
    return handler

