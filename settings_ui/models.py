"""The settings UI's own data: the audit log of every settings change (issue 6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from connector.models import Portal


class AuditAction(models.TextChoices):
    SETTINGS_CHANGED = "settings_changed", "Settings changed"
    SETTINGS_IMPORTED = "settings_imported", "Settings imported"
    SYNC_STARTED = "sync_started", "Sync started"


class AuditLogEntry(models.Model):
    """Who changed what, when: the settings document before and after, and their diff."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="audit_log")
    # Kept when the user is deleted: the log outlives accounts; `actor` keeps the name.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    # Which screen or tool made the change ("global settings", "user host@acme.com", "import").
    source = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # [{"path": "excluded_host_domains", "old": [...], "new": [...]}], see services.settings_diff.
    diff = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit log entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
