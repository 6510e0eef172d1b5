"""Reads: the sync rules of a portal, evaluated in one place (R4, R5, R6, R7, R8, R9, R10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from connector.models import Portal, SyncMode, SyncRun, Webinar, ZoomUser
from connector.services.sync_settings import email_domain, email_normalize, sync_settings_export


@dataclass(frozen=True)
class SyncRules:
    """A snapshot of a portal's settings with the rule checks the sync needs."""

    sync_mode: str
    selected_users: frozenset[str]
    excluded_host_domains: frozenset[str]
    excluded_recording_domains: frozenset[str]
    excluded_contact_domains: frozenset[str]
    users: dict[str, dict[str, bool]] = field(default_factory=dict)
    webinars: dict[str, dict[str, bool]] = field(default_factory=dict)
    event_sinks: tuple[str, ...] = ("timeline",)

    def host_selected(self, host_email: str) -> bool:
        """R4: none / all / selected users."""
        if self.sync_mode == SyncMode.NONE:
            return False
        if self.sync_mode == SyncMode.SELECTED:
            return email_normalize(host_email) in self.selected_users
        return True

    def host_domain_excluded(self, host_email: str) -> bool:
        """R5: webinars of hosts with an excluded domain are not synced."""
        return email_domain(host_email) in self.excluded_host_domains

    def webinar_switch(self, webinar_id: str | int, host_email: str) -> bool:
        """R10 explicit switch, else R8: the host's default for webinars nobody ticked."""
        explicit = self.webinars.get(str(webinar_id))
        if explicit is not None:
            return explicit["sync"]
        return self.users.get(email_normalize(host_email), {}).get("sync_new_webinars_by_default", True)

    def recordings_enabled(self, host_email: str) -> bool:
        """R9: the host's recordings switch (off by default)."""
        return self.users.get(email_normalize(host_email), {}).get("sync_recordings", False)

    def recording_domain_excluded(self, host_email: str) -> bool:
        """R6."""
        return email_domain(host_email) in self.excluded_recording_domains

    def contact_domain_excluded(self, email: str) -> bool:
        """R7: stops creation of new contacts only."""
        return email_domain(email) in self.excluded_contact_domains


def sync_rules_get(*, portal: Portal) -> SyncRules:
    return sync_rules_from_document(sync_settings_export(portal=portal))


def sync_rules_from_document(doc: dict[str, Any]) -> SyncRules:
    """The rules of a settings document in its normalised form (INTERFACES §4)."""
    return SyncRules(
        sync_mode=doc["sync_mode"],
        selected_users=frozenset(doc["selected_users"]),
        excluded_host_domains=frozenset(doc["excluded_host_domains"]),
        excluded_recording_domains=frozenset(doc["excluded_recording_domains"]),
        excluded_contact_domains=frozenset(doc["excluded_contact_domains"]),
        users=doc["users"],
        webinars=doc["webinars"],
        event_sinks=tuple(doc["event_sinks"]),
    )


def portals_for_user(*, user: Any) -> list[Portal]:
    """The portals a Django user administers (the settings UI's tenancy)."""
    return list(Portal.objects.filter(portalmembership__user=user).order_by("hub_id"))


# --- sync reads (E1) ---------------------------------------------------------------------


def synced_webinars(*, portal: Portal) -> QuerySet[Webinar]:
    """Webinars of the portal's Zoom accounts that passed every rule at the latest pull."""
    return Webinar.objects.filter(account__portal=portal, skip_reason="").order_by("start_time", "webinar_id")


def zoom_user_domains(*, portal: Portal) -> list[str]:
    """R6's picker: the email domains of the portal's Zoom users, sorted, without duplicates."""
    emails = ZoomUser.objects.filter(account__portal=portal).values_list("email", flat=True)
    return sorted({d for d in (email_domain(e) for e in emails) if d})


def sync_runs_recent(*, portal: Portal, limit: int = 20) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(portal=portal).order_by("-created_at")[:limit]
