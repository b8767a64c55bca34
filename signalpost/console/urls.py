"""The responders' console, under /console/. Each area has its own URL module; every view in them
declares the least role it needs (signalpost.accounts.roles.role_required)."""

from django.urls import include, path

from . import background, views

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("preview", views.preview, name="preview"),
    path("events/<int:handling_id>/retry", background.event_retry, name="event_retry"),
    path("", include("signalpost.console.urls_incidents")),
    path("", include("signalpost.console.urls_components")),
    path("", include("signalpost.console.urls_postmortems")),
    path("", include("signalpost.console.urls_accounts")),
    path("", include("signalpost.console.urls_subscribers")),
    path("", include("signalpost.console.urls_monitors")),
]
