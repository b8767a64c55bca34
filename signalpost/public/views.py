"""The public pages. They are rendered once per change into the published snapshot, not per reader:
nothing here may depend on the request beyond its URL (no session, no CSRF token, no user)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from signalpost.status import services
from signalpost.errors import NotFound
from signalpost.status.models import Kind

from . import pages


def index(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "public/index.html", pages.index_context(timezone.now()))


def history(request: HttpRequest, month: str | None = None) -> HttpResponse:
    year_month = None
    if month is not None:
        year_month = pages.parse_month(month)
        if year_month is None:
            raise Http404(f'"{month}" is not a month')
    context = pages.history_context(timezone.now(), *(year_month or (None, None)))
    return TemplateResponse(request, "public/history.html", context)


def not_found_page(request: HttpRequest) -> HttpResponse:
    """The page readers get for an address the snapshot does not hold (an unknown incident, a month
    outside the history): published as /404.html, which the front answers with status 404 without
    asking Django, and which a static host serves for its own 404s."""
    snapshot_render = getattr(request, "is_snapshot_render", False)
    return TemplateResponse(request, "public/not_found.html", pages.not_found_context(timezone.now()),
                            status=200 if snapshot_render else 404)


def _event_page(request: HttpRequest, public_id: str, kind: str) -> HttpResponse:
    try:
        incident = services.find_incident(public_id, kind=kind)
    except NotFound as error:
        raise Http404(str(error)) from None
    return TemplateResponse(request, "public/event.html", pages.event_context(incident, timezone.now()))


def incident_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return _event_page(request, public_id, Kind.INCIDENT)


def maintenance_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return _event_page(request, public_id, Kind.MAINTENANCE)
