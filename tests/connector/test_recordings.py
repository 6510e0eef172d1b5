"""Recordings service, unit level (R6, R9, R20): Zoom mocked with `responses`, our database
as the pull and push leave it. End-to-end tests over the sandbox: test_recordings_sandbox.py."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
import responses

from connector.clients.zoom import ZoomClient
from connector.models import (
    ParticipantRow,
    Recording,
    Registrant,
    Session,
    SkipReason,
    Webinar,
    ZoomAccount,
)
from connector.selectors import SyncRules
from connector.services.recordings import (
    RECORDING_WAIT,
    recording_events_build,
    recording_outbox_items,
    recording_skip_reason,
    recordings_pull,
)
from connector.services.report import SyncReport

pytestmark = pytest.mark.django_db

ZOOM = "https://api.zoom.us/v2"
HOST = "host@acme.com"
# Recent sessions (recordings are looked for until RECORDING_WAIT after a session).
T0 = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).replace(hour=15, minute=0, second=0, microsecond=0)


def rules(*, recordings: bool = True, excluded: tuple[str, ...] = ()) -> SyncRules:
    return SyncRules(
        sync_mode="all",
        selected_users=frozenset(),
        excluded_host_domains=frozenset(),
        excluded_recording_domains=frozenset(excluded),
        excluded_contact_domains=frozenset(),
        users={HOST: {"sync_new_webinars_by_default": True, "sync_recordings": recordings}},
        event_sinks=("timeline",),
    )


@pytest.fixture
def zoom() -> ZoomClient:
    return ZoomClient(base_url=ZOOM, token_provider=lambda: "t", sleep=lambda s: None, max_retries=1)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def account(portal) -> ZoomAccount:
    return ZoomAccount.objects.create(portal=portal, account_id="zacc_main")


def webinar_with_sessions(account: ZoomAccount, *, n: int = 1, webinar_type: int = 5, host: str = HOST) -> Webinar:
    webinar = Webinar.objects.create(
        account=account, webinar_id="81000000001", host_email=host, topic="Launch", webinar_type=webinar_type,
        start_time=T0, duration_minutes=60, join_url="https://zoom.us/j/81000000001",
    )
    for i in range(n):
        start = T0 + dt.timedelta(days=7 * i)
        Session.objects.create(
            webinar=webinar, uuid=f"uuid{i}==", occurrence_id=f"occ{i}" if webinar_type in (6, 9) else "",
            start_time=start, end_time=start + dt.timedelta(hours=1), scheduled_duration_minutes=60,
            participants_complete=True,
        )
    return webinar


def rec_url(uuid: str) -> str:
    return f"{ZOOM}/meetings/{quote(uuid, safe='')}/recordings"


def recording_body(uuid: str, *, transcript: bool = True, status: str = "completed") -> dict:
    files = [{"file_type": "MP4", "play_url": f"https://zoom.us/rec/play/{uuid}-mp4", "status": status}]
    if transcript:
        files.append({"file_type": "TRANSCRIPT", "play_url": f"https://zoom.us/rec/play/{uuid}-vtt",
                      "download_url": f"https://zoom.us/rec/download/{uuid}-vtt", "status": status})
    return {"uuid": uuid, "share_url": f"https://zoom.us/rec/share/{uuid}", "recording_files": files}


def no_recording(mocked, uuid: str) -> None:
    mocked.get(rec_url(uuid), status=404,
               json={"code": 3301, "message": "There is no recording for this meeting."})


def test_r20_recording_and_transcript_urls_stored(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0=="))
    report = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=report)
    rec = Recording.objects.get(session__uuid="uuid0==")
    assert rec.share_url == "https://zoom.us/rec/share/uuid0=="
    assert rec.transcript_url == "https://zoom.us/rec/play/uuid0==-vtt"
    assert report.pulled["recordings"] == 1
    assert Session.objects.get(uuid="uuid0==").recording_checked_at is not None


def test_r20_recording_without_transcript_has_empty_transcript_url(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0==", transcript=False))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert Recording.objects.get().transcript_url == ""


def test_r20_share_url_falls_back_to_mp4_play_url(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    body = recording_body("uuid0==")
    del body["share_url"]
    mocked.get(rec_url("uuid0=="), json=body)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert Recording.objects.get().share_url == "https://zoom.us/rec/play/uuid0==-mp4"


def test_r9_recordings_off_counts_existing_recordings_and_keeps_no_url(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account, n=2, webinar_type=9)
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0=="))
    no_recording(mocked, "uuid1==")
    report = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(recordings=False), report=report)
    # One recording exists (the other session has none): one skip, and nothing of it kept.
    assert report.skip_count(kind="recording", reason=SkipReason.RECORDINGS_OFF) == 1
    assert report.skip_count(kind="recording", reason=SkipReason.RECORDING_DOMAIN_EXCLUDED) == 0
    assert list(Recording.objects.values_list("session__uuid", "share_url", "transcript_url")) == [("uuid0==", "", "")]
    # Reported again on the next sync without asking Zoom for it again.
    calls = len(mocked.calls)
    again = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(recordings=False), report=again)
    assert again.skip_count(kind="recording", reason=SkipReason.RECORDINGS_OFF) == 1
    assert not any("uuid0" in c.request.url for c in mocked.calls[calls:])
    # The host's switch turned on: the URLs are read once more and stored.
    on = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=on)
    assert Recording.objects.get(session__uuid="uuid0==").share_url == "https://zoom.us/rec/share/uuid0=="
    assert on.skip_count(kind="recording", reason=SkipReason.RECORDINGS_OFF) == 0


def test_r6_excluded_domain_skipped_even_with_switch_on(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0=="))
    report = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(excluded=("acme.com",)), report=report)
    assert report.skip_count(kind="recording", reason=SkipReason.RECORDING_DOMAIN_EXCLUDED) == 1
    assert report.skip_count(kind="recording", reason=SkipReason.RECORDINGS_OFF) == 0
    assert Recording.objects.get().share_url == ""
    # No event from a marker, whatever the rules say now.
    _reg(webinar, "reg@example.com")
    assert _events(portal, {"reg@example.com": "1"}) == []


def test_r6_before_r9_and_other_domains_unaffected():
    assert recording_skip_reason(rules=rules(recordings=False, excluded=("acme.com",)), host_email=HOST) == "recording_domain_excluded"
    assert recording_skip_reason(rules=rules(excluded=("other.com",)), host_email=HOST) == ""
    assert recording_skip_reason(rules=rules(recordings=False), host_email=HOST) == "recordings_off"


def test_recording_missing_is_checked_again_then_stored_then_not_asked_again(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    Session.objects.update(start_time=recent, end_time=recent + dt.timedelta(hours=1))
    no_recording(mocked, "uuid0==")
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert not Recording.objects.exists() and len(mocked.calls) == 1
    mocked.replace(responses.GET, rec_url("uuid0=="), json=recording_body("uuid0=="))
    report = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=report)
    assert Recording.objects.count() == 1 and report.pulled["recordings"] == 1
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert len(mocked.calls) == 2  # a stored recording is not asked for again


def test_processing_recording_is_not_stored_yet(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0==", status="processing"))
    report = SyncReport(portal=portal, run=None)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=report)
    assert not Recording.objects.exists() and report.pulled["recordings"] == 0


def test_recording_not_looked_for_after_the_wait(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    session = Session.objects.get()
    Session.objects.filter(pk=session.pk).update(recording_checked_at=session.end_time + RECORDING_WAIT + dt.timedelta(hours=1))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert len(mocked.calls) == 0
    mocked.get(rec_url("uuid0=="), json=recording_body("uuid0=="))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None), full=True)
    assert Recording.objects.count() == 1  # a full sync asks again


def test_session_not_over_is_not_asked(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    Session.objects.update(start_time=future, end_time=future + dt.timedelta(hours=1))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert len(mocked.calls) == 0


# --- events ------------------------------------------------------------------------------


def _reg(webinar: Webinar, email: str, *, status: str = "approved", occurrence_ids: list[str] | None = None,
         created: dt.datetime = T0 - dt.timedelta(days=1)) -> None:
    Registrant.objects.create(webinar=webinar, registrant_id=f"r-{email}", email=email, status=status,
                              occurrence_ids=occurrence_ids or [], create_time=created)


def _attend(session: Session, email: str, minutes: int = 30) -> None:
    ParticipantRow.objects.create(session=session, row_key=f"{email}|{session.uuid}", email=email,
                                  join_time=session.start_time,
                                  leave_time=session.start_time + dt.timedelta(minutes=minutes))


def _events(portal, contacts, **rule_kw):
    return recording_events_build(portal=portal, webinars=Webinar.objects.all(), contacts=contacts, rules=rules(**rule_kw))


def test_r20_registered_and_attended_people_get_one_event_each(account, portal):
    webinar = webinar_with_sessions(account)
    session = Session.objects.get()
    Recording.objects.create(session=session, share_url="https://zoom.us/rec/share/x", transcript_url="")
    _reg(webinar, "reg@example.com")
    _reg(webinar, "both@example.com")
    _attend(session, "both@example.com")
    _attend(session, "walkin@example.com")
    _reg(webinar, "gone@example.com", status="cancelled")
    _reg(webinar, "denied@example.com", status="denied")
    contacts = {e: str(i) for i, e in enumerate(
        ["reg@example.com", "both@example.com", "walkin@example.com", "gone@example.com", "denied@example.com"], 1)}
    events = _events(portal, contacts)
    assert sorted(e.email for e in events) == ["both@example.com", "reg@example.com", "walkin@example.com"]
    ev = next(e for e in events if e.email == "both@example.com")
    assert ev.contact_id == "2" and ev.template == "Zoom: Recording available"
    assert ev.tokens == {
        "webinar_id": "81000000001", "topic": "Launch", "start_time": str(int(T0.timestamp() * 1000)),
        "recording_url": "https://zoom.us/rec/share/x", "transcript_url": "",
    }
    # Deterministic: built again, the same ids.
    assert {e.event_id for e in _events(portal, contacts)} == {e.event_id for e in events}


def test_r9_r6_no_recording_events_when_rules_now_stop_the_host(account, portal):
    webinar = webinar_with_sessions(account)
    Recording.objects.create(session=Session.objects.get(), share_url="https://zoom.us/rec/share/x")
    _reg(webinar, "reg@example.com")
    assert len(_events(portal, {"reg@example.com": "1"})) == 1
    assert _events(portal, {"reg@example.com": "1"}, recordings=False) == []
    assert _events(portal, {"reg@example.com": "1"}, excluded=("acme.com",)) == []


def test_recurring_registration_for_chosen_occurrences_gets_those_recordings_only(account, portal):
    webinar = webinar_with_sessions(account, n=3, webinar_type=9)
    for session in Session.objects.all():
        Recording.objects.create(session=session, share_url=f"https://zoom.us/rec/share/{session.uuid}")
    _reg(webinar, "series@example.com")
    _reg(webinar, "second@example.com", occurrence_ids=["occ1"])
    # Registered after the first occurrence was held: its recording was not "theirs".
    _reg(webinar, "late@example.com", created=T0 + dt.timedelta(days=3))
    events = _events(portal, {"series@example.com": "1", "second@example.com": "2", "late@example.com": "3"})
    by_person: dict[str, set[str]] = {}
    for e in events:
        by_person.setdefault(e.email, set()).add(e.tokens["recording_url"].rsplit("/", 1)[1])
    assert by_person == {
        "series@example.com": {"uuid0==", "uuid1==", "uuid2=="},
        "second@example.com": {"uuid1=="},
        "late@example.com": {"uuid1==", "uuid2=="},
    }
    assert len({e.event_id for e in events}) == len(events) == 6


def test_recording_outbox_items_skip_marketing_sink_and_remember_session(account, portal):
    webinar = webinar_with_sessions(account)
    Recording.objects.create(session=Session.objects.get(), share_url="https://zoom.us/rec/share/x")
    _reg(webinar, "reg@example.com")
    items = recording_outbox_items(portal=portal, run=None, webinars=Webinar.objects.all(),
                                   contacts={"reg@example.com": "7"}, rules=rules(),
                                   sinks=["marketing_events", "timeline", "app_events"])
    assert sorted(i.kind for i in items) == ["app_event", "timeline_event"]
    # Counted once in the report: on the first sink that carries recordings.
    assert [i.payload["report_kind"] for i in items if i.kind == "timeline_event"] == ["recording"]
    assert [i.payload["report_kind"] for i in items if i.kind == "app_event"] == [""]
    assert all(i.payload["session_uuid"] == "uuid0==" for i in items)
    assert recording_outbox_items(portal=portal, run=None, webinars=Webinar.objects.all(),
                                  contacts={"reg@example.com": "7"}, rules=rules(), sinks=["marketing_events"]) == []


# --- a late transcript (R20) -------------------------------------------------------------


def _processing_transcript(uuid: str) -> dict:
    body = recording_body(uuid)
    body["recording_files"][1]["status"] = "processing"
    return body


def test_r20_processing_transcript_stores_the_recording_and_holds_its_events(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    _reg(webinar, "reg@example.com")
    mocked.get(rec_url("uuid0=="), json=_processing_transcript("uuid0=="))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    rec = Recording.objects.get()
    assert rec.share_url == "https://zoom.us/rec/share/uuid0==" and rec.transcript_url == ""
    assert rec.transcript_wait_until is not None
    assert _events(portal, {"reg@example.com": "1"}) == []  # waiting for the transcript
    # The next pull asks again; the transcript is done: stored, the wait ends, the event carries it.
    mocked.replace(responses.GET, rec_url("uuid0=="), json=recording_body("uuid0=="))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    rec.refresh_from_db()
    assert rec.transcript_url == "https://zoom.us/rec/play/uuid0==-vtt" and rec.transcript_wait_until is None
    [event] = _events(portal, {"reg@example.com": "1"})
    assert event.tokens["transcript_url"] == "https://zoom.us/rec/play/uuid0==-vtt"


def test_r20_transcript_wait_is_bounded_by_the_settle_time(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    _reg(webinar, "reg@example.com")
    mocked.get(rec_url("uuid0=="), json=_processing_transcript("uuid0=="))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    first_deadline = Recording.objects.get().transcript_wait_until
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert Recording.objects.get().transcript_wait_until == first_deadline  # the first deadline stays
    Recording.objects.update(transcript_wait_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert Recording.objects.get().transcript_wait_until is None  # settled: no more waiting
    [event] = _events(portal, {"reg@example.com": "1"})
    assert event.tokens["transcript_url"] == ""
    calls = len(mocked.calls)
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert len(mocked.calls) == calls  # not asked again


def test_r9_stopped_host_recording_never_waits_for_a_transcript(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    mocked.get(rec_url("uuid0=="), json=_processing_transcript("uuid0=="))
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(recordings=False),
                    report=SyncReport(portal=portal, run=None))
    rec = Recording.objects.get()
    assert rec.share_url == "" and rec.transcript_wait_until is None


def test_r20_expired_transcript_wait_ends_even_when_zoom_no_longer_answers(account, zoom, mocked, portal):
    webinar = webinar_with_sessions(account)
    session = Session.objects.get()
    Recording.objects.create(session=session, share_url="https://zoom.us/rec/share/x",
                             transcript_wait_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    no_recording(mocked, "uuid0==")
    recordings_pull(account=account, client=zoom, webinar=webinar, rules=rules(), report=SyncReport(portal=portal, run=None))
    assert Recording.objects.get().transcript_wait_until is None  # not asked again on every sync
