from django.urls import path

from . import (
    action_items,
    postmortem_templates,
    postmortem_workflow,
    postmortems,
    reliability,
)

# The postmortem screens, action items across postmortems and the reliability report. Fixed paths
# (new, kinds) come before the <public_id> ones, which would otherwise swallow them.
PM = "postmortems/<str:public_id>"

urlpatterns = [
    path("postmortems/", postmortems.postmortem_list, name="postmortems"),
    path("postmortems/new", postmortems.postmortem_new, name="postmortem_new"),
    path(PM, postmortems.postmortem_detail, name="postmortem"),
    path(f"{PM}/save", postmortems.postmortem_save, name="postmortem_save"),
    path(f"{PM}/figures", postmortems.postmortem_figures, name="postmortem_figures"),
    path(f"{PM}/timeline/add", postmortems.entry_add, name="postmortem_entry_add"),
    path(f"{PM}/timeline/prefill", postmortems.timeline_prefill, name="postmortem_prefill"),
    path(f"{PM}/timeline/<str:entry_id>/edit", postmortems.entry_edit, name="postmortem_entry_edit"),
    path(f"{PM}/timeline/<str:entry_id>/remove", postmortems.entry_remove, name="postmortem_entry_remove"),
    path(f"{PM}/items/add", postmortems.item_add, name="postmortem_item_add"),
    path(f"{PM}/items/<str:item_id>/edit", postmortems.item_edit, name="postmortem_item_edit"),
    path(f"{PM}/items/<str:item_id>/remove", postmortems.item_remove, name="postmortem_item_remove"),
    path(f"{PM}/request-review", postmortem_workflow.request_review, name="postmortem_request_review"),
    path(f"{PM}/approve", postmortem_workflow.approve, name="postmortem_approve"),
    path(f"{PM}/publish", postmortem_workflow.publish, name="postmortem_publish"),
    path(f"{PM}/unpublish", postmortem_workflow.unpublish, name="postmortem_unpublish"),
    path(f"{PM}/versions", postmortem_workflow.versions, name="postmortem_versions"),
    path(f"{PM}/markdown", postmortem_workflow.markdown, name="postmortem_markdown"),
    path(f"{PM}/print", postmortem_workflow.print_view, name="postmortem_print"),
    path("action-items/", action_items.action_item_list, name="action_items"),
    path("action-items/kinds/", action_items.kind_list, name="action_item_kinds"),
    path("action-items/kinds/add", action_items.kind_add, name="action_item_kind_add"),
    path("action-items/kinds/<str:kind_id>/rename", action_items.kind_rename, name="action_item_kind_rename"),
    path("action-items/kinds/<str:kind_id>/move", action_items.kind_move, name="action_item_kind_move"),
    path("action-items/kinds/<str:kind_id>/delete", action_items.kind_delete, name="action_item_kind_delete"),
    path("action-items/<str:item_id>/update", action_items.action_item_update, name="action_item_update"),
    path("reliability/", reliability.reliability, name="reliability"),
    path("reliability/public", reliability.reliability_public, name="reliability_public"),
    path("postmortem-templates/", postmortem_templates.template_list, name="postmortem_templates"),
    path("postmortem-templates/new", postmortem_templates.template_new, name="postmortem_template_new"),
    path("postmortem-templates/<str:template_id>/edit", postmortem_templates.template_edit,
         name="postmortem_template_edit"),
    path("postmortem-templates/<str:template_id>/delete", postmortem_templates.template_delete,
         name="postmortem_template_delete"),
]
