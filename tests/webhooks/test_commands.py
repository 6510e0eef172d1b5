"""`manage.py webhooks subscribe|replay|status`, the admin replay action, the health summary."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from connector.models import ErasedPerson, WebhookEvent
from connector.webhooks.selectors import webhook_health
from connector.webhooks.services import webhook_event_process

pytestmark = pytest.mark.django_db

APP_ID = 4040
DEV_KEY = "dev-key-123"


@pytest.fixture
def hub_app(sandbox):
    sandbox.load({"hubspot": {"portal_id": 62515, "app_id": APP_ID, "developer_api_key": DEV_KEY,
                              "client_secret": "app-secret"}, "zoom": {"accounts": []}})
    return sandbox


def test_subscribe_sets_target_and_active_subscriptions_idempotently(hub_app):
    out = StringIO()
    call_command("webhooks", "subscribe", "--api-base", hub_app.hubspot_api_base, "--app-id", str(APP_ID),
                 "--developer-key", DEV_KEY, "--target-url", "https://zoomsync.example/webhooks/hubspot", stdout=out)
    assert "created: contact.deletion, contact.merge, contact.privacyDeletion" in out.getvalue()
    base = f"{hub_app.hubspot_api_base}/webhooks/v3/{APP_ID}"
    settings = requests.get(f"{base}/settings", params={"hapikey": DEV_KEY}, timeout=10).json()
    assert settings["targetUrl"] == "https://zoomsync.example/webhooks/hubspot"
    subs = requests.get(f"{base}/subscriptions", params={"hapikey": DEV_KEY}, timeout=10).json()["results"]
    assert {(s["eventType"], s["active"]) for s in subs} == {
        ("contact.deletion", True), ("contact.merge", True), ("contact.privacyDeletion", True)}
    # Paused by someone: activated again; nothing created twice.
    requests.patch(f"{base}/subscriptions/{subs[0]['id']}", params={"hapikey": DEV_KEY}, json={"active": False}, timeout=10)
    out = StringIO()
    call_command("webhooks", "subscribe", "--api-base", hub_app.hubspot_api_base, "--app-id", str(APP_ID),
                 "--developer-key", DEV_KEY, stdout=out)
    assert f"activated: {subs[0]['eventType']}" in out.getvalue() and "created" not in out.getvalue()
    assert len(requests.get(f"{base}/subscriptions", params={"hapikey": DEV_KEY}, timeout=10).json()["results"]) == 3


def test_subscribe_with_a_wrong_key_is_a_clear_error(hub_app):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="401|403"):
        call_command("webhooks", "subscribe", "--api-base", hub_app.hubspot_api_base, "--app-id", str(APP_ID),
                     "--developer-key", "wrong")


def test_sandbox_delivers_hubspot_events_to_the_app_target(hub_app):
    from tests.sandbox.webhook_receiver import Receiver

    with Receiver() as receiver:
        hub_app.load({"hubspot": {"portal_id": 62515, "app_id": APP_ID, "developer_api_key": DEV_KEY,
                                  "client_secret": "app-secret", "contacts": [{"id": "501", "email": "a@b.example"}]},
                      "zoom": {"accounts": []}})
        call_command("webhooks", "subscribe", "--api-base", hub_app.hubspot_api_base, "--app-id", str(APP_ID),
                     "--developer-key", DEV_KEY, "--target-url", f"{receiver.url}/webhooks/hubspot", stdout=StringIO())
        hub_app.act("delete_contact", contact_id="501")
        assert receiver.bodies("/webhooks/hubspot")[0][0]["subscriptionType"] == "contact.deletion"


def _dead(portal) -> WebhookEvent:
    return WebhookEvent.objects.create(provider="hubspot", portal=portal, event_type="contact.deletion",
                                       dedupe_key="k1", subject="501", raw_body='{"objectId": 501}', status="dead",
                                       attempts=8, last_error="boom")


def test_replay_command_processes_dead_events_again(portal, django_capture_on_commit_callbacks):
    event = _dead(portal)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks", "replay", stdout=out)
    assert "1 event(s) queued again" in out.getvalue()
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 1


def test_admin_replay_action(admin_client, portal, django_capture_on_commit_callbacks):
    event = _dead(portal)
    page = admin_client.get("/admin/connector/webhookevent/")
    assert page.status_code == 200 and b"Failed for good" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post("/admin/connector/webhookevent/", {"action": "replay", "_selected_action": [event.pk]})
    assert answer.status_code == 302
    event.refresh_from_db()
    assert event.status == "processed"


def test_failures_are_retried_with_backoff_then_dead(portal, monkeypatch):
    from connector.webhooks import services

    event = WebhookEvent.objects.create(provider="hubspot", portal=portal, event_type="contact.deletion",
                                        dedupe_key="k2", subject="501", raw_body='{"objectId": 501}')

    def broken(_event):
        raise RuntimeError("database said no")

    monkeypatch.setattr(services, "_hubspot_process", broken)
    delays = []
    for _ in range(services.MAX_ATTEMPTS):
        result = webhook_event_process(event_id=event.pk)
        delays.append(result.retry_in)
        WebhookEvent.objects.filter(pk=event.pk, status="retrying").update(status="retrying")
    event.refresh_from_db()
    assert event.status == "dead" and "database said no" in event.last_error
    assert delays[:3] == [5.0, 10.0, 20.0] and delays[-1] is None


def test_health_in_plain_words(portal):
    assert webhook_health(portal=portal).state == "none"
    now = timezone.now()
    WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.registration_created",
                                dedupe_key="a", raw_body="{}", status="processed")
    health = webhook_health(portal=portal)
    assert health.state == "ok" and "a new registration" in health.summary and "just now" in health.summary
    _dead(portal)
    health = webhook_health(portal=portal)
    assert health.state == "problem" and "1 could not be processed" in health.summary and "replay" in health.advice
    WebhookEvent.objects.filter(status="dead").delete()
    WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.ended", dedupe_key="b",
                                raw_body="{}", status="pending")
    WebhookEvent.objects.filter(dedupe_key="b").update(received_at=now - dt.timedelta(minutes=20))
    health = webhook_health(portal=portal)
    assert health.state == "waiting" and "worker" in health.advice


def test_b3_privacy_deletion_calls_the_erasure_and_empties_stored_bodies(portal):
    from connector.models import ContactLink

    ContactLink.objects.create(portal=portal, email="gone@example.com", contact_id="777", state="linked")
    zoom_body = WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.registration_created",
                                            dedupe_key="z1", raw_body='{"registrant": {"email": "gone@example.com"}}',
                                            status="processed")
    other = WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.registration_created",
                                        dedupe_key="z2", raw_body='{"registrant": {"email": "stays@example.com"}}',
                                        status="processed")
    event = WebhookEvent.objects.create(provider="hubspot", portal=portal, event_type="contact.privacyDeletion",
                                        dedupe_key="p1", subject="777", raw_body='{"objectId": 777}')
    assert webhook_event_process(event_id=event.pk).status == "processed"
    assert not ContactLink.objects.filter(portal=portal, contact_id="777").exists()
    assert ErasedPerson.objects.filter(portal=portal).count() == 1  # only the keyed hash stays
    zoom_body.refresh_from_db()
    other.refresh_from_db()
    assert "gone@example.com" not in zoom_body.raw_body and "stays@example.com" in other.raw_body
