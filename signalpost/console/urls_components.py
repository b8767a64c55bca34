from django.urls import path

from . import components, page_settings, sla

# Fixed paths (new, reorder, move) come before <public_id>, which would otherwise swallow them.
urlpatterns = [
    path("components/", components.component_list, name="components"),
    path("components/new", components.component_new, name="component_new"),
    path("components/reorder", components.components_reorder, name="components_reorder"),
    path("components/move", components.components_move, name="components_move"),
    path("components/<str:public_id>", components.component_detail, name="component"),
    path("components/<str:public_id>/edit", components.component_edit, name="component_edit"),
    path("components/<str:public_id>/visibility", components.component_visibility, name="component_visibility"),
    path("components/<str:public_id>/sla", sla.sla_report, name="component_sla"),
    path("components/<str:public_id>/sla.csv", sla.sla_report_csv, name="component_sla_csv"),
    path("components/<str:public_id>/remove", components.component_remove, name="component_remove"),
    path("components/<str:public_id>/override", components.component_override, name="component_override"),
    path("components/<str:public_id>/override/clear", components.component_override_clear,
         name="component_override_clear"),
    path("groups/new", components.group_new, name="group_new"),
    path("groups/<str:public_id>", components.group_detail, name="group"),
    path("groups/<str:public_id>/edit", components.group_edit, name="group_edit"),
    path("groups/<str:public_id>/visibility", components.group_visibility, name="group_visibility"),
    path("groups/<str:public_id>/remove", components.group_remove, name="group_remove"),
    path("settings", page_settings.page_settings, name="settings"),
]
