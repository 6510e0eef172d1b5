"""Machine-to-machine endpoints refuse large bodies before reading them (their own limit)."""

from __future__ import annotations

import pytest
from django.test import Client

from connector.request_body import API_BODY_LIMIT


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/webhooks/zoom", "/webhooks/hubspot"])
def test_webhook_body_over_the_limit_is_413_and_nothing_stored(path):
    from connector.models.inbox import WebhookEvent

    response = Client().post(path, data=b"[" + b" " * API_BODY_LIMIT + b"]", content_type="application/json")
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
