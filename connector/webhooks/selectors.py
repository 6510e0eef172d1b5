"""Webhook health per portal, for the dashboard and `manage.py webhooks status` (plain words)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min
from django.utils import timezone

from connector.models import Portal, WebhookEvent, WebhookStatus

BACKLOG_SLOW = dt.timedelta(minutes=5)
QUIET = dt.timedelta(days=7)

EVENT_WORDS = {
    "webinar.registration_created": "a new registration",
    "webinar.registration_approved": "an approved registration",
    "webinar.registration_cancelled": "a cancelled registration",
    "webinar.registration_denied": "a denied registration",
    "webinar.started": "a webinar starting",
    "webinar.participant_joined": "someone joining a webinar",
    "webinar.participant_left": "someone leaving a webinar",
    "webinar.ended": "a webinar ending",
    "recording.completed": "a new recording",
    "recording.transcript_completed": "a new transcript",
    "webinar.created": "a new webinar",
    "webinar.updated": "a changed webinar",
    "webinar.deleted": "a deleted webinar",
    "app_deauthorized": "Zoom disconnecting an account",
    "contact.deletion": "a contact deleted in HubSpot",
    "contact.merge": "contacts merged in HubSpot",
    "contact.privacyDeletion": "a privacy deletion in HubSpot",
}


@dataclass(frozen=True)
class WebhookHealth:
    state: str  # "ok", "waiting", "problem", "none"
    last_event_at: dt.datetime | None
    last_event: str
    received_today: int
    failed: int
    retrying: int
    backlog: int
    oldest_waiting_at: dt.datetime | None
    summary: str
    advice: str


def _ago(when: dt.datetime, now: dt.datetime) -> str:
    seconds = int((now - when).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds // 60} minutes ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} hours ago"
    return f"{seconds // 86400} days ago"


def webhook_health(*, portal: Portal, now: dt.datetime | None = None) -> WebhookHealth:
    now = now or timezone.now()
    events = WebhookEvent.objects.filter(portal=portal)
    last = events.order_by("-received_at").values("received_at", "event_type").first()
    received_today = events.filter(received_at__gte=now - dt.timedelta(days=1)).count()
    failed = events.filter(status=WebhookStatus.DEAD).count()
    retrying = events.filter(status=WebhookStatus.RETRYING).count()
    open_events = events.filter(status__in=(WebhookStatus.PENDING, WebhookStatus.RETRYING))
    backlog = open_events.count()
    oldest = open_events.aggregate(oldest=Min("received_at"))["oldest"]
    last_at = last["received_at"] if last else None
    last_words = EVENT_WORDS.get(last["event_type"], "an update") if last else ""

    if last_at is None:
        return WebhookHealth(
            "none", None, "", 0, 0, 0, 0, None,
            "No live updates received yet.",
            "Changes still arrive with the scheduled sync. To get them within seconds, set up the "
            "Zoom and HubSpot webhooks (see the webhooks guide) and check that this site is reachable "
            "from the internet.",
        )
    summary = f"Last live update {_ago(last_at, now)} ({last_words}); {received_today} in the last day."
    if failed:
        return WebhookHealth(
            "problem", last_at, last_words, received_today, failed, retrying, backlog, oldest,
            f"{summary} {failed} could not be processed.",
            "Look at the failed updates in the admin (Webhook events, status 'Failed for good'), fix the "
            "cause shown there (often a disconnected Zoom or HubSpot account), then replay them. The "
            "scheduled sync keeps HubSpot correct in the meantime.",
        )
    if oldest is not None and now - oldest > BACKLOG_SLOW:
        return WebhookHealth(
            "waiting", last_at, last_words, received_today, failed, retrying, backlog, oldest,
            f"{summary} {backlog} waiting, the oldest since {_ago(oldest, now)}.",
            "Updates are arriving faster than they are processed, or the background worker is not "
            "running. Check that the worker is up; nothing is lost, they will be processed.",
        )
    if now - last_at > QUIET:
        return WebhookHealth(
            "waiting", last_at, last_words, received_today, failed, retrying, backlog, oldest,
            summary,
            "No live update for a week. If webinars had registrations since, check the webhook "
            "settings in Zoom and HubSpot.",
        )
    return WebhookHealth("ok", last_at, last_words, received_today, failed, retrying, backlog, oldest,
                         summary + (f" {backlog} being processed." if backlog else ""), "")
