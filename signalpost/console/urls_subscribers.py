from django.urls import path

from . import deliveries, email_templates, subscribers, team_alerts

# Fixed paths (new, import, export) come before <public_id>, which would otherwise swallow them.
urlpatterns = [
    path("subscribers/", subscribers.subscriber_list, name="subscribers"),
    path("subscribers/new", subscribers.subscriber_new, name="subscriber_new"),
    path("subscribers/import", subscribers.subscriber_import, name="subscriber_import"),
    path("subscribers/export.csv", subscribers.subscriber_export, name="subscriber_export"),
    path("subscribers/<str:public_id>", subscribers.subscriber_detail, name="subscriber"),
    path("subscribers/<str:public_id>/remove", subscribers.subscriber_remove, name="subscriber_remove"),
    path("subscribers/<str:public_id>/resume", subscribers.subscriber_resume, name="subscriber_resume"),
    path("incidents/<str:public_id>/deliveries", deliveries.incident_deliveries, name="incident_deliveries"),
    path("maintenance/<str:public_id>/deliveries", deliveries.maintenance_deliveries, name="maintenance_deliveries"),
    path("deliveries/failed", deliveries.dead_letters, name="dead_letters"),
    path("deliveries/retry", deliveries.deliveries_retry, name="deliveries_retry"),
    path("deliveries/<int:delivery_id>", deliveries.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/retry", deliveries.delivery_retry, name="delivery_retry"),
    path("team-alerts/", team_alerts.team_alerts, name="team_alerts"),
    path("team-alerts/new", team_alerts.team_channel_new, name="team_channel_new"),
    path("team-alerts/<int:channel_id>/kinds", team_alerts.team_channel_kinds, name="team_channel_kinds"),
    path("team-alerts/<int:channel_id>/test", team_alerts.team_channel_test, name="team_channel_test"),
    path("team-alerts/<int:channel_id>/remove", team_alerts.team_channel_remove, name="team_channel_remove"),
    path("email-templates/", email_templates.email_templates, name="email_templates"),
    path("email-templates/<str:kind>", email_templates.email_template, name="email_template"),
    path("email-templates/<str:kind>/reset", email_templates.email_template_reset, name="email_template_reset"),
]
