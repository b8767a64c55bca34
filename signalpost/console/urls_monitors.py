from django.urls import path

from . import monitors

# "new" comes before <public_id>, which would otherwise swallow it.
urlpatterns = [
    path("monitors/", monitors.monitor_list, name="monitors"),
    path("monitors/new", monitors.monitor_new, name="monitor_new"),
    path("monitors/<str:public_id>", monitors.monitor_detail, name="monitor"),
    path("monitors/<str:public_id>/edit", monitors.monitor_edit, name="monitor_edit"),
    path("monitors/<str:public_id>/pause", monitors.monitor_pause, name="monitor_pause"),
    path("monitors/<str:public_id>/resume", monitors.monitor_resume, name="monitor_resume"),
    path("monitors/<str:public_id>/remove", monitors.monitor_remove, name="monitor_remove"),
    path("monitors/<str:public_id>/publish-draft", monitors.monitor_publish_draft, name="monitor_publish_draft"),
]
