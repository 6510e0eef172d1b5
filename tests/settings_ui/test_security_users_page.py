"""Issue 12: a Zoom user whose (valid) email contains "/" made the users page answer 500."""

from __future__ import annotations

from connector.models import ZoomUser


def test_users_page_works_for_an_email_with_a_slash(client_alice, member_portal, zoom_account):
    ZoomUser.objects.create(account=zoom_account, zoom_user_id="zu_slash", email="ops/team@acme.com")
    page = client_alice.get(f"/portals/{member_portal.hub_id}/users/")
    assert page.status_code == 200
    link = f"/portals/{member_portal.hub_id}/users/ops/team@acme.com/"
    assert link in page.content.decode()
    detail = client_alice.get(link)
    assert detail.status_code == 200
    assert "ops/team@acme.com" in detail.content.decode()
