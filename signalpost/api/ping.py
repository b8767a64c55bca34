"""The heartbeat endpoints a job calls: `/ping/<uuid>` (success), `/ping/<uuid>/start`, `/ping/<uuid>/fail`
and `/ping/<uuid>/<exit status>`. No login and no CSRF token (a cron line with curl must do), GET, POST
or HEAD alike, and a short plain-text answer: the uuid is the capability. What a ping means is in
signalpost.monitors.heartbeat."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from signalpost.monitors import heartbeat


def _answer(answer: heartbeat.Answer) -> HttpResponse:
    return HttpResponse(answer.text + "\n", status=answer.status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request: HttpRequest, key, signal: str = heartbeat.SUCCESS) -> HttpResponse:
    return _answer(heartbeat.receive(key, signal))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST", "HEAD"])
def ping_exit_status(request: HttpRequest, key, status: str) -> HttpResponse:
    if int(status) > 255:
        return HttpResponse("an exit status is a number from 0 to 255\n", status=400,
                            content_type="text/plain; charset=utf-8")
    return _answer(heartbeat.receive(key, heartbeat.SUCCESS, exit_status=int(status)))
