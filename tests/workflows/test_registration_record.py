"""R17: a success of the workflow action is recorded in the connector's table, in the same
transaction; the data migration copies the successes made before."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from connector.models import ExternalRegistration
from workflows.models import ActionExecution, ExecutionStatus


def execution_make(portal, account, callback_id: str, *, status=ExecutionStatus.SUCCEEDED, minutes: int = 0, **kw):
    fields = {
        "portal": portal, "zoom_account": account, "status": status, "webinar_id": "81000000001",
        "email": "jane@example.com", "registrant_id": f"r-{callback_id}",
        "join_url": f"https://zoom.us/w/81000000001?tk={callback_id}",
        "registered_at": timezone.now() + timedelta(minutes=minutes),
    }
    fields.update(kw)
    return ActionExecution.objects.create(callback_id=callback_id, **fields)


def test_r17_success_is_recorded_for_the_connector(zoom_account):
    portal = zoom_account.portal
    execution = execution_make(portal, zoom_account, "cb-1")
    execution_make(portal, zoom_account, "cb-2", status=ExecutionStatus.FAILED, webinar_id="81000000002")
    execution_make(portal, zoom_account, "cb-3", status=ExecutionStatus.RETRY, webinar_id="81000000003")
    (row,) = ExternalRegistration.objects.all()
    assert (row.portal, row.zoom_account, row.webinar_id, row.email, row.registrant_id, row.join_url) == (
        portal, zoom_account, "81000000001", "jane@example.com", "r-cb-1", execution.join_url
    )
    assert row.registered_at == execution.registered_at


def test_r17_record_rolls_back_with_the_success(zoom_account):
    """Same transaction: no record of a success that was not saved."""
    with pytest.raises(RuntimeError), transaction.atomic():
        execution_make(zoom_account.portal, zoom_account, "cb-1")
        raise RuntimeError("the database failed after the save")
    assert not ExternalRegistration.objects.exists()


def test_r17_data_migration_copies_the_latest_success_per_webinar_and_person(zoom_account):
    portal = zoom_account.portal
    execution_make(portal, zoom_account, "cb-old", minutes=-30)
    execution_make(portal, zoom_account, "cb-new", minutes=-5)
    execution_make(portal, zoom_account, "cb-other", email="otto@example.com")
    execution_make(portal, zoom_account, "cb-failed", status=ExecutionStatus.FAILED, email="fay@example.com")
    ExternalRegistration.objects.all().delete()  # as before the connector owned the record

    migration = importlib.import_module("workflows.migrations.0002_wfreg_copy_external_registrations")
    migration.copy_registrations(apps, None)

    rows = dict(ExternalRegistration.objects.values_list("email", "join_url"))
    assert rows == {
        "jane@example.com": "https://zoom.us/w/81000000001?tk=cb-new",
        "otto@example.com": "https://zoom.us/w/81000000001?tk=cb-other",
    }
