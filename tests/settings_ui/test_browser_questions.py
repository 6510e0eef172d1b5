"""B5 and B6 in a real browser (Playwright + Debian's chromium against the live server, the
sandbox behind it): after "Sync now" the run page counts the guest found by her registration;
the Registration questions screen lists the Zoom questions of the synced webinars and the
portal's contact properties, and saving stores the mapping in the settings document."""

from __future__ import annotations

import pytest

from tests.settings_ui.test_browser import browser, connected, expect, page, shot, sync_now  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_b6_mapping_screen_in_the_browser(page, live_server, connected):  # noqa: F811 - fixtures
    from connector.services.sync_settings import sync_settings_export

    portal = connected
    base = live_server.url
    page.goto(f"{base}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/portals/{portal.hub_id}/")

    counts = sync_now(page, live_server, portal)
    assert counts["guests_found"] == 1  # B5: Maria joined as a guest through her registration

    page.get_by_role("link", name="Registration questions").click()
    page.wait_for_url(f"**/portals/{portal.hub_id}/registration-questions/")
    team = page.locator('tr[data-question="Team size"]')
    expect(team.get_by_text("Advanced Setup Workshop")).to_be_visible()
    expect(team.get_by_text("required")).to_be_visible()
    expect(team.get_by_text("Choices: 1-10, 11-50, 50+")).to_be_visible()
    # The contact properties come from the portal; zoomsync's own are not offered.
    options = page.get_by_label("Organization").locator("option").all_inner_texts()
    assert "Company Name (company)" in options
    assert not any("zoomsync_" in o for o in options)

    page.get_by_label("Organization").select_option("company")
    page.get_by_label("Team size").select_option("team_size")
    page.get_by_label("Write registrants' answers to these contact properties").check()
    shot(page, "09-registration-questions")
    page.get_by_role("button", name="Save registration questions").click()
    expect(page.get_by_text("Registration questions saved.")).to_be_visible()
    assert page.get_by_label("Team size").input_value() == "team_size"

    doc = sync_settings_export(portal=portal)
    assert doc["registration_fields"] == {"custom:Team size": "team_size", "org": "company"}
    assert doc["registration_answers_to_contacts"] is True
