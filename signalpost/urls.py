from django.http import HttpResponseRedirect, JsonResponse
from django.urls import include, path, re_path

from signalpost.api import ping
from signalpost.api.views import api


handler500 = "signalpost.middleware.server_error"


def api_not_found(request, rest: str = ""):
    return JsonResponse({"detail": f"no such API endpoint: {request.path}"}, status=404)


def to_console(request, rest: str = ""):
    return HttpResponseRedirect("/console/")


urlpatterns = [
    path("console/", include("signalpost.console.urls")),
    path("api/v1/", api.urls),
    # Heartbeats: a job reports in (signalpost/monitors/heartbeat.py).
    path("ping/<uuid:key>", ping.ping, name="ping"),
    path("ping/<uuid:key>/start", ping.ping, {"signal": "start"}, name="ping-start"),
    path("ping/<uuid:key>/fail", ping.ping, {"signal": "fail"}, name="ping-fail"),
    re_path(r"^ping/(?P<key>[0-9a-fA-F-]{36})/(?P<status>[0-9]{1,3})$", ping.ping_exit_status, name="ping-exit"),
    path("", include("signalpost.public.urls")),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    re_path(r"^admin/(?P<rest>.*)$", to_console),  # the console replaced Django's admin
]
