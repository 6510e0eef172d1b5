"""Admin for the webhook inbox: what arrived, what failed and why, and a replay action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from connector.models import WebhookEvent
from connector.webhooks.services import webhook_events_replay


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "provider", "event_type", "portal", "status", "attempts", "last_error")
    list_filter = ("status", "provider", "event_type")
    search_fields = ("event_type", "subject", "last_error")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Process the selected updates again")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = webhook_events_replay(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} update(s) queued again.", messages.SUCCESS)
