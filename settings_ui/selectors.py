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
    SkipReason,
    SkipRecord,
    SyncRun,
    Webinar,
    ZoomUser,
)
from connector.selectors import SyncRules, sync_rules_from_document, sync_rules_get
from connector.services.pull import host_verdict, webinar_verdict
from connector.services.sync_settings import (
    email_domain,
    email_normalize,
    settings_document_parse,
    sync_settings_export,
)
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
    selected: bool = False  # the host's webinars are synced (R4 and R5 both allow it)
    not_synced_reason: str = ""  # why not, in words
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
        row.not_synced_reason = host_not_synced_reason(rules=rules, email=email)
        row.selected = not row.not_synced_reason
        cfg = rules.users.get(email, {})
        row.sync_new_webinars_by_default = cfg.get("sync_new_webinars_by_default", True)
        row.sync_recordings = cfg.get("sync_recordings", False)
        row.webinar_count = counts.get(email, 0)
    return sorted(rows.values(), key=lambda r: r.email)


def host_not_synced_reason(*, rules: SyncRules, email: str) -> str:
    """Why a host's webinars are not synced, in words; "" when they are (the rules are the
    pull's: R4, R5)."""
    reason = host_verdict(rules=rules, host_email=email)
    if reason == SkipReason.SYNC_MODE_NONE:
        return "“Sync webinar data” is set to no users."
    if reason == SkipReason.USER_NOT_SELECTED:
        return "Not one of the selected users in Global settings."
    if reason == SkipReason.HOST_DOMAIN_EXCLUDED:
        return f"The email domain {email_domain(email)} is in the host exclusions in Global settings."
    return ""


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
                reason="Part of a Zoom Event: webinars of Zoom Events cannot be synced.",  # R2
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
    "no_email": (  # R3
        "Guest without an email address",
        "Since March 2022 Zoom removes the email of participants who join as guests. These guests did not join through a registration either, so nothing tells who they are.",
        "Turn on registration for your webinars in Zoom: registrants always have an email, and a guest who joins through their registration link is counted for that registrant.",
    ),
    "invalid_email": (
        "Email address is not valid",
        "Zoom gave an address that is not a valid email (for example with spaces or angle brackets), so no contact was created for it.",
        "Correct the registrant's email in Zoom, or ask them to register again with a valid address.",
    ),
    "secondary_email": (  # R13
        "Registered with a secondary email",
        "The email belongs to an existing contact, but as a secondary address. Only the primary email creates and updates contacts, so no timeline event was added.",
        "Ask registrants to register with their primary email address, or make this address the contact's primary email in HubSpot.",
    ),
    "deleted_contact": (  # R14
        "Contact was deleted in HubSpot",
        "The contact for this email was deleted in HubSpot. The sync never recreates a deleted contact.",
        "Nothing, if the deletion was intended. To sync this person again, restore the contact in HubSpot (Contacts → Restore).",
    ),
    "account_user": (  # R12
        "User of your HubSpot account",
        "This email belongs to a user of your HubSpot account. Their Zoom activity is never synced, and they are never created as contacts.",
        "Nothing to do: this keeps your colleagues out of your marketing contacts.",
    ),
    "internal_domain": (  # R7
        "Your company's own domain",
        "The email's domain is in the contact exclusions, so no new contact was created (an existing contact is still updated).",
        "If this domain is not internal, remove it from Contact exclusions in Global settings.",
    ),
    "zoom_event": (  # R2
        "Part of a Zoom Event",
        "Webinars created as part of a Zoom Event are not supported and are never synced.",
        "Nothing can be done in zoomsync; use a regular Zoom webinar to sync registrations.",
    ),
    "host_domain_excluded": (  # R5
        "Host's email domain is excluded",
        "The webinar's host has an email domain listed under host exclusions.",
        "Remove the domain from Exclusions in Global settings to sync this host's webinars.",
    ),
    "user_not_selected": (  # R4
        "Host is not a selected user",
        "'Sync webinar data' is set to selected users and this webinar's host is not one of them.",
        "Select the host in Global settings, or choose 'All users'.",
    ),
    "sync_mode_none": (  # R4
        "Sync webinar data is off",
        "'Sync webinar data' is set to no users, so no webinar is synced.",
        "Choose 'All users' or 'Selected users' in Global settings.",
    ),
    "webinar_sync_off": (  # R8 R10
        "Sync is off for this webinar",
        "The webinar's own switch is off, or the host's default for new webinars is off and nobody turned it on.",
        "Turn the webinar on under Zoom users → the host → Manage individual webinars.",
    ),
    "recordings_off": (  # R9
        "Recording sync is off for the host",
        "The host's 'Sync this user's webinar recordings and transcripts' is off (the default).",
        "Turn it on under Zoom users → the host.",
    ),
    "recording_domain_excluded": (  # R6
        "Host's domain is excluded for recordings",
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
        # Only webinars that are synced: an excluded or switched-off webinar is not charted.
        Webinar.objects.filter(account__portal=portal, skip_reason="", zoom_event_id="")
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


# --- failed runs in words (issue 14, item 6) ---------------------------------------------------

# SyncRun.error_code (connector.clients.errors.sync_error_code) → what happened, what to do.
ERROR_HELP: dict[str, tuple[str, str]] = {
    "transport": (
        "zoomsync could not reach Zoom or HubSpot: the connection failed or timed out, even after several tries.",
        "Usually a passing network problem: the sync tries again by itself. If it keeps failing, check that this "
        "server can reach the internet (or that the sandbox is running), then press Sync now.",
    ),
    "unauthorized": (
        "Zoom or HubSpot refused the saved access token, even after renewing it.",
        "Reconnect the account under Connections, then press Sync now.",
    ),
    "token_broken": (
        "The connection to Zoom or HubSpot is broken: its access could not be renewed.",
        "Reconnect the account under Connections, then press Sync now.",
    ),
    "token_retry": (
        "Renewing the access to Zoom or HubSpot failed for a passing reason.",
        "Nothing: the sync tries again by itself. If it keeps failing, reconnect the account under Connections.",
    ),
    "forbidden": (
        "Zoom or HubSpot refused an action: the connected account lacks a permission or a plan feature.",
        "Reconnect under Connections with an administrator of the account and accept every permission asked for.",
    ),
    "rate_limited": (
        "Zoom or HubSpot asked zoomsync to slow down (too many requests) for longer than a sync can wait.",
        "Nothing: the sync tries again later by itself. Other apps using the same accounts share these limits.",
    ),
    "server_error": (
        "Zoom or HubSpot answered with a server error, even after several tries.",
        "Nothing: the sync tries again by itself. If it keeps failing, check the provider's status page.",
    ),
    "not_found": (
        "Zoom or HubSpot no longer knows something the sync asked for.",
        "Press Sync now: the next sync reads everything afresh.",
    ),
    "bad_request": (
        "Zoom or HubSpot refused a request as invalid.",
        "Press Sync now; if it fails the same way, contact your zoomsync administrator with this run's number.",
    ),
    "api_error": (
        "Zoom or HubSpot refused a request.",
        "Press Sync now; if it fails the same way, contact your zoomsync administrator with this run's number.",
    ),
    "lease_lost": (
        "This sync took too long and another sync of this portal took over.",
        "Nothing: the other sync carries on. If this happens often, contact your zoomsync administrator.",
    ),
    "already_running": (
        "Another sync of this portal was already running, so this one did not start.",
        "Nothing: wait for the running sync to finish.",
    ),
    "time_limit": (
        "The sync ran longer than it is allowed to.",
        "Press Sync now: the next sync goes on from where this one stopped.",
    ),
    "not_connected": (
        "The HubSpot portal is not connected (it was uninstalled or its connection broke).",
        "Reconnect HubSpot under Connections, then press Sync now.",
    ),
    "internal": (
        "zoomsync stopped because of an internal error.",
        "Press Sync now. If it fails again, contact your zoomsync administrator with this run's number.",
    ),
}


@dataclass
class RunState:
    key: str  # CSS class and stable value: queued | running | retrying | succeeded | failed
    words: str


_STATE_WORDS = {
    "queued": "waiting to start",
    "running": "running",
    "retrying": "retrying",
    "succeeded": "succeeded",
    "failed": "failed",
}


TRIGGER_WORDS = {
    "manual": "started by hand",
    "beat": "scheduled",
    "cli": "from the command line",
    "workflow": "by a HubSpot workflow",
    "webhook": "by a Zoom or HubSpot change",
}


def run_trigger_words(run: SyncRun) -> str:
    return TRIGGER_WORDS.get(run.trigger, "started")


def run_state(run: SyncRun) -> RunState:
    """A failed run that Celery will try again shows as retrying (also while it runs again)."""
    key = run.status
    if run.retrying and run.status in ("failed", "running", "queued"):
        key = "retrying"
    return RunState(key=key, words=_STATE_WORDS.get(key, key))


def run_error_help(run: SyncRun) -> dict[str, str] | None:
    """What went wrong and what the admin can do, by the run's error code (never its text)."""
    if run.status != "failed" and not run.retrying:
        return None
    if not run.error_code and not run.error:
        return None
    what, action = ERROR_HELP.get(run.error_code or "internal", ERROR_HELP["internal"])
    return {"what": what, "action": action, "detail": run.error}


# --- progress in words (item 8) ----------------------------------------------------------------

# (phase, share of the whole sync, words); the bar adds up the finished phases' shares.
_PHASES: list[tuple[str, float, str]] = [
    ("pull:users", 0.05, "Reading Zoom users"),
    ("pull:webinars", 0.10, "Reading the webinars of {done} of {total} Zoom users"),
    ("pull:webinar data", 0.45, "Reading registrations and attendance: {done} of {total} webinars"),
    ("compute", 0.05, "Working out the contact properties"),
    ("push", 0.35, "Writing to HubSpot: {done} of {total} changes"),
]


def progress_view(progress: dict[str, Any] | None, *, finished: bool = False) -> dict[str, Any]:
    """{"text": words, "percent": 0–100 of the whole sync}."""
    progress = progress or {}
    phase = str(progress.get("phase") or "")
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    if finished or phase == "done":
        return {"text": "Finished", "percent": 100}
    before = 0.0
    for name, share, words in _PHASES:
        if name == phase:
            fraction = min(1.0, done / total) if total else 0.0
            return {"text": words.format(done=done, total=total or "?"), "percent": round((before + share * fraction) * 100)}
        before += share
    if not phase:
        return {"text": "Waiting for a worker to start the sync", "percent": 0}
    return {"text": "Working", "percent": 0}


# --- skipped subjects in words (item 8) --------------------------------------------------------


def _day(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else "date unknown"


def skip_subjects_describe(*, run: SyncRun, groups: list[SkipGroup]) -> None:
    """Give each record a `shown` text: guests and recordings by webinar topic and date (not
    by Zoom's session ids), webinars by topic."""
    uuids: set[str] = set()
    for g in groups:
        for rec in g.records:
            if g.kind == "recording" or g.reason == "no_email":
                uuids.add(rec.subject.split(" ", 1)[0])
    sessions = {
        s.uuid: s
        for s in Session.objects.filter(webinar__account__portal_id=run.portal_id, uuid__in=uuids).select_related("webinar")
    }
    for g in groups:
        for rec in g.records:
            shown = rec.subject
            if g.kind == "recording" or g.reason == "no_email":
                uuid, _, name = rec.subject.partition(" ")
                session = sessions.get(uuid)
                where = f"{session.webinar.topic or 'Webinar'}, {_day(session.start_time)}" if session else "a webinar"
                shown = f"{name} — {where}" if g.reason == "no_email" else where
            elif g.kind == "webinar" and rec.detail:
                shown = rec.detail
            rec.shown = shown  # type: ignore[attr-defined]


# --- what a settings change will do (item 4) ---------------------------------------------------


def _webinar_synced(rules: SyncRules, w: Webinar) -> bool:
    """The webinar-level rules, decided where the pull decides them (R2, R4, R5, R8, R10)."""
    return not webinar_verdict(
        rules=rules, webinar_id=w.webinar_id, host_email=w.host_email, zoom_event_id=w.zoom_event_id
    )


@dataclass
class ChangeImpact:
    webinars_stopped: list[Webinar] = field(default_factory=list)
    webinars_started: list[Webinar] = field(default_factory=list)
    people_changed: int = 0  # people whose registration / attendance counts will change
    contacts_not_created: int = 0  # people no longer created as contacts (R7)

    @property
    def changes_hubspot(self) -> bool:
        return bool(self.people_changed or self.contacts_not_created)


def settings_change_impact(*, portal: Portal, document: dict[str, Any]) -> ChangeImpact:
    """What saving `document` would change in HubSpot at the next sync, from what is known now."""
    old = sync_rules_get(portal=portal)
    new = sync_rules_from_document(settings_document_parse(document).as_dict())
    impact = ChangeImpact()
    changed_ids: list[int] = []
    webinars = Webinar.objects.filter(account__portal=portal).order_by("start_time", "webinar_id")
    for w in webinars:
        before, after = _webinar_synced(old, w), _webinar_synced(new, w)
        if before and not after:
            impact.webinars_stopped.append(w)
            changed_ids.append(w.pk)
        elif after and not before:
            impact.webinars_started.append(w)
            changed_ids.append(w.pk)
    if changed_ids:
        emails = set(
            Registrant.objects.filter(webinar_id__in=changed_ids, status__in=_COUNTED).values_list("email", flat=True)
        ) | set(
            ParticipantRow.objects.filter(session__webinar_id__in=changed_ids)
            .exclude(email="").values_list("email", flat=True)
        )
        impact.people_changed = len({email_normalize(e) for e in emails if e})
    added = new.excluded_contact_domains - old.excluded_contact_domains
    if added:
        from connector.models import ContactLink, PersonStats

        linked = set(ContactLink.objects.filter(portal=portal, state="linked").values_list("email", flat=True))
        impact.contacts_not_created = sum(
            1
            for e in PersonStats.objects.filter(portal=portal).values_list("email", flat=True)
            if e not in linked and email_domain(e) in added
        )
    return impact


# --- an imported document: every error at once (item 9) -----------------------------------------

_DOMAIN_KEYS = ("excluded_host_domains", "excluded_recording_domains", "excluded_contact_domains")


def settings_document_errors(data: Any) -> list[str]:
    """Every problem of a settings document, not only the first one: each key, each domain,
    each user and webinar entry is checked on its own by the same validation the import uses."""
    from django.core.exceptions import ValidationError

    from connector.services.sync_settings import domain_normalize

    def check(part: dict[str, Any]) -> list[str]:
        try:
            settings_document_parse(part)
        except ValidationError as exc:
            return list(exc.messages)
        return []

    if not isinstance(data, dict):
        return check(data)
    errors: list[str] = []
    for key, value in data.items():
        if key in _DOMAIN_KEYS and isinstance(value, list) and all(isinstance(v, str) for v in value):
            seen: set[str] = set()
            for raw in value:
                try:
                    domain = domain_normalize(raw)
                except ValidationError as exc:
                    errors.extend(f"{key}: {m}" for m in exc.messages)
                    continue
                if domain in seen:
                    errors.append(f"{key}: {raw!r} is listed twice")
                seen.add(domain)
        elif key in ("users", "webinars") and isinstance(value, dict):
            for sub, cfg in value.items():
                errors.extend(check({key: {sub: cfg}}))
        elif key == "selected_users" and isinstance(value, list):
            for email in value:
                errors.extend(check({key: [email]}))
        else:
            errors.extend(check({key: value}))
    return errors


# --- the audit log in words (item 8) ------------------------------------------------------------

SETTING_LABELS = {
    "sync_mode": "Sync webinar data",
    "selected_users": "Selected Zoom users",
    "excluded_host_domains": "Host exclusions",
    "excluded_recording_domains": "Recording exclusions",
    "excluded_contact_domains": "Contact exclusions",
    "event_sinks": "Activity sent to HubSpot",
    "registration_fields": "Registration questions",
    "registration_answers_to_contacts": "Registration answers written to contacts",
}
_VALUE_WORDS = {
    "sync_mode": {"none": "no users", "all": "all users", "selected": "selected users"},
    "event_sinks": {"timeline": "timeline events", "app_events": "app events", "marketing_events": "marketing events"},
}


def setting_label(path: str, *, topics: dict[str, str] | None = None) -> str:
    key, _, sub = path.partition(".")
    if key == "users" and sub:
        return f"Settings of {sub}"
    if key == "webinars" and sub:
        topic = (topics or {}).get(sub)
        return f"Webinar “{topic}”" if topic else "A webinar no longer in Zoom"
    return SETTING_LABELS.get(key, key.replace("_", " ").capitalize())


def _words(key: str, value: Any) -> Any:
    table = _VALUE_WORDS.get(key)
    if table is None:
        return value
    if isinstance(value, list):
        return [table.get(v, v) for v in value]
    return table.get(value, value) if isinstance(value, str) else value


def audit_diff_in_words(*, portal: Portal, diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return audit_entries_in_words(portal=portal, entries=[AuditLogEntry(diff=diff)])[0]["rows"]


def audit_entries_in_words(*, portal: Portal, entries: list[AuditLogEntry]) -> list[dict[str, Any]]:
    """Each entry with its diff rows labelled in words and values translated."""
    ids = {r["path"].partition(".")[2] for e in entries for r in (e.diff or []) if r["path"].startswith("webinars.")}
    topics = dict(
        Webinar.objects.filter(account__portal=portal, webinar_id__in=ids).values_list("webinar_id", "topic")
    )
    out = []
    for e in entries:
        rows = []
        for r in e.diff or []:
            key = r["path"].partition(".")[0]
            rows.append({
                **r,
                "label": setting_label(r["path"], topics=topics),
                "old": _words(key, r.get("old")),
                "new": _words(key, r.get("new")),
                "added": _words(key, r.get("added") or []),
                "removed": _words(key, r.get("removed") or []),
            })
        out.append({"entry": e, "rows": rows})
    return out


# --- are the apps' credentials set? (issue 14, item 3) -----------------------------------------


@dataclass
class OAuthSetup:
    """"ok": the real provider's app is configured; "sandbox": the sandbox stands in for it;
    "missing": neither, so the button would send the admin to a provider with no client id."""

    hubspot: str
    zoom: str
    hubspot_missing: str = "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET"
    zoom_missing: str = "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET"


def oauth_setup_get() -> OAuthSetup:
    from django.conf import settings

    def status(client_id: str, secret: str) -> str:
        if client_id and secret:
            return "ok"
        return "sandbox" if getattr(settings, "ZOOMSYNC_SANDBOX", False) else "missing"

    return OAuthSetup(
        hubspot=status(settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET),
        zoom=status(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET),
    )
