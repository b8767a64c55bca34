"""The status models in Django's admin, read-only: every change goes through the services (the API,
the console, the CLI), which validate it, keep its history and republish the public pages."""

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Component,
    ComponentGroup,
    Incident,
    IncidentUpdate,
    Page,
    StatusOverride,
)


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Page)
class PageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "url", "time_zone", "change_seq", "updated_at")


@admin.register(ComponentGroup)
class ComponentGroupAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "public_id", "position", "hidden")


@admin.register(Component)
class ComponentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "group", "public_id", "position", "hidden", "third_party")
    list_filter = ("group", "hidden", "third_party")
    list_select_related = ("group",)
    search_fields = ("name", "public_id")


@admin.register(StatusOverride)
class StatusOverrideAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("component", "status", "reason", "set_at", "cleared_at")
    list_select_related = ("component__group",)


class UpdateInline(ReadOnly, admin.TabularInline):
    model = IncidentUpdate
    fields = ("display_at", "status", "body", "created_at", "deliver_notifications")
    readonly_fields = fields
    extra = 0


@admin.register(Incident)
class IncidentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("name", "kind", "status", "impact", "started_at", "resolved_at", "retroactive")
    list_filter = ("kind", "status", "impact")
    search_fields = ("name", "public_id")
    date_hierarchy = "created_at"
    inlines = (UpdateInline,)
