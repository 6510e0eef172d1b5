"""connect_sandbox against a sandbox whose world is not the one the portal knew (issue 14,
item 1): a sandbox restarted without its state file, or a new scenario, must never turn the
portal's contact links into permanent R14 deletions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connector.models import (
    ConnectionStatus,
    ContactLink,
    Portal,
    PortalMembership,
    SyncRun,
    SyncRunStatus,
)
from connector.services.sandbox_connect import (
    SandboxConnectError,
    SandboxWorldChanged,
    sandbox_connection_make,
)
from connector.services.sync import portal_sync

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(portal: Portal) -> dict:
    return portal_sync(portal=Portal.objects.get(pk=portal.pk))


def test_r14_a_new_sandbox_world_starts_the_portal_afresh_instead_of_deleting_links(sandbox, django_user_model):
    sandbox.load("demo")
    first = sandbox_connection_make(url=sandbox.url)
    assert first.reset is None and first.world_id
    admin = django_user_model.objects.create_user("admin", password="pw")
    PortalMembership.objects.create(user=admin, portal=first.portal)
    report = _sync(first.portal)
    created = report["people"]["contacts_created"]
    assert created > 0 and report["people"]["skipped"]["deleted_contact"] == 1  # the scenario's own

    sandbox.load("demo")  # what a restart without a state file does: a new world, same portal id
    # Syncing without reconnecting: refused with a plain message, the portal marked broken,
    # and nothing read as deleted (the links stay).
    links = ContactLink.objects.filter(portal=first.portal).count()
    with pytest.raises(SandboxWorldChanged, match="connect_sandbox"):
        _sync(first.portal)
    portal = Portal.objects.get(pk=first.portal.pk)
    assert portal.status == ConnectionStatus.BROKEN and "restarted" in portal.status_detail
    assert ContactLink.objects.filter(portal=portal).count() == links
    assert SyncRun.objects.filter(portal=portal).latest("pk").status == SyncRunStatus.FAILED

    again = sandbox_connection_make(url=sandbox.url)
    assert again.reset is not None and again.reset.contact_links == links
    assert again.previous_world_id == first.world_id != again.world_id
    assert again.portal.status == ConnectionStatus.CONNECTED
    report = _sync(again.portal)
    # The same people are created again in the new world, none of them "deleted in HubSpot".
    assert report["people"]["contacts_created"] == created
    assert report["people"]["skipped"]["deleted_contact"] == 1
    assert sum(report["events"].values()) > 0
    # What the admin set up is still there.
    assert PortalMembership.objects.filter(portal=again.portal, user=admin).exists()
    assert SyncRun.objects.filter(portal=again.portal).count() == 3


def test_same_world_reconnect_keeps_the_sync_state(sandbox):
    sandbox.load("demo")
    portal = sandbox_connection_make(url=sandbox.url).portal
    _sync(portal)
    links = ContactLink.objects.filter(portal=portal).count()
    again = sandbox_connection_make(url=sandbox.url)
    assert again.reset is None
    assert ContactLink.objects.filter(portal=portal).count() == links
    assert _sync(again.portal)["people"]["contacts_created"] == 0


def test_refuse_new_world_leaves_the_portal_alone_with_a_clear_message(sandbox):
    sandbox.load("demo")
    portal = sandbox_connection_make(url=sandbox.url).portal
    _sync(portal)
    links = ContactLink.objects.filter(portal=portal).count()
    sandbox.load("demo")
    with pytest.raises(CommandError, match="another world"):
        call_command("connect_sandbox", "--url", sandbox.url, "--refuse-new-world")
    assert ContactLink.objects.filter(portal=portal).count() == links
    out = StringIO()
    call_command("connect_sandbox", "--url", sandbox.url, stdout=out)
    assert "started afresh" in out.getvalue()
    assert ContactLink.objects.filter(portal=portal).count() == 0


def test_a_portal_of_the_real_hubspot_is_never_pointed_at_a_sandbox(sandbox):
    sandbox.load("demo")
    Portal.objects.create(hub_id=62515, access_token="real")  # api_base blank: the real HubSpot
    with pytest.raises(SandboxConnectError, match="real HubSpot"):
        sandbox_connection_make(url=sandbox.url)
    assert Portal.objects.get(hub_id=62515).api_base == ""


def test_connect_one_portal_of_a_multi_portal_sandbox(sandbox):
    sandbox.load({"portals": [
        {"hubspot": {"portal_id": 111}, "zoom": {"accounts": [{"account_id": "zacc_one"}]}},
        {"hubspot": {"portal_id": 222}, "zoom": {"accounts": [{"account_id": "zacc_two"}]}},
    ]})
    two = sandbox_connection_make(url=f"{sandbox.url}/p/222").portal
    assert two.hub_id == 222 and two.api_base == f"{sandbox.url}/p/222/hubspot"
    assert [a.account_id for a in two.zoom_accounts.all()] == ["zacc_two"]
    report = _sync(two)
    assert report["errors"] == []
