"""settings_ui.services: the audit diff and the write path through sync_settings_import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from connector.services.sync_settings import sync_settings_export
from settings_ui.models import AuditLogEntry
from settings_ui.services import settings_diff, settings_update


def test_settings_diff_lists_added_and_removed():
    old = {"sync_mode": "all", "excluded_host_domains": ["a.com", "b.com"], "users": {}, "webinars": {"1": {"sync": True}}}
    new = {"sync_mode": "all", "excluded_host_domains": ["b.com", "c.com"],
           "users": {"h@a.com": {"sync_recordings": True}}, "webinars": {}}
    rows = {r["path"]: r for r in settings_diff(old=old, new=new)}
    assert set(rows) == {"excluded_host_domains", "users.h@a.com", "webinars.1"}
    assert rows["excluded_host_domains"]["added"] == ["c.com"]
    assert rows["excluded_host_domains"]["removed"] == ["a.com"]
    assert rows["webinars.1"] == {"path": "webinars.1", "old": {"sync": True}, "new": None}


@pytest.mark.django_db
def test_settings_update_invalid_writes_nothing(portal):
    before = sync_settings_export(portal=portal)
    with pytest.raises(ValidationError):
        settings_update(portal=portal, user=None, changes={"excluded_host_domains": ["not a domain"]}, source="test")
    assert sync_settings_export(portal=portal) == before
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_settings_update_merges_users_and_removes_with_none(portal):
    settings_update(portal=portal, user=None, source="t",
                    changes={"users": {"a@x.com": {"sync_new_webinars_by_default": False, "sync_recordings": False}}})
    settings_update(portal=portal, user=None, source="t",
                    changes={"users": {"b@x.com": {"sync_new_webinars_by_default": True, "sync_recordings": True}}})
    assert set(sync_settings_export(portal=portal)["users"]) == {"a@x.com", "b@x.com"}
    settings_update(portal=portal, user=None, source="t", changes={"users": {"a@x.com": None}})
    assert set(sync_settings_export(portal=portal)["users"]) == {"b@x.com"}
    entry = AuditLogEntry.objects.first()
    assert entry.actor == "" and entry.diff[0]["path"] == "users.a@x.com"
