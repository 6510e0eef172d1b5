"""B6 mapping screen (server side, over HTTP to the sandbox): the questions of the portal's
webinars are read from Zoom, the contact properties from HubSpot; saving stores the mapping
in the settings document (with an audit entry); bad input keeps the page and saves nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from connector.models import PortalMembership, Webinar
from connector.services.sync_settings import sync_settings_export, sync_settings_import
from settings_ui.models import AuditLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_portal(sandbox_demo):
    from connector.services.sandbox_connect import sandbox_connect

    portal = sandbox_connect(url=sandbox_demo.url)
    account = portal.zoom_accounts.get(account_id="zacc_main")
    for wid, topic in (("81000000006", "Advanced Setup Workshop"), ("81000000007", "Open Q&A (no registration)"),
                       ("81000000001", "Launch: Product Tour")):
        Webinar.objects.create(account=account, webinar_id=wid, topic=topic)
    return portal


@pytest.fixture
def admin_client(demo_portal):
    user = get_user_model().objects.create_user(username="alice", password="pw-alice-123")
    PortalMembership.objects.create(user=user, portal=demo_portal)
    client = Client()
    client.force_login(user)
    return client


def url(portal) -> str:
    return f"/portals/{portal.hub_id}/registration-questions/"


def test_screen_lists_zoom_questions_and_hubspot_properties(admin_client, demo_portal, sandbox_demo):
    sandbox_demo.calls_clear()
    body = admin_client.get(url(demo_portal)).content.decode()
    assert 'data-question="Team size"' in body and "Custom question" in body
    assert "Choices: 1-10, 11-50, 50+" in body
    assert "Advanced Setup Workshop" in body and "How did you hear about us?" in body
    assert '<option value="jobtitle">Job Title (jobtitle)</option>' in body  # HubSpot's property list
    assert '<option value="team_size">' in body
    assert "zoomsync_" not in body.split('id="questions"')[1]  # our own properties cannot be chosen
    assert "custom:" not in body.split("<form")[0]  # plain words only
    calls = sandbox_demo.calls()
    assert calls["hubspot"].get("GET /crm/v3/properties/{objectType}") == 1
    assert calls["zoom"].get("GET /v2/webinars/{webinarId}/registrants/questions") == 3


def _post_data(body: str, choices: dict[str, str], *, to_contacts: bool = False) -> dict[str, str]:
    import re

    data: dict[str, str] = {"count": re.search(r'name="count" value="(\d+)"', body).group(1)}
    for index, key in re.findall(r'name="key_(\d+)" value="([^"]*)"', body):
        data[f"key_{index}"] = key.replace("&#x27;", "'").replace("&amp;", "&")
        data[f"property_{index}"] = choices.get(data[f"key_{index}"], "")
    if to_contacts:
        data["registration_answers_to_contacts"] = "on"
    return data


def test_saving_stores_the_mapping_in_the_settings_document(admin_client, demo_portal):
    body = admin_client.get(url(demo_portal)).content.decode()
    data = _post_data(body, {"org": "company", "custom:Team size": "team_size"}, to_contacts=True)
    response = admin_client.post(url(demo_portal), data)
    assert response.status_code == 302
    doc = sync_settings_export(portal=demo_portal)
    assert doc["registration_fields"] == {"custom:Team size": "team_size", "org": "company"}
    assert doc["registration_answers_to_contacts"] is True
    entry = AuditLogEntry.objects.filter(portal=demo_portal).latest("id")
    assert entry.source == "registration questions"
    # The page shows what is stored.
    body = admin_client.get(url(demo_portal)).content.decode()
    assert '<option value="team_size" selected>' in body


def test_bad_property_changes_nothing_and_says_why(admin_client, demo_portal):
    sync_settings_import(portal=demo_portal, document={"registration_fields": {"org": "company"}})
    body = admin_client.get(url(demo_portal)).content.decode()
    data = _post_data(body, {"org": "Not A Property!"})
    response = admin_client.post(url(demo_portal), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page and "Organization: &#x27;Not A Property!&#x27; is not a HubSpot property name" in page
    assert sync_settings_export(portal=demo_portal)["registration_fields"] == {"org": "company"}


def test_other_tenants_cannot_see_the_screen(admin_client, db):
    from connector.models import Portal

    other = Portal.objects.create(hub_id=99999, name="Globex")
    assert admin_client.get(url(other)).status_code == 404


def test_hubspot_unreachable_is_said_and_the_mapping_is_kept(admin_client, demo_portal):
    sync_settings_import(portal=demo_portal, document={"registration_fields": {"org": "company"}})
    demo_portal.api_base = "http://127.0.0.1:9"  # nothing listens there
    demo_portal.save(update_fields=["api_base"])
    body = admin_client.get(url(demo_portal)).content.decode()
    assert "HubSpot did not answer with the contact properties" in body
    assert '<option value="company" selected>company</option>' in body  # still shown, still chosen
    assert 'data-question="Team size"' in body  # Zoom's questions are still read
