"""Recordings and transcripts (R6, R9, R20): pull them per session, and turn them into one
`Zoom: Recording available` event per person and session.

Pull (`recordings_pull`, per synced webinar, called by the pull for every synced webinar):
- every held session without a stored recording is looked up (GET
  /meetings/{uuid}/recordings). Recordings take time to process, so a session still without
  one is looked up again on later syncs until RECORDING_WAIT after it ended; a recording whose
  files are still processing is looked up again too. A stored recording is not asked again.
- the host's rules decide what is kept: R6 (host's domain excluded for recordings) before R9
  (the host's "sync recordings and transcripts" switch, off by default). A recording of a
  stopped host is kept only as a marker (a Recording with no URLs: nothing of it is stored or
  sent) and counted as a recording skip with the reason on every sync, subject = the
  session's UUID (a recurring webinar has one recording per session), so the report counts
  recordings that exist, and a host whose switch is turned on later gets the URLs read
  once more.
- a late transcript (R20): timeline events and app events cannot be changed once created,
  so the event waits for the transcript while Zoom says it is coming. A recording whose video
  is ready but whose TRANSCRIPT file is still processing is stored with
  `transcript_wait_until` = now + TRANSCRIPT_SETTLE; its events are held back until then, and
  it is looked up again on every sync (or at once on `recording.transcript_completed`). The
  transcript comes → its URL is stored, the wait ends, the events go out with it. The settle
  time passes first → the wait ends and the events go out without it (transcript_url "").

Events (`recording_events_build`, called by push for each group of linked contacts): for every
stored recording whose host passes R6/R9 *today* (rules may change after a pull), each person
who registered for (approved/pending) or attended that session gets one event with tokens
webinar_id, topic, start_time, recording_url (the share URL) and transcript_url ("" when the
recording has no TRANSCRIPT file). Only linked contacts are given, so R7/R12/R13/R14 are
already decided. The `marketing_events` sink has no recording concept: recording events go to
`timeline` and `app_events` only.

`recordings.synced` in the report (INTERFACES.md §6) is the number of recordings (sessions)
for which this run sent at least one recording event (`recordings_synced_count`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connector.clients.errors import BadRequest, Forbidden, NotFound
from connector.models import (
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    ParticipantRow,
    Portal,
    Recording,
    Registrant,
    Session,
    SkipReason,
    SyncRun,
    Webinar,
    ZoomAccount,
)
from connector.services.compute import COUNTED_REGISTRATION_STATUSES, session_attendance
from connector.services.guests import participant_rows_of_people
from connector.services.sanitize import zoom_url_clean

if TYPE_CHECKING:
    from connector.clients.zoom import ZoomClient
    from connector.selectors import SyncRules
    from connector.services.events import PersonEvent
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.recordings")

KIND_RECORDING = "recording"
# Zoom usually finishes a cloud recording within hours; look for one this long after the
# session ended, then stop asking (a `full` sync asks again).
RECORDING_WAIT = dt.timedelta(hours=48)
RECURRING_TYPES = (6, 9)
# R20: how long a recording's events wait for a transcript Zoom says is still processing
# (Zoom usually transcribes within about twice the recording's length).
TRANSCRIPT_SETTLE = dt.timedelta(hours=6)
# Sinks that carry recording events; marketing events only know register/attend/cancel.
RECORDING_SINKS = ("timeline", "app_events")


def recording_skip_reason(*, rules: SyncRules, host_email: str) -> str:
    """"" when the host's recordings sync, else the SkipReason (R6 before R9)."""
    if rules.recording_domain_excluded(host_email):
        return SkipReason.RECORDING_DOMAIN_EXCLUDED  # R6
    if not rules.recordings_enabled(host_email):
        return SkipReason.RECORDINGS_OFF  # R9
    return ""


def _session_end(session: Session, webinar: Webinar) -> dt.datetime | None:
    if session.end_time is not None:
        return session.end_time
    minutes = session.scheduled_duration_minutes or webinar.duration_minutes or 0
    return session.start_time + dt.timedelta(minutes=minutes) if session.start_time else None


@dataclass(frozen=True)
class RecordingFiles:
    """What a recordings answer says: the URLs, and whether the transcript is still coming."""

    share_url: str
    transcript_url: str
    transcript_processing: bool = False


def _processing(file: dict[str, Any]) -> bool:
    return str(file.get("status") or "completed").lower() == "processing"


def _recording_fields(body: dict[str, Any]) -> RecordingFiles | None:
    """The URLs of a recordings answer; None when the recording itself is not ready yet."""
    files = [f for f in body.get("recording_files") or [] if isinstance(f, dict)]
    if not files:
        return None
    if any(_processing(f) for f in files if f.get("file_type") != "TRANSCRIPT"):
        return None  # still processing: look again on a later sync
    transcripts = [f for f in files if f.get("file_type") == "TRANSCRIPT"]
    ready = [f for f in transcripts if not _processing(f)]
    files = [f for f in files if f.get("file_type") != "TRANSCRIPT"] + ready
    share_url = body.get("share_url") or next(
        (f.get("play_url") for f in files if f.get("file_type") == "MP4" and f.get("play_url")),
        next((f.get("play_url") for f in files if f.get("play_url")), ""),
    )
    if not share_url:
        return None
    transcript = next((f.get("play_url") or f.get("download_url") or "" for f in ready), "")
    return RecordingFiles(
        share_url=str(share_url)[:1000],
        transcript_url=str(transcript)[:1000],
        transcript_processing=bool(transcripts) and not transcript,
    )


def recordings_pull(
    *,
    account: ZoomAccount,
    client: ZoomClient,
    webinar: Webinar,
    rules: SyncRules,
    report: SyncReport,
    full: bool = False,
) -> None:
    """Store the cloud recording of each held session of a synced webinar (see the module
    docstring). Counts `pulled["recordings"]` for every recording read from Zoom."""
    now = timezone.now()
    reason = recording_skip_reason(rules=rules, host_email=webinar.host_email)
    for session in webinar.sessions.select_related("recording").order_by("start_time", "pk"):
        recording: Recording | None = getattr(session, "recording", None)
        end = _session_end(session, webinar)
        if end is not None and end > now:
            continue  # a recording exists only after the session
        marker = recording is not None and not recording.share_url
        # R20: a transcript Zoom said was coming is looked for again.
        awaited = recording is not None and recording.transcript_wait_until is not None
        if full or recording is None or ((marker or awaited) and not reason):
            waited = (
                recording is None
                and session.recording_checked_at is not None
                and end is not None
                and session.recording_checked_at > end + RECORDING_WAIT
            )
            if full or not waited:  # else: looked long enough after the session, there is none
                recording = _recording_fetch(
                    account=account, client=client, session=session, recording=recording, reason=reason, report=report
                )
        if recording is not None and reason:
            report.skip(
                kind="recording",
                reason=reason,
                subject=session.uuid,
                detail=f"webinar {webinar.webinar_id} {webinar.topic}; host {webinar.host_email}"[:500],
            )


def _recording_fetch(
    *,
    account: ZoomAccount,
    client: ZoomClient,
    session: Session,
    recording: Recording | None,
    reason: str,
    report: SyncReport,
) -> Recording | None:
    """Ask Zoom for one session's recording; store it (URLs only when no rule stops the host)."""
    try:
        body = client.recordings_get(session.uuid)
    except (Forbidden, BadRequest, NotFound) as exc:
        # No recording scope, or a UUID Zoom no longer knows: try again on a later sync.
        logger.info("recordings of %s (account %s) not readable: %s", session.uuid, account.account_id, exc)
        return _wait_settled(account=account, session=session, recording=recording)
    Session.objects.filter(pk=session.pk).update(recording_checked_at=timezone.now())
    fields = _recording_fields(body) if body else None
    if fields is None:
        if recording is not None and not recording.share_url:
            recording.delete()  # a marker of a recording Zoom no longer has
            return None
        # A recording we sent events for stays (the events happened).
        return _wait_settled(account=account, session=session, recording=recording)
    report.pulled["recordings"] += 1
    share_url, transcript_url = (fields.share_url, fields.transcript_url) if not reason else ("", "")  # R6/R9
    wait_until = None
    if fields.transcript_processing and not reason:
        if recording is not None and recording.transcript_url:
            transcript_url = recording.transcript_url  # transcribed again: the URL we have stays
        else:
            wait_until = _transcript_wait(recording)
    stored = (recording.share_url, recording.transcript_url, recording.transcript_wait_until) if recording else None
    if stored != (share_url, transcript_url, wait_until):
        recording = _recording_store(
            account=account, session=session, share_url=share_url, transcript_url=transcript_url, wait_until=wait_until
        )
    return recording


def _wait_settled(*, account: ZoomAccount, session: Session, recording: Recording | None) -> Recording | None:
    """R20: Zoom did not answer with the recording: a transcript wait whose settle time has
    passed ends here, so the events go out and the recording is not asked for again."""
    wait = recording.transcript_wait_until if recording is not None else None
    if recording is None or wait is None or wait > timezone.now():
        return recording
    return _recording_store(
        account=account, session=session, share_url=recording.share_url, transcript_url=recording.transcript_url,
        wait_until=None,
    )


def _recording_store(
    *, account: ZoomAccount, session: Session, share_url: str, transcript_url: str, wait_until: dt.datetime | None
) -> Recording:
    from connector.services.sync_requests import webinar_people_mark_dirty

    with transaction.atomic():
        recording, _ = Recording.objects.update_or_create(
            session=session,
            defaults={"share_url": share_url, "transcript_url": transcript_url, "transcript_wait_until": wait_until},
        )
        # B2: a new or changed recording (or one no longer waiting) reaches the people of its webinar.
        webinar_people_mark_dirty(portal=account.portal, webinar_pks=[session.webinar_id])
    return recording


def _transcript_wait(recording: Recording | None) -> dt.datetime | None:
    """R20: until when the events of a recording whose transcript is processing wait (None:
    no more). The first deadline stays; once it has passed, the events go without it."""
    now = timezone.now()
    deadline = recording.transcript_wait_until if recording is not None else None
    if deadline is None:
        deadline = now + TRANSCRIPT_SETTLE
    return deadline if deadline > now else None


def recording_transcript_announced(*, sessions: QuerySet[Session]) -> int:
    """R20: Zoom says the transcript of these sessions' recordings is done: a stored recording
    without one is read again by the next pull, and its events not yet sent wait for it (at
    most TRANSCRIPT_SETTLE). A recording a rule stopped (no URL) stays as it is."""
    return (
        Recording.objects.filter(session__in=sessions, transcript_url="", transcript_wait_until__isnull=True)
        .exclude(share_url="")
        .update(transcript_wait_until=timezone.now() + TRANSCRIPT_SETTLE)
    )


# --- events ------------------------------------------------------------------------------


def _registered_for(reg: dict[str, Any], session: Session, webinar: Webinar, end: dt.datetime | None) -> bool:
    """Did this registration cover this session? Chosen occurrences when Zoom told us; else a
    recurring webinar's registration covers the sessions that ended after it was made."""
    occurrence_ids = reg["occurrence_ids"] or []
    if occurrence_ids and session.occurrence_id:
        return session.occurrence_id in {str(o) for o in occurrence_ids}
    if webinar.webinar_type in RECURRING_TYPES and reg["create_time"] is not None and end is not None:
        return reg["create_time"] <= end
    return True


def recording_events_build(
    *, portal: Portal, webinars: QuerySet[Webinar], contacts: dict[str, str], rules: SyncRules
) -> list[PersonEvent]:
    """One `Zoom: Recording available` event per linked person ({email: contact id}) and
    recorded session they registered for or attended (R20)."""
    from connector.services.events import PersonEvent, event_id_for
    from connector.services.hubspot_schema import TEMPLATE_RECORDING

    if not contacts:
        return []
    recordings = [
        r
        for r in Recording.objects.filter(session__webinar__in=webinars)
        .exclude(share_url="")  # markers of recordings a rule stopped at the pull
        .exclude(transcript_wait_until__gt=timezone.now())  # R20: waiting for its transcript
        .select_related("session__webinar")
        if not recording_skip_reason(rules=rules, host_email=r.session.webinar.host_email)
    ]
    if not recordings:
        return []
    emails = list(contacts)
    webinar_pks = {r.session.webinar_id for r in recordings}
    regs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for reg in Registrant.objects.filter(
        webinar_id__in=webinar_pks, email__in=emails, status__in=COUNTED_REGISTRATION_STATUSES
    ).values("webinar_id", "email", "occurrence_ids", "create_time"):
        regs[reg["webinar_id"]].append(dict(reg))
    rows: dict[tuple[int, str], list[tuple[dt.datetime | None, dt.datetime | None]]] = defaultdict(list)
    for session_id, email, join, leave in (
        participant_rows_of_people(  # B5: guests found by registrant id count as the registrant
            rows=ParticipantRow.objects.filter(session_id__in=[r.session_id for r in recordings]), emails=emails
        )
        .order_by("session_id", "person_email", "join_time")
        .values_list("session_id", "person_email", "join_time", "leave_time")
    ):
        rows[(session_id, email)].append((join, leave))

    events: list[PersonEvent] = []
    for recording in sorted(recordings, key=lambda r: r.session_id):
        session = recording.session
        webinar = session.webinar
        end = _session_end(session, webinar)
        people = {reg["email"] for reg in regs.get(webinar.pk, []) if _registered_for(reg, session, webinar, end)}
        for (session_id, email), intervals in rows.items():
            if session_id != session.pk or email in people:
                continue
            attended = session_attendance(
                session_start=session.start_time,
                session_end=session.end_time,
                scheduled_minutes=session.scheduled_duration_minutes or webinar.duration_minutes,
                rows=intervals,
            )
            if attended is not None:  # attended = more than zero seconds (§5)
                people.add(email)
        start = session.start_time or webinar.start_time
        for email in sorted(people):
            events.append(
                PersonEvent(
                    kind=KIND_RECORDING,
                    event_id=event_id_for(
                        portal=portal, kind=KIND_RECORDING, webinar_id=webinar.webinar_id, session_uuid=session.uuid, email=email
                    ),
                    email=email,
                    contact_id=contacts[email],
                    template=TEMPLATE_RECORDING,
                    # The recording becomes available after the session.
                    timestamp=end or start or recording.pulled_at,
                    tokens={
                        "webinar_id": webinar.webinar_id,
                        "topic": webinar.topic,
                        "start_time": str(int(start.timestamp() * 1000)) if start else "",
                        "recording_url": zoom_url_clean(recording.share_url),
                        "transcript_url": zoom_url_clean(recording.transcript_url),
                    },
                    webinar_pk=webinar.pk,
                    session_pk=session.pk,
                )
            )
    return events


def recording_outbox_items(
    *,
    portal: Portal,
    run: SyncRun | None,
    webinars: QuerySet[Webinar],
    contacts: dict[str, str],
    rules: SyncRules,
    sinks: Iterable[str],
) -> list[OutboxItem]:
    """Outbox rows of the recording events of `contacts`, on the sinks that carry them. Each
    row remembers its session's UUID, so the report can count recordings synced."""
    from connector.services.events import EventFacts, event_outbox_items

    sinks = [s for s in sinks if s in RECORDING_SINKS]
    if not sinks:
        return []
    events = recording_events_build(portal=portal, webinars=webinars, contacts=contacts, rules=rules)
    if not events:
        return []
    session_uuids = dict(Session.objects.filter(pk__in={e.session_pk for e in events}).values_list("pk", "uuid"))
    uuid_of = {e.event_id: session_uuids.get(e.session_pk or 0, "") for e in events}
    items = event_outbox_items(portal=portal, run=run, facts=EventFacts(events=events), sinks=sinks)
    for item in items:
        item.payload["session_uuid"] = uuid_of.get(item.dedupe_key, "")
    return items


def recordings_synced_count(*, portal: Portal, since: dt.datetime) -> int:
    """Recordings (sessions) with at least one recording event sent since `since` (this run),
    on the first sink that carries recordings (the one the report counts)."""
    kinds = [OutboxKind.TIMELINE_EVENT, OutboxKind.APP_EVENT]
    sent = (
        OutboxItem.objects.filter(
            portal=portal,
            kind__in=kinds,
            status=OutboxStatus.SENT,
            sent_at__gte=since,
            payload__report_kind=KIND_RECORDING,
            last_error="",  # "already in HubSpot": sent by an earlier run
        )
        .values_list("payload__session_uuid", flat=True)
        .distinct()
    )
    return len(set(sent))
