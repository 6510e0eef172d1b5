"""Shared fixtures. Area fixtures live in tests/<area>/conftest.py."""

import pytest

pytest_plugins = ["sandbox.testing"]


@pytest.fixture
def portal(db):
    from connector.models import Portal

    return Portal.objects.create(hub_id=62515, name="Acme", access_token="tok", refresh_token="rtok")
