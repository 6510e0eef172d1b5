"""Events over HTTP to the sandbox: R21–R23 on the timeline, the three event sinks, the
HubSpot definitions of INTERFACES.md §1, and deterministic event ids."""

from __future__ import annotations

import pytest

from connector.models import Portal
from connector.services.events import event_id_for, marketing_event_external_id
from connector.services.hubspot_schema import (
    APP_EVENT_TYPES,
    PROPERTY_NAMES,
    TEMPLATE_ATTENDANCE,
    TEMPLATE_RECORDING,
    TEMPLATE_REGISTRATION,
)
from tests.connector.test_push_world import (
    at,
    contacts_by_email,
    push_run,
    sandbox_portal,
    webinar_make,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _ms(minutes: float) -> str:
    return str(int(at(minutes).timestamp() * 1000))


def _timeline(state: dict, template: str) -> list[dict]:
    return [e for e in state["hubspot"]["timeline_events"] if e["template_name"] == template]


def test_schema_group_properties_and_templates_created_once(sandbox):
    portal = sandbox_portal(sandbox)
    webinar_make(portal).register("a@example.com")
    push_run(portal)

    state = sandbox.state()["hubspot"]
    assert {"name": "zoomsync", "label": "Zoom"} in [{k: g[k] for k in ("name", "label")} for g in state["property_groups"]]
    props = {p["name"]: p for p in state["properties"]}
    assert set(PROPERTY_NAMES) <= set(props)
    assert (props["zoomsync_average_attendance_percent"]["type"], props["zoomsync_average_attendance_percent"]["fieldType"]) == (
        "number",
        "number",
    )
    assert (props["zoomsync_last_registered_webinar"]["type"], props["zoomsync_last_registered_webinar"]["fieldType"]) == (
        "string",
        "text",
    )
    assert all(props[name]["groupName"] == "zoomsync" for name in PROPERTY_NAMES)
    templates = {t["name"]: set(t["tokens"]) for t in state["event_templates"]}
    assert templates[TEMPLATE_REGISTRATION] >= {"webinar_id", "webinar_name", "registered_at"}
    assert templates[TEMPLATE_ATTENDANCE] >= {
        "webinar_id",
        "webinar_name",
        "webinar_date",
        "joined_at",
        "left_at",
        "attendance_seconds",
        "attendance_percent",
    }
    assert templates[TEMPLATE_RECORDING] >= {"webinar_id", "topic", "start_time", "recording_url", "transcript_url"}

    # A second sync creates nothing more (listing first: idempotent).
    sandbox.calls_clear()
    push_run(portal)
    calls = sandbox.calls()["hubspot"]
    assert not any(v for k, v in calls.items() if k.startswith("POST /crm/v3/properties") or "event-templates" in k and k.startswith("POST"))
    assert len(sandbox.state()["hubspot"]["event_templates"]) == 3


def test_r22_registration_event_per_person_and_webinar(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal, webinar_id="81000000001", topic="Launch")
    w.register("ok@example.com", minutes=-600)
    w.register("wait@example.com", status="pending", minutes=-500)
    w.register("no@example.com", status="denied")
    w.register("left@example.com", status="cancelled")

    report = push_run(portal)

    state = sandbox.state()
    contacts = contacts_by_email(state)
    events = {e["objectId"]: e for e in _timeline(state, TEMPLATE_REGISTRATION)}
    assert set(events) == {contacts["ok@example.com"]["id"], contacts["wait@example.com"]["id"]}
    ok = events[contacts["ok@example.com"]["id"]]
    assert ok["tokens"] == {"webinar_id": "81000000001", "webinar_name": "Launch", "registered_at": _ms(-600)}
    assert report.events["registration"] == 2


def test_r21_r23_attendance_event_tokens(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal, topic="Deep dive")
    w.session(start=0, end=60)
    w.register("eve@example.com")
    # Rejoin: 5–20 and 15–35 → union 5–35 = 1800 s = 50.0 %.
    w.attend("eve@example.com", 5, 20)
    w.attend("eve@example.com", 15, 35)

    report = push_run(portal)

    state = sandbox.state()
    (event,) = _timeline(state, TEMPLATE_ATTENDANCE)
    assert event["objectId"] == contacts_by_email(state)["eve@example.com"]["id"]
    assert event["tokens"] == {
        "webinar_id": "81000000001",
        "webinar_name": "Deep dive",
        "webinar_date": _ms(0),
        "joined_at": _ms(5),
        "left_at": _ms(35),
        "attendance_seconds": "1800",
        "attendance_percent": "50.0",
    }
    assert report.events["attendance"] == 1


def test_r21_one_attendance_event_per_session_attended(sandbox):
    portal = sandbox_portal(sandbox)
    w = webinar_make(portal)
    first = w.session(start=0, end=60)
    second = w.session(start=10080, end=10140)
    w.register("rec@example.com")
    w.attend("rec@example.com", 0, 60, session=first)
    w.attend("rec@example.com", 10080, 10110, session=second)
    w.attend("zero@example.com", 70, 80, session=first)  # after the end: zero seconds, not attended

    push_run(portal)

    state = sandbox.state()
    attendance = _timeline(state, TEMPLATE_ATTENDANCE)
    assert sorted(e["tokens"]["attendance_percent"] for e in attendance) == ["100.0", "50.0"]
    assert len({e["id"] for e in attendance}) == 2
    assert len(_timeline(state, TEMPLATE_REGISTRATION)) == 1


def test_event_ids_are_deterministic():
    portal = Portal(hub_id=62515)
    base = {"portal": portal, "kind": "attendance", "webinar_id": "81", "session_uuid": "u1==", "email": "a@x.com"}
    assert event_id_for(**base) == event_id_for(**{**base, "email": " A@X.com "})
    assert event_id_for(**base) != event_id_for(**{**base, "session_uuid": "u2=="})
    assert event_id_for(**base) != event_id_for(**{**base, "kind": "registration"})
    assert event_id_for(**base) != event_id_for(**{**base, "email": "b@x.com"})
    assert event_id_for(**base) != event_id_for(**{**base, "portal": Portal(hub_id=1)})


def test_sink_app_events(sandbox):
    portal = sandbox_portal(sandbox, event_sinks=["app_events"])
    w = webinar_make(portal)
    w.session()
    w.register("app@example.com")
    w.attend("app@example.com", 0, 30)

    report = push_run(portal)

    state = sandbox.state()["hubspot"]
    assert state["timeline_events"] == []
    by_type = {e["eventTypeName"]: e for e in state["app_events"]}
    assert set(by_type) == {APP_EVENT_TYPES[TEMPLATE_REGISTRATION], APP_EVENT_TYPES[TEMPLATE_ATTENDANCE]}
    assert by_type[APP_EVENT_TYPES[TEMPLATE_ATTENDANCE]]["properties"]["attendance_percent"] == "50.0"
    assert report.events == {"registration": 1, "attendance": 1, "recording": 0}

    sandbox.calls_clear()
    again = push_run(portal)
    assert again.events == {"registration": 0, "attendance": 0, "recording": 0}
    assert len(sandbox.state()["hubspot"]["app_events"]) == 2


def test_sink_marketing_events_one_event_per_session(sandbox):
    portal = sandbox_portal(sandbox, event_sinks=["marketing_events"])
    w = webinar_make(portal, topic="Quarterly")
    first = w.session(start=0, end=60)
    second = w.session(start=10080, end=10140)
    w.register("att@example.com")
    w.register("reg@example.com")
    w.register("bye@example.com", status="cancelled")
    w.register("bye@example.com", status="cancelled")
    w.attend("att@example.com", 0, 20, session=first)
    w.attend("att@example.com", 30, 40, session=first)  # rejoin: 30 min attended, not 40
    w.attend("bye@example.com", 10080, 10090, session=second)  # cancelled, then attended anyway

    report = push_run(portal)

    state = sandbox.state()
    contacts = contacts_by_email(state)
    events = {m["externalEventId"]: m for m in state["hubspot"]["marketing_events"]}
    ext_first = marketing_event_external_id(session=first, webinar=w.webinar)
    ext_second = marketing_event_external_id(session=second, webinar=w.webinar)
    assert set(events) == {ext_first, ext_second}
    assert events[ext_first]["eventName"] == "Quarterly"
    parts = {p["contactId"]: p for p in events[ext_first]["participations"]}
    assert parts[contacts["att@example.com"]["id"]]["state"] == "ATTENDED"
    assert parts[contacts["att@example.com"]["id"]]["attendanceDurationSeconds"] == 1800
    assert parts[contacts["reg@example.com"]["id"]]["state"] == "REGISTERED"
    second_parts = {p["contactId"]: p for p in events[ext_second]["participations"]}
    assert second_parts[contacts["bye@example.com"]["id"]]["state"] == "ATTENDED"
    assert parts[contacts["bye@example.com"]["id"]]["state"] == "CANCELLED"
    assert state["hubspot"]["timeline_events"] == []
    assert report.events["attendance"] == 2
    assert report.events["registration"] == 2  # one per person and webinar, not per session
    assert parts[contacts["reg@example.com"]["id"]]["history"][0]["state"] == "REGISTERED"

    sandbox.calls_clear()
    push_run(portal)
    writes = {k: v for k, v in sandbox.calls()["hubspot"].items() if v and "marketing" in k}
    assert writes == {}


def test_all_three_sinks_count_each_event_once(sandbox):
    portal = sandbox_portal(sandbox, event_sinks=["timeline", "app_events", "marketing_events"])
    w = webinar_make(portal)
    w.session()
    w.register("all@example.com")
    w.attend("all@example.com", 0, 60)

    report = push_run(portal)

    state = sandbox.state()["hubspot"]
    assert len(state["timeline_events"]) == 2
    assert len(state["app_events"]) == 2
    assert len(state["marketing_events"]) == 1
    assert report.events == {"registration": 1, "attendance": 1, "recording": 0}


@pytest.mark.django_db
def test_b2_a_refused_marketing_event_fails_with_its_participations_and_the_rest_is_sent(portal):
    """B2 (typed results, one outbox send): HubSpot refuses one session's marketing event;
    that row and its participations are FAILED (reported), nothing is asked for the missing
    event, and the other session's event and participations go through."""
    from connector.clients.errors import HubSpotErrorCode
    from connector.clients.hubspot import BatchResult, ItemOutcome, Outcome
    from connector.models import OutboxItem, OutboxKind, OutboxStatus, SyncRun
    from connector.selectors import sync_rules_get
    from connector.services.contacts import PushContext
    from connector.services.events import marketing_events_send, marketing_participations_send
    from connector.services.report import SyncReport

    attended: list[str] = []

    class FakeHubSpot:
        def marketing_events_upsert(self, inputs):
            return BatchResult(items=[
                ItemOutcome(key=i["externalEventId"], outcome=Outcome.INVALID, code=HubSpotErrorCode.VALIDATION_ERROR)
                if i["externalEventId"] == "zs-bad"
                else ItemOutcome(key=i["externalEventId"], outcome=Outcome.OK)
                for i in inputs
            ])

        def marketing_event_attendance(self, external_id, state, *, by, inputs, external_account_id=None):
            attended.append(external_id)
            return BatchResult(items=[ItemOutcome(key=str(i["vid"]), outcome=Outcome.OK) for i in inputs])

    def rows(kind, keys, payload):
        return [OutboxItem.objects.create(portal=portal, kind=kind, dedupe_key=k, payload=payload(k)) for k in keys]

    events = rows(OutboxKind.MARKETING_EVENT, ["zs-ok", "zs-bad"], lambda k: {"externalEventId": k, "body": {}})
    run = SyncRun.objects.create(portal=portal)
    report = SyncReport(portal=portal, run=run)
    ctx = PushContext(portal=portal, client=FakeHubSpot(), report=report, rules=sync_rules_get(portal=portal), run=run)
    marketing_events_send(ctx=ctx, items=events)
    for external_id in ("zs-ok", "zs-bad"):
        participations = rows(
            OutboxKind.MARKETING_PARTICIPATION,
            [f"{external_id}|attend|{vid}" for vid in (501, 502)],
            lambda k: {"externalEventId": k.split("|")[0], "state": "attend", "input": {"vid": int(k.split("|")[2])}},
        )
        marketing_participations_send(ctx=ctx, items=participations)

    status = dict(OutboxItem.objects.values_list("dedupe_key", "status"))
    assert status == {
        "zs-ok": OutboxStatus.SENT,
        "zs-bad": OutboxStatus.FAILED,
        "zs-ok|attend|501": OutboxStatus.SENT,
        "zs-ok|attend|502": OutboxStatus.SENT,
        "zs-bad|attend|501": OutboxStatus.FAILED,
        "zs-bad|attend|502": OutboxStatus.FAILED,
    }
    assert attended == ["zs-ok"]
    assert len(report.errors) == 3
