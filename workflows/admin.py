"""Django admin for support: what the workflow action did for each HubSpot callback.
Read-only: an execution is HubSpot's history, not something to edit."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workflows.models import ActionExecution, RegistrantAddAttempt


class RegistrantAddAttemptInline(admin.TabularInline):
    model = RegistrantAddAttempt
    extra = 0
    fields = ("attempted_at", "zoom_account", "webinar_id", "email")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ActionExecution)
class ActionExecutionAdmin(admin.ModelAdmin):
    list_display = ("callback_id", "hub_id", "status", "error_code", "webinar_id", "email", "attempts", "created_at")
    list_filter = ("status", "error_code", "signature_version")
    search_fields = ("callback_id", "email", "webinar_id", "registrant_id")
    date_hierarchy = "created_at"
    inlines = (RegistrantAddAttemptInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ActionExecution._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
