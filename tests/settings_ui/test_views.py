"""View tests of the settings UI: every form valid / invalid / other tenant / CSRF (issue 6)."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from connector.services.sync_settings import sync_settings_export, sync_settings_import
from settings_ui.models import AuditAction, AuditLogEntry

pytestmark = pytest.mark.django_db

GLOBAL_VALID = {
    "sync_mode": "selected",
    "selected_users": ["second@acme.com"],
    "selected_users_other": "",
    "excluded_host_domains": "partner.example\n",
    "excluded_recording_domains_picked": ["acme-legal.com"],
    "excluded_recording_domains": "Bücher.example",
    "excluded_contact_domains": "acme.com\n@ACME.co.uk.",
}


def url(name, portal, **kw):
    return reverse(f"settings_ui:{name}", kwargs={"hub_id": portal.hub_id, **kw})


# --- login and tenancy ------------------------------------------------------------------


def test_pages_require_login(client, member_portal):
    response = client.get(url("global-settings", member_portal))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_logs_in(client, admin_user, member_portal):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Log in to zoomsync" in page.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, follow=True)
    # One portal: home goes straight to it.
    assert response.redirect_chain[-1][0] == url("dashboard", member_portal)


def test_home_lists_portals_when_several(client_alice, admin_user, member_portal, other_portal):
    from connector.models import PortalMembership

    PortalMembership.objects.create(user=admin_user, portal=other_portal)
    response = client_alice.get("/")
    assert response.status_code == 200
    assert b"Acme" in response.content and b"Globex" in response.content


def test_home_shows_only_own_portals(client_alice, member_portal, other_portal):
    response = client_alice.get("/", follow=True)
    assert b"Globex" not in response.content


PORTAL_PAGES = [
    ("dashboard", "get"), ("connections", "get"), ("global-settings", "get"), ("global-settings", "post"),
    ("zoom-users", "get"), ("event-sinks", "get"), ("event-sinks", "post"), ("export", "get"),
    ("import", "get"), ("import", "post"), ("audit-log", "get"), ("sync-now", "post"),
]


@pytest.mark.parametrize(("name", "method"), PORTAL_PAGES)
def test_other_tenants_portal_is_404(client_alice, member_portal, other_portal, name, method):
    response = getattr(client_alice, method)(url(name, other_portal))
    assert response.status_code == 404


def test_other_tenants_user_page_and_runs_are_404(client_alice, member_portal, other_portal):
    from connector.models import SyncRun

    run = SyncRun.objects.create(portal=other_portal, status="succeeded")
    assert client_alice.get(url("zoom-user", other_portal, email="host@acme.com")).status_code == 404
    assert client_alice.post(url("zoom-user", other_portal, email="host@acme.com"), {}).status_code == 404
    # Another portal's run through my own portal's URL is 404 too.
    assert client_alice.get(url("run", member_portal, run_id=run.id)).status_code == 404
    assert client_alice.get(url("run-progress", member_portal, run_id=run.id)).status_code == 404
    assert client_alice.get(url("run", other_portal, run_id=run.id)).status_code == 404


def test_other_tenants_settings_unchanged_by_post(client_alice, member_portal, other_portal):
    before = sync_settings_export(portal=other_portal)
    client_alice.post(url("global-settings", other_portal), {**GLOBAL_VALID, "selected_users_other": "x@y.com"})
    assert sync_settings_export(portal=other_portal) == before


# --- CSRF ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("global-settings", GLOBAL_VALID),
        ("event-sinks", {"event_sinks": ["timeline"]}),
        ("import", {"document": "{}"}),
        ("sync-now", {}),
    ],
)
def test_csrf_enforced_on_post(csrf_client_alice, member_portal, zoom_users, name, data):
    before = sync_settings_export(portal=member_portal)
    response = csrf_client_alice.post(url(name, member_portal), data)
    assert response.status_code == 403
    assert sync_settings_export(portal=member_portal) == before
    assert not AuditLogEntry.objects.exists()


def test_csrf_token_accepted(csrf_client_alice, member_portal, zoom_users):
    page = csrf_client_alice.get(url("event-sinks", member_portal))
    token = page.context["csrf_token"]
    response = csrf_client_alice.post(
        url("event-sinks", member_portal), {"event_sinks": ["marketing_events"], "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302
    assert sync_settings_export(portal=member_portal)["event_sinks"] == ["marketing_events"]


def test_csrf_enforced_on_user_page_and_logout(csrf_client_alice, member_portal, webinars):
    response = csrf_client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), {})
    assert response.status_code == 403
    assert csrf_client_alice.post("/accounts/logout/").status_code == 403


# --- Global settings (R4–R7) --------------------------------------------------------------


def test_global_settings_page_lists_users_and_domains(client_alice, member_portal, zoom_users):
    response = client_alice.get(url("global-settings", member_portal))
    body = response.content.decode()
    assert response.status_code == 200
    for email in ("host@acme.com", "second@acme.com", "legal@acme-legal.com"):
        assert f'value="{email}"' in body  # R4 picker
    assert 'value="acme-legal.com"' in body  # R6 pick list of the users' domains
    assert "turn on <em>registration</em>" in body.lower() or "Turn on <em>registration</em>" in body  # R3
    assert "primary email" in body  # R13/R15 guidance


def test_r4_r5_r6_r7_global_settings_saved_normalised(client_alice, admin_user, member_portal, zoom_users):
    response = client_alice.post(url("global-settings", member_portal), GLOBAL_VALID)
    assert response.status_code == 302
    doc = sync_settings_export(portal=member_portal)
    assert doc["sync_mode"] == "selected"
    assert doc["selected_users"] == ["second@acme.com"]
    assert doc["excluded_host_domains"] == ["partner.example"]
    # R6: picked from the users' domains plus a typed IDN, stored as punycode.
    assert doc["excluded_recording_domains"] == ["acme-legal.com", "xn--bcher-kva.example"]
    # R7: '@' and trailing dot stripped, lower-cased.
    assert doc["excluded_contact_domains"] == ["acme.com", "acme.co.uk"]
    entry = AuditLogEntry.objects.get()
    assert entry.user == admin_user and entry.actor == "alice"
    assert entry.action == AuditAction.SETTINGS_CHANGED
    paths = {d["path"] for d in entry.diff}
    assert {"sync_mode", "selected_users", "excluded_host_domains", "excluded_recording_domains",
            "excluded_contact_domains"} <= paths
    mode = next(d for d in entry.diff if d["path"] == "sync_mode")
    assert (mode["old"], mode["new"]) == ("all", "selected")
    assert entry.after == doc


def test_r4_selected_user_not_yet_pulled_entered_by_email(client_alice, member_portal, zoom_users):
    data = {**GLOBAL_VALID, "selected_users": [], "selected_users_other": "New.Host@Acme.com"}
    assert client_alice.post(url("global-settings", member_portal), data).status_code == 302
    assert sync_settings_export(portal=member_portal)["selected_users"] == ["new.host@acme.com"]


def test_global_settings_keep_per_user_and_webinar_settings(client_alice, member_portal, zoom_users):
    sync_settings_import(portal=member_portal, document={
        "users": {"host@acme.com": {"sync_new_webinars_by_default": False, "sync_recordings": True}},
        "webinars": {"81000000001": {"sync": True}},
        "event_sinks": ["timeline", "marketing_events"],
    })
    client_alice.post(url("global-settings", member_portal), GLOBAL_VALID)
    doc = sync_settings_export(portal=member_portal)
    assert doc["users"] == {"host@acme.com": {"sync_new_webinars_by_default": False, "sync_recordings": True}}
    assert doc["webinars"] == {"81000000001": {"sync": True}}
    assert doc["event_sinks"] == ["timeline", "marketing_events"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("excluded_host_domains", "not a domain", "is not a domain"),
        ("excluded_host_domains", "acme.com\nACME.com", "listed twice"),
        ("excluded_contact_domains", "bücher.example\nxn--bcher-kva.example", "listed twice"),
        ("excluded_contact_domains", "192.168.0.1", "IP address"),
        ("excluded_recording_domains", "-bad-.com", "not a valid domain"),
        ("selected_users_other", "nobody-at-example", "not an email address"),
    ],
)
def test_global_settings_invalid_domains_refused_nothing_saved(client_alice, member_portal, zoom_users, field, value, message):
    before = sync_settings_export(portal=member_portal)
    response = client_alice.post(url("global-settings", member_portal), {**GLOBAL_VALID, field: value})
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field])
    body = response.content.decode()
    assert "Nothing was saved" in body
    assert sync_settings_export(portal=member_portal) == before
    assert not AuditLogEntry.objects.exists()
    # The admin's input is kept for correction.
    assert value.split("\n")[0] in body


def test_r4_selected_mode_needs_a_user(client_alice, member_portal, zoom_users):
    data = {**GLOBAL_VALID, "selected_users": [], "selected_users_other": ""}
    response = client_alice.post(url("global-settings", member_portal), data)
    assert response.status_code == 200
    assert "Pick at least one Zoom user" in response.context["form"].errors["selected_users"][0]
    assert sync_settings_export(portal=member_portal)["sync_mode"] == "all"


def test_global_settings_invalid_mode(client_alice, member_portal, zoom_users):
    response = client_alice.post(url("global-settings", member_portal), {**GLOBAL_VALID, "sync_mode": "some"})
    assert response.status_code == 200
    assert "sync_mode" in response.context["form"].errors


def test_saving_unchanged_settings_writes_no_audit_entry(client_alice, member_portal, zoom_users):
    client_alice.post(url("global-settings", member_portal), GLOBAL_VALID)
    client_alice.post(url("global-settings", member_portal), GLOBAL_VALID)
    assert AuditLogEntry.objects.count() == 1


# --- Zoom users and per-user settings (R8, R9, R10, R2) ----------------------------------------


def test_zoom_users_list(client_alice, member_portal, webinars):
    response = client_alice.get(url("zoom-users", member_portal))
    body = response.content.decode()
    assert response.status_code == 200
    assert "host@acme.com" in body and "Hal Host" in body
    assert url("zoom-user", member_portal, email="host@acme.com") in body


def test_user_page_shows_webinars_and_zoom_event_not_syncable(client_alice, member_portal, webinars):
    response = client_alice.get(url("zoom-user", member_portal, email="host@acme.com"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Launch" in body and "Deep dive" in body and "Summit" in body
    assert "webinars of Zoom Events cannot be synced" in body
    assert 'name="webinar_81000000009"' in body and "disabled" in body.split('name="webinar_81000000009"')[0][-200:] + body.split('name="webinar_81000000009"')[1][:80]


def test_r8_r9_r10_user_settings_saved(client_alice, member_portal, webinars):
    data = {
        # R8 stays on; R9 turned on; Launch switched off (R10); Deep dive untouched (on).
        "sync_new_webinars_by_default": "on",
        "sync_recordings": "on",
        "webinar_81000000002": "on",
    }
    response = client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), data)
    assert response.status_code == 302
    doc = sync_settings_export(portal=member_portal)
    assert doc["users"]["host@acme.com"] == {"sync_new_webinars_by_default": True, "sync_recordings": True}
    # Only the switch that differs from the R8 default is stored: Deep dive keeps following it.
    assert doc["webinars"] == {"81000000001": {"sync": False}}
    entry = AuditLogEntry.objects.get()
    assert entry.source == "user host@acme.com"
    assert {"users.host@acme.com", "webinars.81000000001"} == {d["path"] for d in entry.diff}


def test_r8_default_off_keeps_visible_state_of_existing_webinars(client_alice, member_portal, webinars):
    data = {"sync_recordings": "", "webinar_81000000001": "on", "webinar_81000000002": "on"}
    client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), data)
    doc = sync_settings_export(portal=member_portal)
    assert doc["users"]["host@acme.com"]["sync_new_webinars_by_default"] is False
    assert doc["webinars"] == {"81000000001": {"sync": True}, "81000000002": {"sync": True}}


def test_r10_explicit_switch_turned_back_on(client_alice, member_portal, webinars):
    sync_settings_import(portal=member_portal, document={"webinars": {"81000000001": {"sync": False}}})
    data = {"sync_new_webinars_by_default": "on", "webinar_81000000001": "on", "webinar_81000000002": "on"}
    client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), data)
    assert sync_settings_export(portal=member_portal)["webinars"] == {"81000000001": {"sync": True}}


def test_r2_zoom_event_webinar_cannot_be_switched_on(client_alice, member_portal, webinars):
    data = {"sync_new_webinars_by_default": "on", "webinar_81000000009": "on"}
    response = client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), data)
    assert response.status_code == 200
    assert "Webinars of Zoom Events cannot be synced." in response.context["form"].errors["webinar_81000000009"]
    assert sync_settings_export(portal=member_portal)["webinars"] == {}
    assert not AuditLogEntry.objects.exists()


def test_user_page_unknown_user_404(client_alice, member_portal, webinars):
    assert client_alice.get(url("zoom-user", member_portal, email="nobody@acme.com")).status_code == 404


def test_user_page_does_not_touch_other_users(client_alice, member_portal, webinars):
    sync_settings_import(portal=member_portal, document={
        "users": {"second@acme.com": {"sync_new_webinars_by_default": False, "sync_recordings": True}}})
    client_alice.post(url("zoom-user", member_portal, email="host@acme.com"), {"sync_new_webinars_by_default": "on"})
    doc = sync_settings_export(portal=member_portal)
    assert doc["users"]["second@acme.com"] == {"sync_new_webinars_by_default": False, "sync_recordings": True}


# --- Event sinks -----------------------------------------------------------------------------


def test_event_sinks_saved_in_canonical_order(client_alice, member_portal):
    response = client_alice.post(url("event-sinks", member_portal), {"event_sinks": ["marketing_events", "timeline"]})
    assert response.status_code == 302
    assert sync_settings_export(portal=member_portal)["event_sinks"] == ["timeline", "marketing_events"]
    assert AuditLogEntry.objects.get().diff[0]["path"] == "event_sinks"


@pytest.mark.parametrize("data", [{}, {"event_sinks": ["fax"]}])
def test_event_sinks_invalid(client_alice, member_portal, data):
    response = client_alice.post(url("event-sinks", member_portal), data)
    assert response.status_code == 200
    assert "event_sinks" in response.context["form"].errors
    assert sync_settings_export(portal=member_portal)["event_sinks"] == ["timeline"]


# --- Import / export -------------------------------------------------------------------------


DOC = {
    "sync_mode": "selected",
    "selected_users": ["host@acme.com"],
    "excluded_host_domains": ["partner.example"],
    "excluded_recording_domains": ["acme-legal.com"],
    "excluded_contact_domains": ["acme.com"],
    "users": {"host@acme.com": {"sync_new_webinars_by_default": True, "sync_recordings": False}},
    "webinars": {"81000000001": {"sync": True}},
    "event_sinks": ["timeline"],
}


def test_export_is_the_settings_document(client_alice, member_portal):
    sync_settings_import(portal=member_portal, document=DOC)
    response = client_alice.get(url("export", member_portal))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content) == sync_settings_export(portal=member_portal) == DOC


def test_import_pasted_document(client_alice, admin_user, member_portal):
    # First a preview of what would change; nothing is saved until it is confirmed.
    preview = client_alice.post(url("import", member_portal), {"document": json.dumps(DOC)})
    assert preview.status_code == 200 and "What this import will change" in preview.content.decode()
    assert not AuditLogEntry.objects.exists()
    response = client_alice.post(url("import", member_portal), {"document": json.dumps(DOC), "confirm": "1"})
    assert response.status_code == 302
    assert sync_settings_export(portal=member_portal) == DOC
    entry = AuditLogEntry.objects.get()
    assert entry.action == AuditAction.SETTINGS_IMPORTED and entry.user == admin_user


def test_import_uploaded_file_roundtrip(client_alice, member_portal):
    sync_settings_import(portal=member_portal, document=DOC)
    exported = client_alice.get(url("export", member_portal)).content
    sync_settings_import(portal=member_portal, document={})
    upload = io.BytesIO(exported)
    upload.name = "settings.json"
    response = client_alice.post(url("import", member_portal), {"file": upload})
    # The preview keeps the uploaded document in the text box: confirming posts it.
    assert response.status_code == 200
    kept = response.context["form"].data["document"]
    assert json.loads(kept) == DOC
    response = client_alice.post(url("import", member_portal), {"document": kept, "confirm": "1"})
    assert response.status_code == 302
    assert sync_settings_export(portal=member_portal) == DOC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"sync_mode": "all",', "Not valid JSON"),
        ('{"sync_mode": "all", "colour": "blue"}', "unknown key 'colour'"),
        ('{"excluded_host_domains": ["a.com", "A.com"]}', "listed twice"),
        ("", "Choose a file or paste a settings document."),
    ],
)
def test_import_invalid_changes_nothing_and_keeps_text(client_alice, member_portal, text, message):
    sync_settings_import(portal=member_portal, document=DOC)
    response = client_alice.post(url("import", member_portal), {"document": text})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in " ".join(response.context["form"].non_field_errors())
    assert sync_settings_export(portal=member_portal) == DOC
    assert not AuditLogEntry.objects.exists()
    if text:
        from html import unescape

        assert text in unescape(body)


def test_import_bad_upload_is_kept_in_textarea(client_alice, member_portal):
    upload = io.BytesIO(b'{"sync_mode": "sometimes"}')
    upload.name = "bad.json"
    response = client_alice.post(url("import", member_portal), {"file": upload})
    assert response.status_code == 200
    assert "sync_mode" in " ".join(response.context["form"].non_field_errors())
    assert "sometimes" in response.content.decode()


# --- Audit log page ----------------------------------------------------------------------


def test_audit_log_page_shows_who_when_what(client_alice, member_portal, zoom_users):
    client_alice.post(url("global-settings", member_portal), GLOBAL_VALID)
    response = client_alice.get(url("audit-log", member_portal))
    body = response.content.decode()
    assert "alice" in body and "Settings changed" in body
    # Settings keys are shown as their labels, not as document keys.
    assert "partner.example" in body and "Host exclusions" in body and "excluded_host_domains" not in body


# --- Connections -------------------------------------------------------------------------


def test_connections_page(client_alice, member_portal, zoom_account, settings):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "app-id", "app-secret"
    from connector.models import ZoomAccount

    ZoomAccount.objects.create(portal=member_portal, account_id="zacc_eu", business_unit_id="101",
                               is_primary_business_unit=False, status="broken", status_detail="refresh token revoked")
    member_portal.status = "broken"
    member_portal.status_detail = "HubSpot refused the refresh token"
    member_portal.save()
    body = client_alice.get(url("connections", member_portal)).content.decode()
    assert "zacc_main" in body and "zacc_eu" in body
    assert "primary" in body
    assert "refresh token revoked" in body and "HubSpot refused the refresh token" in body
    # Reconnecting is a POST form (CSRF-protected), never a cross-site GET link.
    assert 'method="post" action="/zoom/connect"' in body
    assert 'name="business_unit" value="101"' in body
    assert "/hubspot/install" in body


def test_audit_log_page_shows_per_user_change_in_words(client_alice, member_portal, webinars):
    client_alice.post(url("zoom-user", member_portal, email="host@acme.com"),
                      {"sync_new_webinars_by_default": "on", "sync_recordings": "on", "webinar_81000000002": "on"})
    body = client_alice.get(url("audit-log", member_portal)).content.decode()
    assert "new webinars by default: on, recordings: on" in body
    assert "Webinar “Launch”" in body and "sync: off" in body and "webinars.81000000001" not in body


def test_r3_r15_guidance_is_shown_next_to_the_settings(client_alice, member_portal):
    body = client_alice.get(url("global-settings", member_portal)).content.decode()
    # R3: guests lose their email; the admin is told to turn on registration.
    assert "Guests without an email are not synced." in body
    assert "registration</em> for your webinars in Zoom" in body
    # R15 (same rule as R13, shown as guidance): registrants must use their primary email.
    assert "Registrants must use their primary email." in body
