"""Django admin for ops: connections and their status. Secrets (tokens, client secrets)
are never shown or editable here; reconnecting is done through the OAuth flows."""

from __future__ import annotations

from django.contrib import admin

from connector import models
from connector.models.tenancy import WebinarSetting, ZoomUserSetting

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret")


class PortalMembershipInline(admin.TabularInline):
    model = models.PortalMembership
    extra = 0
    autocomplete_fields = ("user",)


class ZoomAccountInline(admin.TabularInline):
    model = models.ZoomAccount
    extra = 0
    fields = ("account_id", "auth_type", "business_unit_id", "is_primary_business_unit", "status")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(models.Portal)
class PortalAdmin(admin.ModelAdmin):
    list_display = ("hub_id", "name", "hub_domain", "status", "token_expires_at", "installed_at")
    list_filter = ("status",)
    search_fields = ("hub_id", "name", "hub_domain")
    exclude = SECRET_FIELDS
    # api_base is where tokens and the client secret are sent: never editable here.
    readonly_fields = (
        "token_expires_at", "scopes", "installed_at", "uninstalled_at", "api_base",
        "installed_by_hubspot_user_id", "installed_by_hubspot_email",
    )
    inlines = (PortalMembershipInline, ZoomAccountInline)


@admin.register(models.ZoomAccount)
class ZoomAccountAdmin(admin.ModelAdmin):
    list_display = (
        "account_id", "portal", "auth_type", "business_unit_id", "is_primary_business_unit",
        "status", "token_expires_at",
    )
    list_filter = ("status", "auth_type", "is_primary_business_unit")
    search_fields = ("account_id", "portal__hub_id", "connected_user_email")
    exclude = SECRET_FIELDS
    # api_base/oauth_base are where tokens and client secrets are sent: never editable here.
    readonly_fields = (
        "token_expires_at", "scopes", "connected_at", "connected_user_id", "connected_user_email",
        "api_base", "oauth_base",
    )


@admin.register(models.OAuthState)
class OAuthStateAdmin(admin.ModelAdmin):
    list_display = ("provider", "portal", "user", "business_unit_id", "created_at")
    exclude = ("state", "session_hash")


@admin.register(models.PortalSyncSettings)
class PortalSyncSettingsAdmin(admin.ModelAdmin):
    list_display = ("portal", "sync_mode", "updated_at")


@admin.register(ZoomUserSetting)
class ZoomUserSettingAdmin(admin.ModelAdmin):
    list_display = ("portal", "email", "sync_new_webinars_by_default", "sync_recordings")
    search_fields = ("email",)


@admin.register(WebinarSetting)
class WebinarSettingAdmin(admin.ModelAdmin):
    list_display = ("portal", "webinar_id", "sync")
    search_fields = ("webinar_id",)


# Sync records: plain registrations so ops can inspect runs, skips and the outbox.
for _model in (
    getattr(models, name, None)
    for name in ("SyncRun", "SkipRecord", "OutboxItem", "SyncLease", "ContactLink", "Webinar")
):
    if _model is not None and not admin.site.is_registered(_model):
        admin.site.register(_model)

import connector.webhooks.admin  # noqa: E402, F401  (the webhook inbox)
