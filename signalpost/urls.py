from django.contrib import admin
from django.urls import include, path

from signalpost.accounts.throttle import throttled_login
from signalpost.api.views import api

admin.site.login = throttled_login(admin.site.login)
admin.site.site_header = "Signalpost administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("signalpost.public.urls")),
]
