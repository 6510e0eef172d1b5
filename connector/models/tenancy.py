"""Tenancy, connections and sync settings.

A Portal is one install of our HubSpot app; Zoom accounts are connected to it. The sync
settings (INTERFACES.md §4) hang off the portal: PortalSyncSettings holds the global part,
ZoomUserSetting the per-user part (R8, R9), WebinarSetting the per-webinar switch (R10).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from connector.fields import EncryptedTextField


def connection_base_honoured(url: str) -> bool:
    """A connection's own api_base/oauth_base is used only while the sandbox is mounted
    (never in production: ZOOMSYNC_SANDBOX refuses to start with DEBUG off) and only when it
    points at loopback (ZOOMSYNC_SANDBOX_HOSTS). Anywhere else, the token refresh would post
    the refresh token and the app's client secret to whoever the field names."""
    if not url or not settings.ZOOMSYNC_SANDBOX:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and host in settings.ZOOMSYNC_SANDBOX_HOSTS


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    BROKEN = "broken", "Token broken: reconnect"
    UNINSTALLED = "uninstalled", "Uninstalled"


class Portal(models.Model):
    """A HubSpot account (hub) that installed the app."""

    hub_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    hub_domain = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    status_detail = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    # Blank: settings.HUBSPOT_API_BASE. Set by connect_sandbox to point at a sandbox; used
    # only while the sandbox is mounted and on loopback (connection_base_honoured).
    api_base = models.URLField(blank=True)
    # The sandbox world this portal was connected to (connect_sandbox); blank otherwise.
    sandbox_world_id = models.CharField(max_length=64, blank=True)
    installed_at = models.DateTimeField(auto_now_add=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # The HubSpot user who installed the app (the access token's info: user_id, user).
    installed_by_hubspot_user_id = models.CharField(max_length=50, blank=True)
    installed_by_hubspot_email = models.CharField(max_length=254, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="PortalMembership", related_name="portals")

    def __str__(self) -> str:
        return self.name or f"Portal {self.hub_id}"

    @property
    def is_active(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def hubspot_api_base(self) -> str:
        base = self.api_base if connection_base_honoured(self.api_base) else settings.HUBSPOT_API_BASE
        return base.rstrip("/")


class PortalMembership(models.Model):
    """Which Django users administer which portal (the settings UI's tenancy)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "portal"], name="uniq_membership")]


class ZoomAuthType(models.TextChoices):
    OAUTH = "oauth", "OAuth app (authorization code)"
    SERVER_TO_SERVER = "s2s", "Server-to-Server OAuth"


class ZoomAccount(models.Model):
    """A Zoom account connected to a portal, for one HubSpot business unit (R25)."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="zoom_accounts")
    account_id = models.CharField(max_length=100)
    auth_type = models.CharField(max_length=10, choices=ZoomAuthType.choices, default=ZoomAuthType.OAUTH)
    # Server-to-Server apps are per account: their credentials live here, encrypted.
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    business_unit_id = models.CharField(max_length=50, default="0")
    is_primary_business_unit = models.BooleanField(default=True)
    # The Zoom user who connected the account (R26: cannot be registered).
    connected_user_id = models.CharField(max_length=100, blank=True)
    connected_user_email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    status_detail = models.TextField(blank=True)
    # Blank: settings.ZOOM_API_BASE / ZOOM_OAUTH_BASE. Set by connect_sandbox; used only
    # while the sandbox is mounted and on loopback (connection_base_honoured).
    api_base = models.URLField(blank=True)
    oauth_base = models.URLField(blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "account_id"], name="uniq_zoom_account")]

    def __str__(self) -> str:
        return f"Zoom {self.account_id} (portal {self.portal.hub_id})"

    @property
    def zoom_api_base(self) -> str:
        base = self.api_base if connection_base_honoured(self.api_base) else settings.ZOOM_API_BASE
        return base.rstrip("/")

    @property
    def zoom_oauth_base(self) -> str:
        base = self.oauth_base if connection_base_honoured(self.oauth_base) else settings.ZOOM_OAUTH_BASE
        return base.rstrip("/")


class OAuthState(models.Model):
    """A pending OAuth authorization: the `state` we sent, checked on callback."""

    class Provider(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot"
        ZOOM = "zoom", "Zoom"

    state = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    portal = models.ForeignKey(Portal, null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    business_unit_id = models.CharField(max_length=50, blank=True)
    # The browser session that started the flow (a SHA-256 of its key): a callback from
    # any other session, even of the same user, is refused.
    session_hash = models.CharField(max_length=64, blank=True)
    # HubSpot install: set when the callback exchanged the code. The state then waits for the
    # user's confirmation (a POST) before membership of `portal` is granted.
    exchanged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name, verbose_name_plural = "OAuth state", "OAuth states"


class ErasedPerson(models.Model):
    """A person erased on request: only a keyed hash of the email stays (never the email),
    so the sync can recognise the person and never create them again (R14)."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="erased_people")
    email_hash = models.CharField(max_length=64)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email_hash"], name="uniq_erased_person")]


class SyncMode(models.TextChoices):
    NONE = "none", "No users"
    ALL = "all", "All users"
    SELECTED = "selected", "Selected users"


def default_event_sinks() -> list[str]:
    return ["timeline"]


class PortalSyncSettings(models.Model):
    """The global part of the settings document (R4–R7, event sinks)."""

    portal = models.OneToOneField(Portal, on_delete=models.CASCADE, related_name="sync_settings")
    sync_mode = models.CharField(max_length=10, choices=SyncMode.choices, default=SyncMode.ALL)
    selected_users = models.JSONField(default=list, blank=True)  # lower-cased emails (R4)
    excluded_host_domains = models.JSONField(default=list, blank=True)  # R5
    excluded_recording_domains = models.JSONField(default=list, blank=True)  # R6
    excluded_contact_domains = models.JSONField(default=list, blank=True)  # R7
    event_sinks = models.JSONField(default=default_event_sinks, blank=True)
    # B6: write registrants' answers to the mapped contact properties (where empty).
    registration_answers_to_contacts = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name, verbose_name_plural = "portal sync settings", "portal sync settings"

    def __str__(self) -> str:
        return f"Sync settings of {self.portal}"


class RegistrationFieldMapping(models.Model):
    """B6: one Zoom registration question mapped to a HubSpot contact property.

    `question_key` is a standard question's Zoom field name (`job_title`) or `custom:` + a
    custom question's title as the admin wrote it; custom titles match Zoom's trimmed and
    case-insensitively (INTERFACES.md §4 "Registration questions").
    """

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="registration_field_mappings")
    question_key = models.CharField(max_length=310)
    hubspot_property = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "question_key"], name="uniq_registration_field_mapping")
        ]

    def __str__(self) -> str:
        return f"{self.question_key} → {self.hubspot_property}"


class ZoomUserSetting(models.Model):
    """Per Zoom user (keyed by lower-cased email): R8 and R9."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="zoom_user_settings")
    email = models.EmailField()
    sync_new_webinars_by_default = models.BooleanField(default=True)  # R8
    sync_recordings = models.BooleanField(default=False)  # R9

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email"], name="uniq_zoom_user_setting")]


class WebinarSetting(models.Model):
    """Per webinar: R10's explicit switch. Absent → the host's R8 default decides."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="webinar_settings")
    webinar_id = models.CharField(max_length=30)
    sync = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "webinar_id"], name="uniq_webinar_setting")]
