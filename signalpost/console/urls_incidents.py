from django.urls import path

from . import incidents, maintenance, message_templates

# Fixed paths (new, backfill) come before <public_id>, which would otherwise swallow them.
urlpatterns = [
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/new", incidents.incident_new, name="incident_new"),
    path("incidents/backfill", incidents.incident_backfill, name="incident_backfill"),
    path("incidents/<str:public_id>", incidents.incident_detail, name="incident"),
    path("incidents/<str:public_id>/update", incidents.incident_update, name="incident_update"),
    path("incidents/<str:public_id>/resolve", incidents.incident_resolve, name="incident_resolve"),
    path("incidents/<str:public_id>/edit", incidents.incident_edit, name="incident_edit"),
    path("updates/<str:public_id>/edit", incidents.update_edit, name="update_edit"),
    path("maintenance/", maintenance.maintenance_list, name="maintenance"),
    path("maintenance/new", maintenance.maintenance_new, name="maintenance_new"),
    path("maintenance/<str:public_id>", maintenance.maintenance_detail, name="maintenance_detail"),
    path("maintenance/<str:public_id>/update", maintenance.maintenance_update, name="maintenance_update"),
    path("maintenance/<str:public_id>/start", maintenance.maintenance_start, name="maintenance_start"),
    path("maintenance/<str:public_id>/complete", maintenance.maintenance_complete, name="maintenance_complete"),
    path("maintenance/<str:public_id>/cancel", maintenance.maintenance_cancel, name="maintenance_cancel"),
    path("maintenance/<str:public_id>/impact", maintenance.maintenance_impact, name="maintenance_impact"),
    path("maintenance/<str:public_id>/reminders", maintenance.maintenance_reminders, name="maintenance_reminders"),
    path("templates/", message_templates.template_list, name="templates"),
    path("templates/new", message_templates.template_new, name="template_new"),
    path("templates/<int:pk>/edit", message_templates.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete", message_templates.template_delete, name="template_delete"),
]
