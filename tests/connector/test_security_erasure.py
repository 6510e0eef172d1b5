"""Erasure and retention (issue 12; B3, B4): a person erased leaves no trace in any text
column of any model, only a keyed hash that keeps R14; retention prunes what it must and
never a callback id a HubSpot retry still needs."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from connector.models import (
    ConnectionStatus,
    ContactLink,
    ContactState,
    ErasedPerson,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    ParticipantRow,
    PersonStats,
    Portal,
    PortalMembership,
    PortalSyncSettings,
    Registrant,
    Session,
    SkipReason,
    SkipRecord,
    SyncRun,
    SyncRunPart,
    Webinar,
    ZoomAccount,
    ZoomUser,
    ZoomUserSetting,
)
from connector.services import erasure, oauth, retention
from settings_ui.models import AuditLogEntry
from workflows.models import ActionExecution, ExecutionStatus, RegistrantAddAttempt

EMAIL = "zelda.quux@example.org"
FIRST, LAST = "Zelda", "Quuxington"
CONTACT_ID = "987654321"
REGISTRANT_ID = "reg_zq_31337"
OTHER = "otto.keeper@example.org"
NEEDLES = (EMAIL, FIRST.lower(), LAST.lower(), CONTACT_ID, REGISTRANT_ID)


def _world(portal: Portal) -> dict[str, Any]:
    """The person (and, as a control, another person) in every table that can hold them."""
    account = ZoomAccount.objects.create(portal=portal, account_id="zacc", connected_user_email=EMAIL)
    ZoomUser.objects.create(account=account, zoom_user_id="zu1", email=EMAIL, first_name=FIRST, last_name=LAST)
    webinar = Webinar.objects.create(account=account, webinar_id="81000000001", host_email=EMAIL,
                                     topic="Quarterly", alternative_hosts=[EMAIL, OTHER])
    for who, first, last, rid in ((EMAIL, FIRST, LAST, REGISTRANT_ID), (OTHER, "Otto", "Keeper", "reg_other")):
        Registrant.objects.create(webinar=webinar, registrant_id=rid, email=who, first_name=first,
                                  last_name=last, status="approved",
                                  join_url=f"https://zoom.us/w/81000000001?tk={rid}")
    session = Session.objects.create(webinar=webinar, uuid="uuid-1")
    ParticipantRow.objects.create(session=session, row_key="r1", email=EMAIL, name=f"{FIRST} {LAST}")
    # B5: a guest row without email, known by the registrant id only.
    ParticipantRow.objects.create(session=session, row_key="r2", email="", name="Zelly",
                                  registrant_id=REGISTRANT_ID)
    ParticipantRow.objects.create(session=session, row_key="r3", email=OTHER, name="Otto Keeper")
    PersonStats.objects.create(portal=portal, email=EMAIL, first_name=FIRST, last_name=LAST)
    PersonStats.objects.create(portal=portal, email=OTHER, first_name="Otto", last_name="Keeper")
    ContactLink.objects.create(portal=portal, email=EMAIL, contact_id=CONTACT_ID, state=ContactState.LINKED)
    run = SyncRun.objects.create(portal=portal, report={"skips": [{"subject": EMAIL}]},
                                 error=f"failed for {EMAIL}")
    OutboxItem.objects.create(portal=portal, kind=OutboxKind.CONTACT_CREATE, dedupe_key=EMAIL,
                              payload={"email": EMAIL, "firstname": FIRST}, status=OutboxStatus.SENT)
    OutboxItem.objects.create(portal=portal, kind=OutboxKind.TIMELINE_EVENT, dedupe_key="ev-1",
                              payload={"objectId": CONTACT_ID, "tokens": {"topic": "Quarterly"}})
    OutboxItem.objects.create(portal=portal, kind=OutboxKind.TIMELINE_EVENT, dedupe_key="ev-2",
                              payload={"email": OTHER})
    SkipRecord.objects.create(sync_run=run, kind="person", reason=SkipReason.SECONDARY_EMAIL,
                              subject=EMAIL, detail=f"contact {CONTACT_ID} holds it")
    SyncRunPart.objects.create(sync_run=run, state={"skips": [["person", "no_email", EMAIL]]})
    PortalSyncSettings.objects.create(portal=portal, selected_users=[EMAIL, OTHER])
    ZoomUserSetting.objects.create(portal=portal, email=EMAIL)
    execution = ActionExecution.objects.create(
        callback_id="cb-1", portal=portal, hub_id=portal.hub_id, zoom_account=account,
        status=ExecutionStatus.SUCCEEDED, email=EMAIL, first_name=FIRST, last_name=LAST,
        contact_object_id=CONTACT_ID, registrant_id=REGISTRANT_ID,
        join_url=f"https://zoom.us/w/1?tk={REGISTRANT_ID}",
        request_body={"object": {"objectId": CONTACT_ID, "properties": {"email": EMAIL, "firstname": FIRST}}},
        output_fields={"hs_execution_state": "SUCCESS", "registrantId": REGISTRANT_ID})
    RegistrantAddAttempt.objects.create(execution=execution, zoom_account=account,
                                        webinar_id="81000000001", email=EMAIL)
    user = get_user_model().objects.create_user("admin")
    AuditLogEntry.objects.create(portal=portal, user=user, actor="admin", action="settings_changed",
                                 source=f"user {EMAIL}", before={"selected_users": []},
                                 after={"selected_users": [EMAIL]},
                                 diff=[{"path": "selected_users", "old": [], "new": [EMAIL]}])
    Portal.objects.filter(pk=portal.pk).update(installed_by_hubspot_email=EMAIL)
    from connector.models import DirtyPerson
    from connector.models.inbox import WebhookEvent

    DirtyPerson.objects.create(portal=portal, email=EMAIL)
    WebhookEvent.objects.create(provider="zoom", portal=portal, event_type="webinar.registration_created",
                                dedupe_key="d1", raw_body=json.dumps({"payload": {"object": {
                                    "registrant": {"email": EMAIL, "first_name": FIRST}}}}))
    return {"account": account, "webinar": webinar, "run": run}


TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def traces(needles: tuple[str, ...]) -> list[str]:
    """Every (model, column, row) of every installed model whose text mentions a needle."""
    found = []
    for model in apps.get_models():
        columns = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not columns:
            continue
        for row in model._base_manager.all().values("pk", *[f.attname for f in columns]):
            for column, value in row.items():
                if column == "pk" or value in (None, "", {}, []):
                    continue
                text = str(value).lower()
                found += [f"{model._meta.label}.{column}#{row['pk']}: {n}" for n in needles if n in text]
    return found


@pytest.mark.django_db
def test_b3_person_erase_leaves_no_trace_in_any_text_column(portal):
    _world(portal)
    assert len(traces(NEEDLES)) > 20  # the scan sees the data it must then not see
    result = erasure.person_erase(portal=portal, email=EMAIL.upper())
    assert result.counts["registrant"] == 1 and result.counts["participant row"] == 2
    assert traces(NEEDLES) == []
    # Only a keyed hash stays, and it is not the plain digest of the email.
    erased = ErasedPerson.objects.get(portal=portal)
    assert erased.email_hash == result.email_hash and EMAIL not in erased.email_hash
    assert erasure.erased_among(portal=portal, emails=[EMAIL, OTHER]) == {EMAIL}
    # The other person is untouched; the callback id stays for HubSpot's retries.
    assert Registrant.objects.filter(email=OTHER).count() == 1
    assert PersonStats.objects.filter(email=OTHER).exists()
    assert OutboxItem.objects.filter(dedupe_key="ev-2").exists()
    assert PortalSyncSettings.objects.get(portal=portal).selected_users == [OTHER]
    assert ActionExecution.objects.filter(callback_id="cb-1").exists()


@pytest.mark.django_db
def test_b3_person_erase_by_contact_id_finds_the_email(portal):
    _world(portal)
    erasure.person_erase(portal=portal, contact_id=CONTACT_ID)
    assert traces(NEEDLES) == []


@pytest.mark.django_db
def test_b3_person_erase_needs_email_or_contact_id(portal):
    with pytest.raises(ValueError):
        erasure.person_erase(portal=portal)


@pytest.mark.django_db
def test_r14_erased_person_is_never_queued_for_creation(portal):
    """The push's archived flush treats an erased person like a deleted contact."""
    from connector.selectors import sync_rules_get
    from connector.services.contacts import PushContext
    from connector.services.push import _PortalPush
    from connector.services.report import SyncReport

    erasure.person_erase(portal=portal, email=EMAIL)
    stats = PersonStats.objects.create(portal=portal, email=EMAIL)

    class NoHubSpot:
        def contacts_batch_read(self, *args: Any, **kwargs: Any) -> Any:
            from connector.clients.hubspot import BatchResult

            return BatchResult()  # nobody found

    ctx = PushContext(portal=portal, client=NoHubSpot(), report=SyncReport(portal=portal, run=None),  # type: ignore[arg-type]
                      rules=sync_rules_get(portal=portal), run=None)
    push = _PortalPush(ctx=ctx, progress=None)
    push.archived_buffer = [stats]
    push._archived_flush(force=True)
    assert not OutboxItem.objects.filter(kind=OutboxKind.CONTACT_CREATE).exists()
    assert ContactLink.objects.get(portal=portal, email=EMAIL).state == ContactState.DELETED


@pytest.mark.django_db
def test_erase_person_command(portal):
    _world(portal)
    out = StringIO()
    call_command("erase_person", "--portal", str(portal.hub_id), EMAIL, stdout=out)
    assert "Erased." in out.getvalue() and "registrant: 1" in out.getvalue()
    assert traces(NEEDLES) == []
    with pytest.raises(CommandError, match="not an email"):
        call_command("erase_person", "--portal", str(portal.hub_id), "not-an-email")
    with pytest.raises(CommandError, match="No portal"):
        call_command("erase_person", "--portal", "1", EMAIL)


@pytest.mark.django_db
def test_b4_zoom_account_erase_removes_everything_pulled_through_it(portal):
    world = _world(portal)
    result = erasure.zoom_account_erase(account=world["account"])
    assert result.counts["registrant"] == 2
    assert not ZoomAccount.objects.exists() and not Registrant.objects.exists()
    assert not ParticipantRow.objects.exists() and not ZoomUser.objects.exists()
    execution = ActionExecution.objects.get(callback_id="cb-1")
    assert (execution.email, execution.request_body) == ("", {})


@pytest.mark.django_db
def test_b4_portal_erase_after_uninstall_and_grace_period(portal, settings):
    settings.ZOOMSYNC_UNINSTALL_GRACE_DAYS = 30
    _world(portal)
    with pytest.raises(erasure.PortalStillInstalled):
        erasure.portal_erase(portal=portal)
    oauth.portal_uninstall(portal=portal)
    portal.refresh_from_db()
    with pytest.raises(erasure.PortalStillInstalled):  # inside the grace period
        erasure.portal_erase(portal=portal)
    assert erasure.portals_erase_due() == 0
    Portal.objects.filter(pk=portal.pk).update(uninstalled_at=timezone.now() - timedelta(days=31))
    assert erasure.portals_erase_due() == 1
    assert not Portal.objects.exists()
    assert traces(NEEDLES) == []


@pytest.mark.django_db
def test_b4_retention_prunes_payloads_skips_and_bodies_but_keeps_callback_ids(portal, settings):
    settings.ZOOMSYNC_RETENTION_DAYS = 30
    world = _world(portal)
    old = timezone.now() - timedelta(days=40)
    SyncRun.objects.filter(pk=world["run"].pk).update(created_at=old)
    latest = SyncRun.objects.create(portal=portal)
    SkipRecord.objects.create(sync_run=latest, kind="person", reason=SkipReason.NO_EMAIL, subject="guest")
    OutboxItem.objects.filter(status=OutboxStatus.SENT).update(sent_at=old)
    ActionExecution.objects.filter(callback_id="cb-1").update(created_at=old)
    recent = ActionExecution.objects.create(callback_id="cb-2", portal=portal, request_body={"callbackId": "cb-2"})
    ActionExecution.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=2))

    result = retention.retention_prune(days=1)  # even 1 day keeps what a retry needs
    assert result.counts["outbox payload"] == 1
    assert OutboxItem.objects.get(dedupe_key=EMAIL).payload == {}
    assert not SkipRecord.objects.filter(sync_run=world["run"]).exists()
    assert SkipRecord.objects.filter(sync_run=latest).exists()  # the latest run keeps its report
    assert ActionExecution.objects.get(callback_id="cb-1").request_body == {}
    # A callback 2 days old can still be retried by HubSpot: untouched, and never deleted.
    assert ActionExecution.objects.get(callback_id="cb-2").request_body == {"callbackId": "cb-2"}
    assert set(ActionExecution.objects.values_list("callback_id", flat=True)) == {"cb-1", "cb-2"}


@pytest.mark.django_db
def test_privacy_prune_command_and_beat_entry(portal):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="connector.tasks.privacy_prune_task")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "days"
    out = StringIO()
    call_command("privacy_prune", stdout=out)
    assert "portals erased: 0" in out.getvalue()
    assert PortalMembership.objects.count() == 0
    assert ConnectionStatus.UNINSTALLED == "uninstalled"
