"""Issue 12: what goes to HubSpot from Zoom is checked. Every URL is https on a Zoom host
or empty (Zoom's `javascript:` URLs reached the last-registered property, the timeline's
recording_url and the marketing event's eventUrl); an address failing Django's email
validator is reported as a skip and never created as a contact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.models import PersonStats, SkipReason
from connector.services.contacts import desired_properties
from connector.services.hubspot_schema import PROP_LAST_REGISTERED
from connector.services.report import REASONS_BY_KIND
from connector.services.sanitize import email_is_valid, zoom_url_clean

JS = "javascript:alert(document.cookie)//https://zoom.us/j/1"


@pytest.mark.parametrize("url", [
    JS, "JAVASCRIPT:alert(1)", "http://zoom.us/j/1", "https://zoom.us.evil.example/j/1",
    "https://evilzoom.us/j/1", "https://user:pw@zoom.us/j/1", "data:text/html,<svg onload=alert(1)>",
    "https://zoom.us/j/1\"><script>", "//zoom.us/j/1", "https://zoom.us:99999/j/1", None, 17, "",
])
def test_foreign_or_script_urls_become_empty(url):
    assert zoom_url_clean(url) == ""


@pytest.mark.parametrize("url", [
    "https://zoom.us/j/81000000001?pwd=abc", "https://us02web.zoom.us/w/81000000001?tk=x",
    "https://acme.zoom.us/rec/share/abc", "https://zoomgov.com/j/1", "https://events.zoom.com/e/1",
])
def test_zoom_https_urls_pass(url):
    assert zoom_url_clean(url) == url


@pytest.mark.django_db
def test_javascript_url_never_reaches_the_last_registered_property(portal):
    stats = PersonStats(portal=portal, email="jane@example.com", registration_count=1,
                        average_attendance_percent=Decimal("50.0"), last_registered_url=JS)
    assert desired_properties(stats)[PROP_LAST_REGISTERED] == ""


@pytest.mark.django_db
def test_javascript_url_never_reaches_the_marketing_event(portal):
    from connector.models import Session, Webinar, ZoomAccount
    from connector.services.events import _marketing_event_item

    account = ZoomAccount.objects.create(portal=portal, account_id="z")
    webinar = Webinar.objects.create(account=account, webinar_id="81000000001", topic="T", join_url=JS,
                                     start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), duration_minutes=60)
    session = Session.objects.create(webinar=webinar, uuid="u1", start_time=webinar.start_time,
                                     end_time=webinar.start_time + dt.timedelta(hours=1))
    item = _marketing_event_item(portal, None, session)
    assert item.payload["body"]["eventUrl"] == ""
    assert "javascript" not in str(item.payload).lower()


@pytest.mark.parametrize("email", [
    "bad<svg/onload=alert(1)>@example.com", "a b@example.com", "no-at-sign", "x@", "@example.com",
    "jane@exa mple.com", "", None,
])
def test_bad_emails_fail(email):
    assert not email_is_valid(email)


@pytest.mark.parametrize("email", ["jane@example.com", "ops/team@acme.com", "o'brien+x@acme.co.uk"])
def test_good_emails_pass(email):
    assert email_is_valid(email)


def test_invalid_email_is_a_person_skip_reason():
    assert SkipReason.INVALID_EMAIL in REASONS_BY_KIND["person"]


@pytest.mark.django_db
def test_javascript_url_never_reaches_the_recording_event(portal):
    from connector.models import Recording, Registrant, Session, Webinar, ZoomAccount
    from connector.selectors import sync_rules_get
    from connector.services.recordings import recording_events_build

    account = ZoomAccount.objects.create(portal=portal, account_id="z")
    start = dt.datetime(2026, 1, 1, 15, tzinfo=dt.UTC)
    webinar = Webinar.objects.create(account=account, webinar_id="81000000001", topic="T", start_time=start,
                                     duration_minutes=60, host_email="host@acme.com")
    session = Session.objects.create(webinar=webinar, uuid="u1", start_time=start,
                                     end_time=start + dt.timedelta(hours=1))
    Recording.objects.create(session=session, share_url=JS, transcript_url="https://evil.example/t")
    Registrant.objects.create(webinar=webinar, registrant_id="r1", email="jane@example.com",
                              status="approved", create_time=start - dt.timedelta(days=1))
    from connector.models import ZoomUserSetting

    ZoomUserSetting.objects.create(portal=portal, email="host@acme.com", sync_recordings=True)  # R9 on
    events = recording_events_build(portal=portal, webinars=Webinar.objects.all(),
                                    contacts={"jane@example.com": "1"}, rules=sync_rules_get(portal=portal))
    assert len(events) == 1
    for event in events:
        assert event.tokens["recording_url"] == "" and event.tokens["transcript_url"] == ""


@pytest.mark.django_db
def test_bad_email_is_reported_as_a_skip_and_never_created(portal):
    from connector.clients.hubspot import BatchResult
    from connector.models import OutboxItem, OutboxKind, SyncRun
    from connector.selectors import sync_rules_get
    from connector.services.contacts import PushContext
    from connector.services.push import _PortalPush
    from connector.services.report import SyncReport

    bad = "bad<svg/onload=alert(1)>@example.com"
    people = [PersonStats.objects.create(portal=portal, email=e) for e in (bad, "jane@example.com")]
    asked: list[str] = []

    class FakeHubSpot:
        def contacts_batch_read(self, emails, **kwargs):
            asked.extend(emails)
            return BatchResult()  # nobody found

    run = SyncRun.objects.create(portal=portal)
    report = SyncReport(portal=portal, run=run)
    ctx = PushContext(portal=portal, client=FakeHubSpot(), report=report, rules=sync_rules_get(portal=portal),
                      run=run)
    push = _PortalPush(ctx=ctx, progress=None)
    push._chunk_resolve(people)
    push._archived_flush(force=True)
    report.flush()
    assert bad not in asked and "jane@example.com" in asked
    creates = set(OutboxItem.objects.filter(kind=OutboxKind.CONTACT_CREATE).values_list("dedupe_key", flat=True))
    assert creates == {"jane@example.com"}
    assert report.skip_count(kind="person", reason=SkipReason.INVALID_EMAIL) == 1
    assert run.skips.get().subject == bad
