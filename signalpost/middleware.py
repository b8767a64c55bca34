"""What every request meets before a view: a path or query parameter the databases cannot keep is
refused, and /api/v1 answers every refusal and failure in JSON (404, 405, 413, 415, 500, 503). Bodies are
JSON, except for the few operations named in OTHER_BODIES (a CSV import)."""

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from signalpost.status.ranges import text_problem

log = logging.getLogger("signalpost.api")

API_PREFIX = "/api/v1"
RETRY_AFTER_SECONDS = 5  # a database that cannot be reached: how soon a client may try again
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
REFUSED_METHODS = ("TRACE", "CONNECT")
# The operations that take a body other than JSON: each checks its own media type (after the token).
OTHER_BODIES = {API_PREFIX + "/subscribers/import"}


def is_api(request: HttpRequest) -> bool:
    return request.path_info == API_PREFIX or request.path_info.startswith(API_PREFIX + "/")


def api_error(status: int, detail: str, field: str | None = None, message: str | None = None) -> JsonResponse:
    body: dict = {"detail": detail}
    if field is not None:
        body["errors"] = [{"field": field, "message": message or detail}]
    return JsonResponse(body, status=status)


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def unstorable_request(get_response: Callable[[HttpRequest], HttpResponse]):
    """A NUL character in the path names nothing (404); in a query parameter it is refused (400). The
    databases cannot compare such a text (PostgreSQL refuses it outright), and no object's id or name
    holds one. Lone surrogates cannot arrive: Django decodes paths and queries as UTF-8, replacing what is
    not."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            if is_api(request):
                return api_error(404, f"no such API endpoint or object: {request.path_info!r}")
            raise Http404("no such page")
        for name, values in request.GET.lists():
            for value in (name, *values):
                problem = text_problem(value)
                if problem is not None:
                    field = name if text_problem(name) is None else "query"
                    if is_api(request):
                        return api_error(400, f"Invalid query parameter: {field} {problem}.", field, problem)
                    return HttpResponse(f"{field} {problem}\n", status=400, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware


def api_errors(get_response: Callable[[HttpRequest], HttpResponse]):
    """/api/v1 in JSON, whatever happens: TRACE refused (405), HEAD answered as GET without the body, a
    body above DATA_UPLOAD_MAX_MEMORY_SIZE refused (413), a body that is not JSON refused (415), and
    Django's own 404 and 405 pages replaced by JSON."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return get_response(request)
        method = request.method
        if method in REFUSED_METHODS:
            response = api_error(405, f"{method} is not allowed here")
            response["Allow"] = "GET, HEAD, POST, PATCH, PUT, DELETE"
            return response
        if method in BODY_METHODS:
            refusal = _refuse_body(request)
            if refusal is not None:
                return refusal
        if method == "HEAD":
            request.method = "GET"
            response = get_response(request)
            request.method = "HEAD"
            response = _as_json(response)
            if not response.streaming:
                length = str(len(response.content))
                response.content = b""
                response["Content-Length"] = length
            return response
        return _as_json(get_response(request))

    return middleware


def _refuse_body(request: HttpRequest) -> HttpResponse | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return api_error(400, "The Content-Length header is not a number.", "Content-Length", "is not a number")
    too_big = api_error(413, f"The request body is larger than {limit} bytes.", "body",
                        f"must be at most {limit} bytes")
    if limit is not None and declared > limit:
        return too_big
    try:
        body = request.body
    except RequestDataTooBig:
        return too_big
    if body and request.path_info not in OTHER_BODIES and not _is_json(request.content_type or ""):
        given = request.META.get("CONTENT_TYPE") or "none"
        return api_error(415, f"The request body must be JSON (Content-Type: application/json), not {given}.",
                         "Content-Type", "must be application/json")
    return None


def _as_json(response: HttpResponse) -> HttpResponse:
    if response.status_code in (404, 405) and not _is_json(response.get("Content-Type", "")):
        if response.status_code == 404:
            return api_error(404, "no such API endpoint")
        allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        replaced = api_error(405, f"this method is not allowed here; allowed: {', '.join(allowed) or 'none'}")
        replaced["Allow"] = ", ".join(allowed)
        return replaced
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON for /api/v1, 503 with Retry-After when the database cannot be reached."""
    error = sys.exc_info()[1]
    unreachable = isinstance(error, (OperationalError, InterfaceError))
    if not is_api(request):
        if unreachable:
            response = HttpResponse("The database cannot be reached; try again shortly.\n", status=503,
                                    content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return defaults.server_error(request)
    if unreachable:
        response = api_error(503, "The database cannot be reached; try again shortly.")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(error, DatabaseError):
        log.error("database error on %s %s: %s", request.method, request.path, error)
    return api_error(500, "The server failed to answer this request; the error is logged.")
