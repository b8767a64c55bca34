from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from signalpost.accounts.throttle import throttled_login
from signalpost.api.views import api

admin.site.login = throttled_login(admin.site.login)
admin.site.site_header = "Signalpost administration"



def api_not_found(request, rest: str = ""):
    return JsonResponse({"detail": f"no such API endpoint: {request.path}"}, status=404)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("signalpost.public.urls")),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
