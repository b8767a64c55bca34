"""What the dashboard says of the work behind the page: how far the published snapshot is behind the
record, the events a consumer fails on (a page that does not render, a mail server that refuses), and
whether each job of the worker is alive. An event set aside after its attempts can be retried here."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from signalpost.accounts.roles import role_required
from signalpost.errors import NotFound
from signalpost.events import consumers, health

from . import services

CONSUMER_LABELS = {"publisher": "Publishing the public pages", "mailer": "Console e-mail"}


def background_context() -> dict:
    now = timezone.now()
    backlogs = [health.backlog(c.name, now) for c in consumers.registered()]
    beats = {job.job: job for job in health.jobs(now)}
    publisher = next((b for b in backlogs if b.consumer == "publisher"), None)
    return {
        "publisher_backlog": publisher,
        "backlogs": [{"label": CONSUMER_LABELS.get(b.consumer, b.consumer), "backlog": b} for b in backlogs],
        "failing": [(CONSUMER_LABELS.get(b.consumer, b.consumer), f) for b in backlogs for f in b.failing],
        "jobs": sorted(beats.values(), key=lambda j: j.job),
    }


@role_required("responder")
@require_POST
def event_retry(request: HttpRequest, handling_id: int) -> HttpResponse:
    try:
        services.retry_event(handling_id)
    except NotFound as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The event is back in the queue; the worker takes it up at once.")
    return redirect("console:dashboard")
