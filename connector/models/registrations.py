"""Registrations the connector made itself (R17): the workflow action "Add contact to Zoom
webinar" registers people through Zoom's API, and the sync must know of each at once, before
Zoom's registrant list (what the next pull reads) shows it.

The connector owns this table so that compute reads its own data (the core never imports an
outer app); the workflows app records a row when Zoom accepts a registration.
"""

from __future__ import annotations

from django.db import models

from connector.models.tenancy import Portal, ZoomAccount


class ExternalRegistration(models.Model):
    """One person registered for one webinar by the connector (not learned from Zoom's list).

    R17: its join URL is the person's last registered webinar when `registered_at` is later
    than every Zoom `create_time` of theirs (INTERFACES.md §5). One row per portal, webinar and
    person: a later registration of the same person for the same webinar replaces it.
    """

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="external_registrations")
    # The Zoom account that holds the webinar; its erasure (B4) takes these rows with it.
    zoom_account = models.ForeignKey(
        ZoomAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="external_registrations"
    )
    webinar_id = models.CharField(max_length=30)  # Zoom's webinar id, digits (R24)
    email = models.CharField(max_length=254)  # lower-cased, trimmed
    registrant_id = models.CharField(max_length=100, blank=True)
    join_url = models.CharField(max_length=1000)
    registered_at = models.DateTimeField(null=True, blank=True)  # when Zoom accepted it
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "webinar_id", "email"], name="uniq_external_registration")
        ]
        indexes = [models.Index(fields=["portal", "email"], name="ext_reg_portal_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.webinar_id}"
