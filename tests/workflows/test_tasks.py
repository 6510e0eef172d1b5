"""R17: after a registration the sync engine is asked for a pull."""

from __future__ import annotations

import pytest
import responses

from connector.models import SyncRun, SyncRunStatus
from tests.workflows.conftest import action_body
from tests.workflows.test_action_unit import mock_zoom
from workflows.services.followup import portal_sync_request, sync_after_registration_enabled
from workflows.tasks import webinar_sync_after_registration


@responses.activate
def test_r17_success_enqueues_the_follow_up_task_on_commit(post_action, zoom_account, monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    monkeypatch.setattr(webinar_sync_after_registration, "delay", lambda **kw: calls.append(kw))
    mock_zoom(responses)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_action(action_body()).status_code == 200
    assert calls and calls[0]["portal_id"] == zoom_account.portal.pk


@responses.activate
def test_failure_enqueues_nothing(post_action, zoom_account, monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    monkeypatch.setattr(webinar_sync_after_registration, "delay", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        post_action(action_body(webinar_id="nope"))
    assert calls == []


def test_r17_follow_up_starts_a_workflow_sync_run(hub_portal, settings, monkeypatch):
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    started = []
    monkeypatch.setattr("workflows.services.followup.sync_request", lambda **kw: started.append(kw))
    assert webinar_sync_after_registration(portal_id=hub_portal.pk) is True
    assert started == [{"portal": hub_portal, "source": "workflow", "webinar_ids": None}]


def test_r17_follow_up_asks_for_that_webinar_only(hub_portal, settings, monkeypatch):
    """Issue 10: a workflow registration asks for its webinar's registrants, not a whole sync."""
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    enqueued = []
    monkeypatch.setattr("connector.services.sync_requests._enqueue", enqueued.append)
    assert webinar_sync_after_registration(portal_id=hub_portal.pk, execution_id=7, webinar_id="81000000001")
    run = SyncRun.objects.get(portal=hub_portal)
    assert (run.trigger, run.status, run.webinar_ids) == ("workflow", SyncRunStatus.QUEUED, ["81000000001"])
    # A second registration while the first is queued widens that run (merged, no FAILED run).
    assert webinar_sync_after_registration(portal_id=hub_portal.pk, execution_id=8, webinar_id="81000000002")
    run.refresh_from_db()
    assert SyncRun.objects.filter(portal=hub_portal).count() == 1
    assert run.webinar_ids == ["81000000001", "81000000002"]


def test_follow_up_skipped_in_eager_mode_by_default(hub_portal, settings):
    del settings.WORKFLOWS_SYNC_AFTER_REGISTRATION
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert sync_after_registration_enabled() is False
    assert portal_sync_request(portal_id=hub_portal.pk) is False


def test_follow_up_failure_is_logged_not_raised(hub_portal, settings, monkeypatch, caplog):
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True

    def boom(**kw):
        raise RuntimeError("broker down")

    monkeypatch.setattr("workflows.services.followup.sync_request", boom)
    assert portal_sync_request(portal_id=hub_portal.pk) is False
    assert "could not queue a sync" in caplog.text


@pytest.mark.django_db
def test_follow_up_for_a_missing_portal_does_nothing(settings):
    settings.WORKFLOWS_SYNC_AFTER_REGISTRATION = True
    assert portal_sync_request(portal_id=987654) is False
