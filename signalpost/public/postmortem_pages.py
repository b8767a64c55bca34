"""The public pages of a postmortem: /postmortems/<id> and its Markdown twin /postmortems/<id>.md; and
the reliability report at /reliability when the team publishes it (postmortems/public_report.py holds
its switch).

They are rendered into the published snapshot like incident pages (snapshot.py), so they depend
on nothing but the database. Only a published postmortem is shown; a draft is not found. One that was
published and then withdrawn says so, so that its address stops showing the text it had."""

from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from signalpost.errors import NotFound
from signalpost.postmortems import public_report, reading, report, services
from signalpost.postmortems.export import figure_lines, to_markdown
from signalpost.postmortems.models import Postmortem
from signalpost.postmortems.report_charts import report_charts
from signalpost.presentation.zone import page_zone
from signalpost.status import services as status_services
from signalpost.status.layout import components_in_page_order

MARKDOWN_TYPE = "text/markdown; charset=utf-8"


def _shown(public_id: str) -> Postmortem:
    try:
        postmortem = services.get_postmortem(public_id)
    except NotFound as error:
        raise Http404(str(error)) from None
    if not postmortem.is_published and postmortem.withdrawn_at is None:
        raise Http404("this postmortem is not published")
    return postmortem


def _context(**extra) -> dict:
    page = status_services.get_page()
    return {"page": page, "page_tz": page_zone(page), "now": timezone.now(), **extra}


def postmortem_page(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = _shown(public_id)
    if not postmortem.is_published:
        return TemplateResponse(request, "public/postmortem_withdrawn.html", _context(
            postmortem=postmortem, incidents=services.incidents_of(postmortem)))
    view = reading.build(postmortem)
    return TemplateResponse(request, "public/postmortem.html", _context(doc=view, pm=postmortem,
                                                                        numbers=bool(figure_lines(view))))


def postmortem_markdown(request: HttpRequest, public_id: str) -> HttpResponse:
    postmortem = _shown(public_id)
    if not postmortem.is_published:
        return HttpResponse("# Postmortem withdrawn\n\nThe team withdrew this postmortem.\n",
                            content_type=MARKDOWN_TYPE)
    return HttpResponse(to_markdown(postmortem), content_type=MARKDOWN_TYPE)


def reliability_page(request: HttpRequest) -> HttpResponse:
    """The reliability report for readers: not found unless an admin switched it on."""
    context = reliability_context()
    if context is None:
        raise Http404("the reliability report is not public")
    return TemplateResponse(request, "public/reliability.html", context)


def reliability_context(now: datetime | None = None) -> dict | None:
    """What /reliability shows, or None when the report is not public: the console's report over the
    last N months, for the components readers see."""
    settings = public_report.report_settings()
    if not settings.public:
        return None
    now = now or timezone.now()
    page = status_services.get_page()
    zone = page_zone(page)
    first, last = report.default_period(now, zone, settings.months)
    months = report.period(first, last, zone)
    built = report.build(months, zone, now, components=components_in_page_order(visible_only=True))
    return {
        "page": page, "page_tz": zone, "now": now, "report": built, "charts": report_charts(built),
        "zone": zone, "months": settings.months, "period_ongoing": months[-1].end > now,
        "period_label": f"{months[0].label} to {months[-1].label}",
    }
