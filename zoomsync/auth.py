"""Sign-in throttling (issue 12): a small lockout, for the site and the admin alike.

Every failed sign-in counts against the user name and against the client's address (in
the cache: Redis when configured, so every process shares the counts). After
LOGIN_MAX_FAILURES failures for a name, or LOGIN_MAX_FAILURES_PER_IP from one address,
within LOGIN_LOCKOUT_SECONDS, sign-in is refused until the window passes, even with the
right password, so guessing stays slow. A successful sign-in clears the name's count.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LOCKED_MESSAGE = "Too many failed sign-ins. Wait 15 minutes, then try again."


def _client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: a forwarded-for header is the client's to forge.
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def _keys(request: HttpRequest | None, username: str | None) -> tuple[str, str]:
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return f"zoomsync:login-fail:user:{name}", f"zoomsync:login-fail:ip:{_client_ip(request)}"


def login_locked(request: HttpRequest | None, username: str | None) -> bool:
    user_key, ip_key = _keys(request, username)
    return (
        int(cache.get(user_key, 0)) >= settings.LOGIN_MAX_FAILURES
        or int(cache.get(ip_key, 0)) >= settings.LOGIN_MAX_FAILURES_PER_IP
    )


def _count(key: str) -> None:
    if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failure_record(request: HttpRequest | None, username: str | None) -> None:
    for key in _keys(request, username):
        _count(key)


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses sign-in (PermissionDenied stops every backend) while the
    user name or the address is locked out, and counts failures."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get("username")
        if login_locked(request, username):
            raise PermissionDenied(LOCKED_MESSAGE)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(request, username)
        else:
            cache.delete(_keys(request, username)[0])
        return user


def _locked_check(form: Any) -> None:
    if login_locked(form.request, form.cleaned_data.get("username")):
        raise ValidationError(LOCKED_MESSAGE, code="locked")


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, saying plainly when sign-in is locked."""

    def clean(self) -> dict[str, Any]:
        _locked_check(self)
        return super().clean()


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, saying plainly when sign-in is locked."""

    def clean(self) -> dict[str, Any]:
        _locked_check(self)
        return super().clean()
