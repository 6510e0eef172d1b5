"""Records of the workflow action "Add contact to Zoom webinar" (R11, R17, R24–R26).

One ActionExecution per HubSpot callbackId (unique): a retried or duplicated request finds
its row and answers the same without registering twice. Saving a successful row records
the registration in the connector's own table (R17; services/registration_record.py), which
is what the sync reads. Each POST to Zoom's add-registrant endpoint is one
RegistrantAddAttempt, so Zoom's limit of 3 adds per registrant per webinar per UTC day is
respected before Zoom has to refuse.
"""

from __future__ import annotations

from django.db import models

from connector.models import Portal, ZoomAccount


class ExecutionStatus(models.TextChoices):
    # Claimed by a request that is still running (or crashed; see services.registration).
    RUNNING = "running", "Running"
    # Zoom was busy (429/5xx/network): HubSpot was told to retry; the next attempt re-runs.
    RETRY = "retry", "Waiting for HubSpot's retry"
    SUCCEEDED = "succeeded", "Registered"
    FAILED = "failed", "Failed (FAIL_CONTINUE)"


class ActionExecution(models.Model):
    callback_id = models.CharField(max_length=200, unique=True)
    # Null when the request named a portal that is not installed here.
    portal = models.ForeignKey(
        Portal, null=True, blank=True, on_delete=models.CASCADE, related_name="workflow_executions"
    )
    hub_id = models.BigIntegerField(null=True, blank=True)
    zoom_account = models.ForeignKey(
        ZoomAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="workflow_executions"
    )
    status = models.CharField(max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING)
    signature_version = models.CharField(max_length=5, blank=True)
    # HubSpot's request body as received (parsed JSON), for audit and support.
    request_body = models.JSONField(default=dict, blank=True)
    contact_object_id = models.CharField(max_length=64, blank=True)
    webinar_id_raw = models.CharField(max_length=200, blank=True)
    webinar_id = models.CharField(max_length=30, blank=True)  # normalised (R24)
    email = models.CharField(max_length=254, blank=True)  # lower-cased, trimmed
    first_name = models.CharField(max_length=64, blank=True)
    last_name = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # The exact answer HubSpot got (status + outputFields), replayed on a duplicate callback.
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    output_fields = models.JSONField(default=dict, blank=True)
    registrant_id = models.CharField(max_length=100, blank=True)
    join_url = models.URLField(max_length=1000, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)  # R17: when Zoom accepted it
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["portal", "status", "registered_at"], name="wf_exec_portal_status"),
            models.Index(fields=["portal", "email"], name="wf_exec_portal_email"),
        ]

    def __str__(self) -> str:
        return f"{self.callback_id} ({self.status})"


class RegistrantAddAttempt(models.Model):
    """One POST /webinars/{id}/registrants sent to Zoom (Zoom allows 3 per registrant per day)."""

    execution = models.ForeignKey(ActionExecution, on_delete=models.CASCADE, related_name="add_attempts")
    zoom_account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="registrant_add_attempts")
    webinar_id = models.CharField(max_length=30)
    email = models.CharField(max_length=254)
    attempted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["zoom_account", "webinar_id", "email", "attempted_at"], name="wf_add_attempt_day")]
