"""Fixtures for the settings UI: a member admin, another tenant, Zoom users and webinars."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from connector.models import Portal, PortalMembership, Webinar, ZoomAccount, ZoomUser


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def member_portal(portal, admin_user):
    PortalMembership.objects.create(user=admin_user, portal=portal)
    return portal


@pytest.fixture
def other_portal(db):
    """Another tenant's portal: alice is not a member."""
    other = Portal.objects.create(hub_id=99999, name="Globex")
    bob = get_user_model().objects.create_user(username="bob", password="pw-bob-123")
    PortalMembership.objects.create(user=bob, portal=other)
    return other


@pytest.fixture
def client_alice(admin_user):
    c = Client()
    c.force_login(admin_user)
    return c


@pytest.fixture
def csrf_client_alice(admin_user):
    c = Client(enforce_csrf_checks=True)
    c.force_login(admin_user)
    return c


@pytest.fixture
def zoom_account(member_portal):
    return ZoomAccount.objects.create(portal=member_portal, account_id="zacc_main", business_unit_id="0")


@pytest.fixture
def zoom_users(zoom_account):
    rows = [
        ("zu_1", "host@acme.com", "Hal", "Host"),
        ("zu_2", "second@acme.com", "Sue", "Second"),
        ("zu_3", "legal@acme-legal.com", "Lee", "Legal"),
    ]
    return [
        ZoomUser.objects.create(account=zoom_account, zoom_user_id=i, email=e, first_name=f, last_name=la)
        for i, e, f, la in rows
    ]


@pytest.fixture
def webinars(zoom_account, zoom_users):
    start = dt.datetime(2026, 10, 1, 15, tzinfo=dt.UTC)
    return {
        "launch": Webinar.objects.create(
            account=zoom_account, webinar_id="81000000001", host_email="host@acme.com", topic="Launch",
            webinar_type=5, start_time=start, duration_minutes=60,
        ),
        "deep": Webinar.objects.create(
            account=zoom_account, webinar_id="81000000002", host_email="host@acme.com", topic="Deep dive",
            webinar_type=5, start_time=start + dt.timedelta(days=7), duration_minutes=60,
        ),
        "event": Webinar.objects.create(
            account=zoom_account, webinar_id="81000000009", host_email="host@acme.com", topic="Summit",
            webinar_type=5, start_time=start, duration_minutes=60, zoom_event_id="ze_1",
        ),
    }
