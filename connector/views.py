"""Install and connect flows (HubSpot app install, Zoom OAuth). Thin: parse, call a
service from connector.services.oauth, redirect or show a clear error page."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from connector.models import OAuthState, Portal
from connector.services import oauth

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("zoomsync.connector.views")

SETTINGS_HOME = "/"


def _error(request: HttpRequest, *, title: str, detail: str, status: int = 400) -> HttpResponse:
    return render(
        request, "connector/oauth_error.html", {"title": title, "detail": detail}, status=status
    )


def _provider_error(request: HttpRequest, *, title: str) -> HttpResponse | None:
    """The page for `?error=...&error_description=...`, which both providers send on refusal."""
    if not request.GET.get("error"):
        return None
    detail = f"{request.GET['error']}: {request.GET.get('error_description', '')}".strip(" :")
    return _error(request, title=title, detail=detail)


def _session_key(request: HttpRequest) -> str:
    """The browser session's key, created if the session has none yet."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


_STATE_INVALID_DETAIL = (
    "This link was not started by you in this browser, has expired or was already used. "
    "Start the install again from the Install button (links are valid for 10 minutes)."
)


@login_required
@require_GET
def hubspot_install(request: HttpRequest) -> HttpResponse:
    # The state is bound to the signed-in user and this browser session.
    state = oauth.oauth_state_create(
        provider=OAuthState.Provider.HUBSPOT, user=request.user, session_key=_session_key(request)
    )
    return HttpResponseRedirect(oauth.hubspot_authorize_url_build(state=state.state))


@login_required
@require_GET
def hubspot_callback(request: HttpRequest) -> HttpResponse:
    if refused := _provider_error(request, title="HubSpot did not install the app"):
        return refused
    try:
        state = oauth.oauth_state_consume(
            state=request.GET.get("state", ""),
            provider=OAuthState.Provider.HUBSPOT,
            user=request.user,
            session_key=_session_key(request),
        )
    except oauth.OAuthStateInvalid:
        return _error(request, title="Install link expired or invalid", detail=_STATE_INVALID_DETAIL)
    code = request.GET.get("code", "")
    if not code:
        return _error(request, title="HubSpot sent no authorization code", detail="Start the install again.")
    try:
        portal = oauth.hubspot_install_complete(code=code)
    except oauth.OAuthFlowError as exc:
        return _error(request, title="Install failed", detail=str(exc), status=502)
    oauth.oauth_state_exchanged_attach(state=state, portal=portal)
    # Membership only after the user confirms which HubSpot account they now administer.
    return render(
        request, "connector/install_confirm.html", {"portal": portal, "state": state.state}
    )


@login_required
@require_POST
def hubspot_install_confirm(request: HttpRequest) -> HttpResponse:
    try:
        oauth.hubspot_install_confirm(
            state=request.POST.get("state", ""), user=request.user, session_key=_session_key(request)
        )
    except oauth.OAuthStateInvalid:
        return _error(request, title="Install link expired or invalid", detail=_STATE_INVALID_DETAIL)
    return HttpResponseRedirect(SETTINGS_HOME)


def _business_unit_clean(raw: str) -> str | None:
    """A HubSpot business unit id: digits only ("0" is the default unit)."""
    value = (raw or "0").strip()
    return value if value.isdigit() and len(value) <= 18 else None


@login_required
@require_POST
def zoom_connect(request: HttpRequest) -> HttpResponse:
    hub_id = request.POST.get("portal", "")
    if not hub_id.isdigit():
        raise Http404("unknown portal")
    # Membership required: a user sees only the portals they administer.
    portal = Portal.objects.filter(hub_id=int(hub_id), members=cast("User", request.user)).first()
    if portal is None:
        raise Http404("unknown portal")
    business_unit = _business_unit_clean(request.POST.get("business_unit", "0"))
    if business_unit is None:
        return _error(
            request,
            title="Business unit not valid",
            detail="The business unit is a number (0 for the default business unit).",
        )
    state = oauth.oauth_state_create(
        provider=OAuthState.Provider.ZOOM,
        user=request.user,
        session_key=_session_key(request),
        portal=portal,
        business_unit_id=business_unit,
    )
    return HttpResponseRedirect(oauth.zoom_authorize_url_build(state=state.state))


@login_required
@require_GET
def zoom_callback(request: HttpRequest) -> HttpResponse:
    if refused := _provider_error(request, title="Zoom did not connect"):
        return refused
    try:
        # Checks the user and session before the state is spent.
        state: OAuthState | None = oauth.oauth_state_consume(
            state=request.GET.get("state", ""),
            provider=OAuthState.Provider.ZOOM,
            user=request.user,
            session_key=_session_key(request),
        )
    except oauth.OAuthStateInvalid:
        state = None
    # The state must have been issued to this very user, for a portal it still administers.
    if (
        state is None
        or state.portal is None
        or not Portal.objects.filter(pk=state.portal.pk, members=cast("User", request.user)).exists()
    ):
        return _error(
            request,
            title="Connect link expired or invalid",
            detail="Start connecting Zoom again from the settings page (links are valid for 10 minutes).",
        )
    code = request.GET.get("code", "")
    if not code:
        return _error(request, title="Zoom sent no authorization code", detail="Start connecting again.")
    try:
        oauth.zoom_account_connect_oauth(
            portal=state.portal, code=code, business_unit_id=state.business_unit_id or "0"
        )
    except oauth.OAuthFlowError as exc:
        return _error(request, title="Connecting Zoom failed", detail=str(exc), status=502)
    return HttpResponseRedirect(SETTINGS_HOME)
