"""The webhook inbox: every signed event received, stored before any work (INTERFACES.md §9)."""

from __future__ import annotations

from django.db import models

from connector.models.tenancy import Portal, ZoomAccount


class WebhookProvider(models.TextChoices):
    ZOOM = "zoom", "Zoom"
    HUBSPOT = "hubspot", "HubSpot"


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Nothing to do"
    RETRYING = "retrying", "Failed, will be tried again"
    DEAD = "dead", "Failed for good: needs a replay"


class WebhookEvent(models.Model):
    provider = models.CharField(max_length=10, choices=WebhookProvider.choices)
    # Which portal (and, for Zoom, which connected account) the event belongs to; empty when
    # the event names an account or portal that is not connected here.
    portal = models.ForeignKey(Portal, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_events")
    zoom_account = models.ForeignKey(
        ZoomAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    event_type = models.CharField(max_length=100)
    # Unique per provider: a delivery seen twice is stored once.
    dedupe_key = models.CharField(max_length=200)
    # What the event is about (webinar id, contact id): events of one subject are processed in
    # the order they occurred.
    subject = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    raw_body = models.TextField()
    status = models.CharField(max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.PENDING)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "dedupe_key"], name="uniq_webhook_event_dedupe"),
        ]
        indexes = [
            models.Index(fields=["portal", "status"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["portal", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.event_type} ({self.get_status_display()})"
