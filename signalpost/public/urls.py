from django.urls import path, re_path

from . import api_v2, feeds, postmortem_pages, subscribe, views

urlpatterns = [
    path("", views.index, name="index"),
    path("history", views.history, name="history"),
    re_path(r"^history/(?P<month>\d{4}-\d{2})$", views.history, name="history_month"),
    path("incidents/<str:public_id>", views.incident_page, name="incident"),
    path("maintenance/<str:public_id>", views.maintenance_page, name="maintenance"),
    re_path(r"^postmortems/(?P<public_id>[0-9a-z]+)\.md$", postmortem_pages.postmortem_markdown,
            name="postmortem_markdown"),
    re_path(r"^postmortems/(?P<public_id>[0-9a-z]+)$", postmortem_pages.postmortem_page, name="postmortem"),
    path("reliability", postmortem_pages.reliability_page, name="reliability"),
    path("history.atom", feeds.history_atom, name="history_atom"),
    path("history.rss", feeds.history_rss, name="history_rss"),
    path("maintenance.ics", feeds.maintenance_calendar, name="maintenance_ics"),
    re_path(r"^components/(?P<public_id>[0-9a-z]+)/history\.atom$", feeds.component_atom, name="component_atom"),
    re_path(r"^components/(?P<public_id>[0-9a-z]+)/history\.rss$", feeds.component_rss, name="component_rss"),
    path("subscribe", subscribe.subscribe, name="subscribe"),
    path("subscriptions/confirm/<str:token>", subscribe.confirm, name="subscription_confirm"),
    path("subscriptions/<str:token>/unsubscribe", subscribe.unsubscribe, name="subscription_unsubscribe"),
    path("subscriptions/<str:token>", subscribe.manage, name="subscription_manage"),
    path("404.html", views.not_found_page, name="not_found"),
    path("api/v2/summary.json", api_v2.summary, name="v2_summary"),
    path("api/v2/status.json", api_v2.status, name="v2_status"),
    path("api/v2/components.json", api_v2.components, name="v2_components"),
    path("api/v2/incidents.json", api_v2.incidents, name="v2_incidents"),
    path("api/v2/incidents/unresolved.json", api_v2.incidents_unresolved, name="v2_incidents_unresolved"),
    path("api/v2/scheduled-maintenances.json", api_v2.scheduled_maintenances, name="v2_maintenances"),
    path("api/v2/scheduled-maintenances/upcoming.json", api_v2.scheduled_maintenances_upcoming, name="v2_maintenances_upcoming"),
    path("api/v2/scheduled-maintenances/active.json", api_v2.scheduled_maintenances_active, name="v2_maintenances_active"),
]
