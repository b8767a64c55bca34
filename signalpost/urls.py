from django.contrib import admin
from django.urls import include, path

from signalpost.api.views import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("signalpost.public.urls")),
]
