"""Reads for the settings UI: tenancy-checked portal lookup, users, webinars, runs, charts' data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from connector.models import (
    ParticipantRow,
    Portal,
    Registrant,
    Session,
    SkipRecord,
    SyncRun,
    Webinar,
    ZoomUser,
)
from connector.selectors import SyncRules, sync_rules_get
from connector.services.sync_settings import email_normalize, sync_settings_export
from settings_ui.models import AuditLogEntry


def portal_for_user_get(*, user: Any, hub_id: int) -> Portal:
    """The portal with this HubSpot id, if the user is a member; 404 otherwise.

    Another tenant's portal answers exactly like a missing one, so ids leak nothing.
    """
    portal = Portal.objects.filter(hub_id=hub_id, portalmembership__user=user).first()
    if portal is None:
        raise Http404("No such portal")
    return portal


@dataclass
class ZoomUserRow:
    email: str
    name: str = ""
    account_id: str = ""
    status: str = ""
    known: bool = True  # False: only named in the settings, not (yet) pulled from Zoom
    selected: bool = False
    sync_new_webinars_by_default: bool = True
    sync_recordings: bool = False
    webinar_count: int = 0


def zoom_users_list(*, portal: Portal, rules: SyncRules | None = None) -> list[ZoomUserRow]:
    """The portal's Zoom users (every connected account), plus users only named in the settings."""
    rules = rules or sync_rules_get(portal=portal)
    rows: dict[str, ZoomUserRow] = {}
    users = ZoomUser.objects.filter(account__portal=portal).select_related("account").order_by("email")
    for u in users:
        email = email_normalize(u.email)
        if not email or email in rows:
            continue
        rows[email] = ZoomUserRow(
            email=email, name=f"{u.first_name} {u.last_name}".strip(),
            account_id=u.account.account_id, status=u.status,
        )
    for email in set(rules.selected_users) | set(rules.users):
        rows.setdefault(email, ZoomUserRow(email=email, known=False))
    counts = dict(
        Webinar.objects.filter(account__portal=portal)
        .values_list("host_email")
        .annotate(n=Count("id"))
        .values_list("host_email", "n")
    )
    for email, row in rows.items():
        row.selected = rules.host_selected(email)
        cfg = rules.users.get(email, {})
        row.sync_new_webinars_by_default = cfg.get("sync_new_webinars_by_default", True)
        row.sync_recordings = cfg.get("sync_recordings", False)
        row.webinar_count = counts.get(email, 0)
    return sorted(rows.values(), key=lambda r: r.email)


@dataclass
class WebinarRow:
    webinar: Webinar
    sync: bool
    explicit: bool  # R10 switch set; False → the host's R8 default decides
    syncable: bool
    reason: str = ""


def user_webinars_list(*, portal: Portal, email: str, rules: SyncRules | None = None) -> list[WebinarRow]:
    """R10: the user's webinars with their switch; Zoom Event webinars are never syncable (R2)."""
    rules = rules or sync_rules_get(portal=portal)
    webinars = (
        Webinar.objects.filter(account__portal=portal, host_email=email_normalize(email))
        .order_by("-start_time", "webinar_id")
    )
    rows = []
    for w in webinars:
        if w.is_zoom_event:
            rows.append(WebinarRow(
                webinar=w, sync=False, explicit=False, syncable=False,
                reason=f"Part of Zoom Event {w.zoom_event_id}: Zoom Events are not supported (R2).",
            ))
            continue
        rows.append(WebinarRow(
            webinar=w, sync=rules.webinar_switch(w.webinar_id, email),
            explicit=str(w.webinar_id) in rules.webinars, syncable=True,
        ))
    return rows


def sync_runs_recent(*, portal: Portal, limit: int = 20) -> list[SyncRun]:
    return list(SyncRun.objects.filter(portal=portal).order_by("-created_at", "-id")[:limit])


def sync_run_get(*, portal: Portal, run_id: int) -> SyncRun:
    run = SyncRun.objects.filter(portal=portal, id=run_id).first()
    if run is None:
        raise Http404("No such sync run")
    return run


def sync_run_active(*, portal: Portal) -> SyncRun | None:
    return SyncRun.objects.filter(portal=portal, finished_at__isnull=True, status__in=["queued", "running"]).order_by("-id").first()


@dataclass
class SkipGroup:
    kind: str
    reason: str
    label: str
    explanation: str
    action: str
    records: list[SkipRecord] = field(default_factory=list)


# Each skip reason in plain words, with what the admin can do about it (issue 6, §3).
SKIP_REASON_HELP: dict[str, tuple[str, str, str]] = {
    "no_email": (
        "Guest without an email address (R3)",
        "Since March 2022 Zoom removes the email of participants who join as guests. These guests did not join through a registration either, so nothing tells who they are.",
        "Turn on registration for your webinars in Zoom: registrants always have an email, and a guest who joins through their registration link is counted for that registrant.",
    ),
    "invalid_email": (
        "Email address is not valid",
        "Zoom gave an address that is not a valid email (for example with spaces or angle brackets), so no contact was created for it.",
        "Correct the registrant's email in Zoom, or ask them to register again with a valid address.",
    ),
    "secondary_email": (
        "Registered with a secondary email (R13)",
        "The email belongs to an existing contact, but as a secondary address. Only the primary email creates and updates contacts, so no timeline event was added.",
        "Ask registrants to register with their primary email address (R15), or make this address the contact's primary email in HubSpot.",
    ),
    "deleted_contact": (
        "Contact was deleted in HubSpot (R14)",
        "The contact for this email was deleted in HubSpot. The sync never recreates a deleted contact.",
        "Nothing, if the deletion was intended. To sync this person again, restore the contact in HubSpot (Contacts → Restore).",
    ),
    "account_user": (
        "User of your HubSpot account (R12)",
        "This email belongs to a user of your HubSpot account. Their Zoom activity is never synced, and they are never created as contacts.",
        "Nothing to do: this keeps your colleagues out of your marketing contacts.",
    ),
    "internal_domain": (
        "Your company's own domain (R7)",
        "The email's domain is in the contact exclusions, so no new contact was created (an existing contact is still updated).",
        "If this domain is not internal, remove it from Contact exclusions in Global settings.",
    ),
    "zoom_event": (
        "Part of a Zoom Event (R2)",
        "Webinars created as part of a Zoom Event are not supported and are never synced.",
        "Nothing can be done in zoomsync; use a regular Zoom webinar to sync registrations.",
    ),
    "host_domain_excluded": (
        "Host's email domain is excluded (R5)",
        "The webinar's host has an email domain listed under host exclusions.",
        "Remove the domain from Exclusions in Global settings to sync this host's webinars.",
    ),
    "user_not_selected": (
        "Host is not a selected user (R4)",
        "'Sync webinar data' is set to selected users and this webinar's host is not one of them.",
        "Select the host in Global settings, or choose 'All users'.",
    ),
    "sync_mode_none": (
        "Sync webinar data is off (R4)",
        "'Sync webinar data' is set to no users, so no webinar is synced.",
        "Choose 'All users' or 'Selected users' in Global settings.",
    ),
    "webinar_sync_off": (
        "Sync is off for this webinar (R8, R10)",
        "The webinar's own switch is off, or the host's default for new webinars is off and nobody turned it on.",
        "Turn the webinar on under Zoom users → the host → Manage individual webinars.",
    ),
    "recordings_off": (
        "Recording sync is off for the host (R9)",
        "The host's 'Sync this user's webinar recordings and transcripts' is off (the default).",
        "Turn it on under Zoom users → the host.",
    ),
    "recording_domain_excluded": (
        "Host's domain is excluded for recordings (R6)",
        "The host's email domain is listed under recording exclusions.",
        "Remove the domain from Recording exclusions in Global settings.",
    ),
}

_KIND_ORDER = {"webinar": 0, "person": 1, "recording": 2}


def skip_groups_for_run(*, run: SyncRun, q: str = "") -> list[SkipGroup]:
    """The run's skipped webinars, people and recordings grouped by reason; `q` filters."""
    records: QuerySet[SkipRecord] = run.skips.all().order_by("kind", "reason", "subject")
    q = q.strip()
    if q:
        records = records.filter(Q(subject__icontains=q) | Q(detail__icontains=q) | Q(reason__icontains=q))
    groups: dict[tuple[str, str], SkipGroup] = {}
    for rec in records:
        key = (rec.kind, rec.reason)
        if key not in groups:
            label, explanation, action = SKIP_REASON_HELP.get(rec.reason, (rec.reason, "", ""))
            groups[key] = SkipGroup(kind=rec.kind, reason=rec.reason, label=label, explanation=explanation, action=action)
        groups[key].records.append(rec)
    return sorted(groups.values(), key=lambda g: (_KIND_ORDER.get(g.kind, 9), g.reason))


def run_summary(run: SyncRun) -> dict[str, Any]:
    """The counts shown for a run, read from its §6 report (missing keys read as zero)."""
    report = run.report or {}
    webinars = report.get("webinars", {})
    people = report.get("people", {})
    recordings = report.get("recordings", {})
    events = report.get("events", {})
    duration = None
    if run.started_at and run.finished_at:
        duration = (run.finished_at - run.started_at).total_seconds()
    return {
        "webinars_synced": webinars.get("synced", 0),
        "webinars_skipped": sum(webinars.get("skipped", {}).values()),
        "contacts_created": people.get("contacts_created", 0),
        "contacts_updated": people.get("contacts_updated", 0),
        "people_skipped": sum(people.get("skipped", {}).values()),
        "guests_found": people.get("guests_found", 0),  # B5
        "recordings_synced": recordings.get("synced", 0),
        "recordings_skipped": sum(recordings.get("skipped", {}).values()),
        "events": sum(v for v in events.values() if isinstance(v, int)),
        "errors": list(report.get("errors", [])) + ([run.error] if run.error else []),
        "duration_seconds": duration,
    }


def audit_log_list(*, portal: Portal, limit: int = 200) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(portal=portal).select_related("user")[:limit])


# --- chart data (rendered as inline SVG by settings_ui.charts) ----------------------------------

_COUNTED = ("approved", "pending")  # INTERFACES.md §5: registrations that count


def webinar_attendance_series(*, portal: Portal, limit: int = 12) -> list[dict[str, Any]]:
    """Registrations and attendees per webinar (most recent first, then reversed for the chart)."""
    webinars = list(
        Webinar.objects.filter(account__portal=portal)
        .annotate(
            registrations=Count("registrants", filter=Q(registrants__status__in=_COUNTED), distinct=True),
            attendees=Count(
                "sessions__participant_rows__email",
                filter=~Q(sessions__participant_rows__email=""),
                distinct=True,
            ),
        )
        .filter(Q(registrations__gt=0) | Q(attendees__gt=0))
        .order_by("-start_time", "-id")[:limit]
    )
    webinars.reverse()
    return [
        {"label": w.topic or w.webinar_id, "webinar_id": w.webinar_id, "registrations": w.registrations, "attendees": w.attendees}
        for w in webinars
    ]


def _union_seconds(
    intervals: list[tuple[datetime | None, datetime | None]], start: datetime, end: datetime
) -> float:
    """INTERFACES.md §5: the union of [join, leave] intervals clipped to the session."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a is not None and b is not None)
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for a, b in clipped:
        if b <= a:
            continue
        if current is None or a > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def webinar_attendance_percentages(*, portal: Portal, webinar_id: str) -> list[float]:
    """Attendance % of each attendee over the webinar's sessions (§5), for the histogram."""
    from datetime import timedelta

    sessions = Session.objects.filter(webinar__account__portal=portal, webinar__webinar_id=webinar_id).select_related("webinar")
    out: list[float] = []
    for s in sessions:
        start = s.start_time
        end = s.end_time
        if start is None:
            continue
        if end is None:
            minutes = s.scheduled_duration_minutes or s.webinar.duration_minutes or 0
            end = start + timedelta(minutes=minutes)
        length = (end - start).total_seconds()
        if length <= 0:
            continue
        by_email: dict[str, list[tuple[datetime | None, datetime | None]]] = defaultdict(list)
        for row in ParticipantRow.objects.filter(session=s).exclude(email=""):
            by_email[row.email].append((row.join_time, row.leave_time))
        for intervals in by_email.values():
            seconds = _union_seconds(intervals, start, end)
            if seconds > 0:
                out.append(min(100.0, round(seconds / length * 100, 1)))
    return out


def webinars_with_sessions(*, portal: Portal) -> list[Webinar]:
    return list(
        Webinar.objects.filter(account__portal=portal, sessions__isnull=False).distinct().order_by("-start_time", "-id")
    )


def registrations_total(*, portal: Portal) -> int:
    return Registrant.objects.filter(webinar__account__portal=portal, status__in=_COUNTED).count()


def settings_document_get(*, portal: Portal) -> dict[str, Any]:
    return sync_settings_export(portal=portal)
