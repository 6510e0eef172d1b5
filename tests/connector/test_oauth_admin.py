"""The admin shows connections and their status, never their secrets."""

import pytest
from django.contrib.auth import get_user_model

from connector.models import ZoomAccount


@pytest.mark.django_db
def test_admin_pages_show_connections_without_secrets(client, portal):
    ZoomAccount.objects.create(portal=portal, account_id="zacc", client_secret="zoom-client-secret",
                               access_token="zoom-access-tok", refresh_token="zoom-refresh-tok")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    pages = [
        "/admin/connector/portal/",
        f"/admin/connector/portal/{portal.pk}/change/",
        "/admin/connector/zoomaccount/",
        f"/admin/connector/zoomaccount/{ZoomAccount.objects.get().pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in ("tok", "rtok", "zoom-client-secret", "zoom-access-tok", "zoom-refresh-tok"):
            assert f">{secret}<" not in body and f'value="{secret}"' not in body, (url, secret)
    assert "62515" in client.get("/admin/connector/portal/").content.decode()
