"""B2 registrant counts, end to end over HTTP to the sandbox: a scheduled sync asks Zoom how
many registrants each status holds (one call of page size 1) and lists only the statuses whose
count changed; `--full` lists everything (what catches a cancellation and a new registration of
the same status between two syncs); R18 cancels no one because a status was skipped."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from connector.clients.errors import BadRequest
from connector.clients.zoom import ZoomClient
from connector.models import (
    Registrant,
    RegistrantCount,
    SyncRun,
    WebhookEvent,
    WebhookProvider,
    WebhookStatus,
    Webinar,
)
from connector.services.pipeline import portal_sync
from tests.connector.issue5_scenarios import (
    NOW,
    base_scenario,
    connect,
    contact_props,
    iso,
    registrant,
    sync,
    webinar_of,
)

pytestmark = pytest.mark.django_db(transaction=False)

A, B = 81000000301, 81000000302
HELD = NOW - dt.timedelta(days=2)
REGISTRANTS = "GET /v2/webinars/{webinarId}/registrants"


def scenario(approved: int = 650) -> dict[str, Any]:
    """A: `approved` approved registrants (three pages of 300 at 650) and Paula pending; B:
    Jane approved, Bob pending. Neither held yet (no participant report to read)."""
    created = HELD - dt.timedelta(days=9)
    regs_a = [registrant(f"r_p{n}", f"person{n}@example.com", created=created, webinar_id=A) for n in range(approved)]
    regs_a.append(registrant("r_paula", "paula@example.org", status="pending", created=created, webinar_id=A))
    webinars = [
        {"id": A, "host_id": "zu_1", "topic": "A", "type": 5, "start_time": iso(NOW + dt.timedelta(days=5)),
         "duration": 60, "join_url": f"https://zoom.us/j/{A}", "registrants": regs_a, "instances": []},
        {"id": B, "host_id": "zu_1", "topic": "B", "type": 5, "start_time": iso(NOW + dt.timedelta(days=6)),
         "duration": 60, "join_url": f"https://zoom.us/j/{B}",
         "registrants": [
             registrant("r_jane", "jane@example.com", created=created, webinar_id=B),
             registrant("r_bob", "bob@example.org", status="pending", created=created, webinar_id=B),
         ],
         "instances": []},
    ]
    return base_scenario(webinars=webinars)


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every registrant listing the pull starts, as (webinar id, status): the count checks
    (`registrants_total`) are not listings."""
    started: list[tuple[str, str]] = []
    real = ZoomClient.registrants_iter

    def spy(self: ZoomClient, webinar_id: str | int, **kw: Any) -> Any:
        started.append((str(webinar_id), kw.get("status", "approved")))
        return real(self, webinar_id, **kw)

    monkeypatch.setattr(ZoomClient, "registrants_iter", spy)
    return started


def set_status(data: dict[str, Any], webinar_id: int, registrant_id: str, status: str) -> None:
    reg = next(r for r in webinar_of(data, webinar_id)["registrants"] if r["id"] == registrant_id)
    reg["status"] = status  # "cancelled": Zoom lists them under no status


def statuses(webinar_id: int) -> dict[str, str]:
    return dict(Registrant.objects.filter(webinar__webinar_id=str(webinar_id)).values_list("registrant_id", "status"))


def full_sync(portal: Any) -> dict[str, Any]:
    return portal_sync(portal=portal, run=SyncRun.objects.create(portal=portal, trigger="cli", full=True))


def test_b2_unchanged_sync_lists_no_registrants(sandbox, listings):
    portal = connect(sandbox, scenario())
    first = sync(portal)
    assert first["errors"] == [] and first["pulled"]["registrants"] == 653
    assert Counter(listings) == Counter({(str(A), "approved"): 1, (str(A), "pending"): 1, (str(A), "denied"): 1,
                                         (str(B), "approved"): 1, (str(B), "pending"): 1, (str(B), "denied"): 1})
    # The first sync stored what each whole listing held.
    assert dict(
        RegistrantCount.objects.filter(webinar__webinar_id=str(A)).values_list("status", "total")
    ) == {"approved": 650, "pending": 1, "denied": 0}
    listed_pages = sandbox.calls()["zoom"][REGISTRANTS]
    assert listed_pages >= 3 + 3 + 2  # A approved: 3 pages of 300; every other status one

    listings.clear()
    sandbox.calls_clear()
    again = sync(portal)
    assert again["errors"] == []
    assert listings == []  # no status listed
    assert again["pulled"]["registrants"] == 0
    # What is left: one count (page size 1) per status of each synced webinar.
    assert sandbox.calls()["zoom"][REGISTRANTS] == 3 * 2
    assert again["people"]["contacts_created"] == 0 and again["people"]["contacts_updated"] == 0
    assert "cancelled" not in statuses(A).values() and "cancelled" not in statuses(B).values()


def test_b2_a_new_registrant_is_seen_by_the_count_check(sandbox, listings):
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    webinar_of(data, A)["registrants"].append(
        registrant("r_new", "new@example.net", created=HELD - dt.timedelta(days=1), webinar_id=A)
    )
    sandbox.load_zoom(data)
    listings.clear()
    report = sync(portal)
    assert report["errors"] == []
    # Only A's approved count changed: that status alone is listed (no one is missing from it).
    assert listings == [(str(A), "approved")]
    assert contact_props(sandbox.state(), "new@example.net")["zoomsync_registration_count"] == "1"
    assert report["people"]["contacts_created"] == 1
    assert RegistrantCount.objects.get(webinar__webinar_id=str(A), status="approved").total == 651
    assert "cancelled" not in statuses(A).values()

    listings.clear()
    assert sync(portal)["pulled"]["registrants"] == 0 and listings == []  # settled again


def test_b2_same_count_swap_is_caught_by_the_full_sync(sandbox, listings):
    """The blind spot, documented in docs/sync.md: a cancellation and a new registration of
    the same status between two syncs keep the count; the scheduled sync misses both, the
    full sync (nightly, or `sync --full`) sees both."""
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    set_status(data, A, "r_p1", "cancelled")
    webinar_of(data, A)["registrants"].append(
        registrant("r_swap", "swap@example.net", created=HELD - dt.timedelta(days=1), webinar_id=A)
    )
    sandbox.load_zoom(data)

    listings.clear()
    missed = sync(portal)
    assert listings == [] and missed["pulled"]["registrants"] == 0
    assert statuses(A)["r_p1"] == "approved"  # not seen yet
    assert "r_swap" not in statuses(A)

    full = full_sync(portal)
    assert full["errors"] == []
    assert {status for _, status in listings} == {"approved", "pending", "denied"}
    assert statuses(A)["r_p1"] == "cancelled"  # R18
    assert statuses(A)["r_swap"] == "approved"
    state = sandbox.state()
    assert contact_props(state, "swap@example.net")["zoomsync_registration_count"] == "1"
    assert contact_props(state, "person1@example.com")["zoomsync_registration_count"] == "0"


def test_b2_a_registration_webhook_makes_the_webinar_listed_whole(sandbox, listings):
    """The same swap, told by Zoom's webhooks: a registration event of the webinar received
    since its counts were taken lists every status of it (no count asked), once."""
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    set_status(data, A, "r_p1", "cancelled")
    webinar_of(data, A)["registrants"].append(
        registrant("r_swap", "swap@example.net", created=HELD - dt.timedelta(days=1), webinar_id=A)
    )
    sandbox.load_zoom(data)
    account = Webinar.objects.get(webinar_id=str(A)).account
    WebhookEvent.objects.create(
        provider=WebhookProvider.ZOOM, portal=portal, zoom_account=account, event_type="webinar.registration_created",
        dedupe_key="test-swap", subject=str(A), raw_body="{}", status=WebhookStatus.PROCESSED,
    )
    listings.clear()
    sandbox.calls_clear()
    report = sync(portal)
    assert report["errors"] == []
    assert sorted(listings) == [(str(A), "approved"), (str(A), "denied"), (str(A), "pending")]
    # A's statuses were not counted first; B's were (unchanged: not listed).
    assert sandbox.calls()["zoom"][REGISTRANTS] == 3 + 1 + 1 + 3  # A: 3 + 1 + 1 pages; B: 3 counts
    assert statuses(A)["r_p1"] == "cancelled" and statuses(A)["r_swap"] == "approved"
    listings.clear()
    sync(portal)
    assert listings == []  # the counts taken after the event: back to counting


def test_b2_status_move_lists_both_statuses_and_cancels_no_one(sandbox, listings):
    """Bob pending → approved: both of B's counts change, both are listed (denied is not), and
    no one is called cancelled."""
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    set_status(data, B, "r_bob", "approved")
    sandbox.load_zoom(data)
    listings.clear()
    report = sync(portal)
    assert report["errors"] == []
    assert sorted(listings) == [(str(B), "approved"), (str(B), "pending")]
    assert statuses(B) == {"r_jane": "approved", "r_bob": "approved"}
    assert dict(
        RegistrantCount.objects.filter(webinar__webinar_id=str(B)).values_list("status", "total")
    ) == {"approved": 2, "pending": 0, "denied": 0}


def test_b2_move_into_a_status_whose_count_held_cancels_no_one(sandbox, listings):
    """Person0 approved → pending while Paula (pending) cancels: A's pending count holds, its
    approved count drops. Person0 is missing from the approved listing; before anyone is called
    cancelled the skipped statuses are listed too: Person0 is found pending, Paula cancelled."""
    data = scenario()
    portal = connect(sandbox, data)
    sync(portal)
    set_status(data, A, "r_p0", "pending")
    set_status(data, A, "r_paula", "cancelled")
    sandbox.load_zoom(data)
    listings.clear()
    report = sync(portal)
    assert report["errors"] == []
    assert listings == [(str(A), "approved"), (str(A), "pending"), (str(A), "denied")]
    now = statuses(A)
    assert now["r_p0"] == "pending"
    assert now["r_paula"] == "cancelled"
    assert [rid for rid, status in now.items() if status == "cancelled"] == ["r_paula"]
    assert contact_props(sandbox.state(), "paula@example.org")["zoomsync_registration_count"] == "0"


def test_b2_no_registration_counts_as_none_with_one_call():
    """Zoom's 3000 for a webinar without registration counts 0 for every status after one call;
    a stored 0 everywhere means nothing to list."""

    class NoRegistration:
        calls = 0

        def registrants_total(self, webinar_id: str, *, status: str) -> int:
            NoRegistration.calls += 1
            raise BadRequest("registration not required", status=400, code=3000)

    from connector.models import Portal, ZoomAccount
    from connector.selectors import sync_rules_get
    from connector.services.pull import AccountPull
    from connector.services.report import SyncReport

    portal = Portal.objects.create(hub_id=987654, hub_domain="x.example")
    account = ZoomAccount.objects.create(portal=portal, account_id="zacc_x")
    webinar = Webinar.objects.create(account=account, webinar_id="81000000399")
    puller = AccountPull(
        account=account,
        rules=sync_rules_get(portal=portal),
        report=SyncReport(portal=portal, run=None),
        client=NoRegistration(),  # type: ignore[arg-type]
    )
    # None stored: every status is listed, without asking.
    assert puller.registrant_statuses_changed(webinar) == ("approved", "pending", "denied")
    assert NoRegistration.calls == 0
    for status in ("approved", "pending", "denied"):
        RegistrantCount.objects.create(webinar=webinar, status=status, total=0, counted_at=NOW)
    assert puller.registrant_statuses_changed(webinar) == ()
    assert NoRegistration.calls == 1
    RegistrantCount.objects.filter(webinar=webinar, status="approved").update(total=4)
    assert puller.registrant_statuses_changed(webinar) == ("approved",)  # 4 → 0: listed
    assert NoRegistration.calls == 2
