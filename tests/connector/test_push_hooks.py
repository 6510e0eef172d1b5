"""The production push path carries nothing of the sandbox (issue 10, item 7): the push
module imports nothing from sandbox_connect, and without the sandbox mounted the world check
never runs and a portal's client carries only the settings' developer key and app id."""

from __future__ import annotations

import ast
import datetime as dt
import inspect

import pytest
import responses
from django.apps import apps
from django.utils import timezone

from connector.clients import factories
from connector.models import Portal, SyncRun
from connector.selectors import sync_rules_get
from connector.services import push
from connector.services.report import SyncReport
from connector.services.sandbox_connect import SandboxConnectionHooks


def test_push_module_imports_nothing_from_sandbox_connect():
    tree = ast.parse(inspect.getsource(push))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not any("sandbox" in name for name in imported), imported
    assert "sandbox" not in inspect.getsource(push).lower()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def production(settings):
    """Production settings: the sandbox not mounted, the hooks wired as connector.apps does."""
    before = factories.connection_hooks()
    settings.ZOOMSYNC_SANDBOX = False
    settings.HUBSPOT_DEVELOPER_API_KEY = ""
    settings.HUBSPOT_APP_ID = ""
    apps.get_app_config("connector").ready()
    yield
    factories.connection_hooks_set(before)


def test_the_sandbox_wiring_is_registered_only_while_the_sandbox_is_mounted(settings):
    before = factories.connection_hooks()
    try:
        settings.ZOOMSYNC_SANDBOX = True
        apps.get_app_config("connector").ready()
        assert isinstance(factories.connection_hooks(), SandboxConnectionHooks)
        settings.ZOOMSYNC_SANDBOX = False
        apps.get_app_config("connector").ready()
        assert factories.connection_hooks() is None
    finally:
        factories.connection_hooks_set(before)


@pytest.mark.django_db
def test_production_push_never_calls_the_world_check(production, monkeypatch, mocked):
    called: list[str] = []
    monkeypatch.setattr("connector.services.sandbox_connect.sandbox_world_verify",
                        lambda **kw: called.append("verify"))
    monkeypatch.setattr("connector.services.sandbox_connect.requests.get",
                        lambda *a, **kw: called.append("GET"))
    # A portal that still names a sandbox: in production its own base is never honoured.
    portal = Portal.objects.create(
        hub_id=62515, api_base="http://127.0.0.1:8899/hubspot", sandbox_world_id="w-old",
        access_token="tok", token_expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    run = SyncRun.objects.create(portal=portal, trigger="test")
    report = SyncReport(portal=portal, run=run)
    # Nobody changed and nothing pending: the push returns before building a client (B2).
    push.portal_push(portal=portal, run=run, report=report, rules=sync_rules_get(portal=portal),
                     emails=frozenset(), recheck=False)
    assert called == []
    assert len(mocked.calls) == 0


@pytest.mark.django_db
def test_production_client_carries_only_the_settings_keys(production, monkeypatch, mocked):
    monkeypatch.setattr("connector.services.tokens.hubspot_access_token_get", lambda **kw: "tok")
    portal = Portal.objects.create(hub_id=62515, api_base="http://127.0.0.1:8899/hubspot")
    client = push.hubspot_client_for(portal)
    assert client.base_url == "https://api.hubapi.com"
    assert (client.developer_api_key, client.app_id) == ("", "")
    assert len(mocked.calls) == 0  # no access-token lookup for an app id


@pytest.mark.django_db
def test_a_sandbox_portal_client_gets_a_developer_key_and_the_app_id(settings, monkeypatch, mocked):
    settings.ZOOMSYNC_SANDBOX = True
    settings.HUBSPOT_DEVELOPER_API_KEY = ""
    settings.HUBSPOT_APP_ID = ""
    before = factories.connection_hooks()
    factories.connection_hooks_set(SandboxConnectionHooks())
    try:
        monkeypatch.setattr("connector.services.tokens.hubspot_access_token_get", lambda **kw: "tok")
        mocked.get("http://127.0.0.1:8899/hubspot/oauth/v1/access-tokens/tok", json={"app_id": 777})
        portal = Portal.objects.create(hub_id=62515, api_base="http://127.0.0.1:8899/hubspot")
        client = factories.hubspot_client_for(portal)
        assert (client.developer_api_key, client.app_id) == ("zoomsync-sandbox-developer-key", "777")
    finally:
        factories.connection_hooks_set(before)
