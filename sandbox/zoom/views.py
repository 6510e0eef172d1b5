"""The fake Zoom REST API v2 and OAuth endpoints.

Field names, parameters, page-size caps and error codes follow the official OpenAPI documents
(shared/specs/zoom/*.json) and research/zoom-api.md. Authentication, rate limits and faults
happen before these views, in `sandbox.middleware`; these views read `sandbox.zoom_account_id`
from the request to know whose data to answer with. No database.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
from datetime import timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from sandbox.config import knobs
from sandbox.state import sandbox_state
from sandbox.zoom.state import (
    CHOICE_TYPES,
    QUESTION_FIELDS,
    STANDARD_CHOICES,
    Instance,
    Registrant,
    Webinar,
    ZoomAccount,
    ZoomState,
    id_derive,
    now_utc,
    time_format,
    time_parse,
)

SCOPES = ("user:read:admin webinar:read:admin webinar:write:admin report:read:admin "
          "recording:read:admin zoom_events_basic:read:admin zoom_events_sessions:read:admin")


class ZoomError(Exception):
    def __init__(self, status: int, code: int, message: str, *,
                 errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        response = JsonResponse(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def zoom_view(methods: tuple[str, ...] = ("GET",)):  # noqa: ANN201 - decorator factory
    """Method check + ZoomError → Zoom's `{code, message}` answer."""

    def decorate(func):  # noqa: ANN001, ANN202
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return ZoomError(405, 405, f"Method {request.method} not allowed.").response()
            try:
                return func(request, **kwargs)
            except ZoomError as exc:
                return exc.response()

        view.__name__ = func.__name__
        view.__doc__ = func.__doc__
        return view

    return decorate


# --- request helpers --------------------------------------------------------------------------

def _account(request: HttpRequest, zoom: ZoomState) -> ZoomAccount:
    account_id = request.META.get("sandbox.zoom_account_id")
    if account_id is None:  # called without the middleware (Django test client)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = zoom.token_lookup(header[7:].strip(), kind="access") if header[:7].lower() == "bearer " else None
        if token is None or token.expires_at <= time.time():
            raise ZoomError(401, 124, "Invalid access token.")
        account_id = token.account_id
    account = zoom.accounts.get(account_id)
    if account is None:
        raise ZoomError(401, 124, "Invalid access token.")
    return account


def _page_size(request: HttpRequest, *, maximum: int, default: int = 30) -> int:
    raw = request.GET.get("page_size")
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ZoomError(400, 300, "Invalid field.", errors=[
            {"field": "page_size", "message": "Invalid field."}]) from exc
    # Zoom caps an oversized page_size at the maximum rather than failing.
    return max(1, min(value, maximum))


def _paged(zoom: ZoomState, request: HttpRequest, rows: list[Any], *, scope: tuple[Any, ...],
           maximum: int, default: int = 30) -> tuple[list[Any], dict[str, Any]]:
    page_size = _page_size(request, maximum=maximum, default=default)
    result = zoom.page(rows, scope=scope, page_size=page_size,
                       next_page_token=request.GET.get("next_page_token", ""))
    if result is None:
        raise ZoomError(400, 300, "The next page token is invalid or expired.")
    chunk, token = result
    meta = {
        "page_count": math.ceil(len(rows) / page_size) if rows else 0,
        "page_size": page_size,
        "total_records": len(rows),
        "next_page_token": token,
    }
    return chunk, meta


def _webinar(zoom: ZoomState, account: ZoomAccount, raw_id: str) -> Webinar:
    if not raw_id.isdigit():
        raise ZoomError(400, 300, "Invalid webinar ID.")
    webinar = zoom.webinar_in_account(account.account_id, int(raw_id))
    if webinar is None:
        raise ZoomError(404, 3001, f"Webinar does not exist: {raw_id}.")
    return webinar


def _raw_segment(request: HttpRequest, *, prefix: str, suffix: str, decoded: str) -> str:
    """The path parameter exactly as the client sent it (before any percent-decoding).

    The server passes the request target through as RAW_URI; without it (test client) the
    once-decoded value from Django is all there is.
    """
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if raw:
        if "://" in raw:
            raw = urlsplit(raw).path
        raw_path = raw.split("?", 1)[0]
        if raw_path.startswith(prefix) and raw_path.endswith(suffix):
            return raw_path[len(prefix): len(raw_path) - len(suffix)]
    return decoded


def _uuid_param(request: HttpRequest, *, prefix: str, suffix: str, decoded: str,
                noun: str) -> str:
    """Decode a webinar ID or UUID path parameter as Zoom does.

    Zoom's router percent-decodes the path once, then decodes the parameter again. So a UUID
    that begins with "/" or contains "//" must be double-encoded; single-encoded (or raw), its
    slashes split the path and Zoom answers 404 3001 (research/zoom-api.md §0).
    """
    raw = _raw_segment(request, prefix=prefix, suffix=suffix, decoded=decoded)
    once = unquote(raw)
    if "/" in once or not once:
        raise ZoomError(404, 3001, f"{noun} does not exist: {once.lstrip('/')}.")
    return unquote(once)


def _instance_for(zoom: ZoomState, account: ZoomAccount, value: str,
                  noun: str = "Webinar") -> tuple[Webinar, Instance]:
    """A numeric webinar ID means its latest instance; otherwise an instance UUID."""
    if value.isdigit():
        webinar = zoom.webinar_in_account(account.account_id, int(value))
        instance = webinar.instance_latest() if webinar else None
        if webinar is None or instance is None:
            raise ZoomError(404, 3001, f"{noun} does not exist: {value}.")
        return webinar, instance
    found = zoom.instances.get(value)
    if found is None or found[0].account_id != account.account_id:
        raise ZoomError(404, 3001, f"{noun} does not exist: {value}.")
    return found


def _bool_param(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("true", "1")


# --- shapes -----------------------------------------------------------------------------------

def _occurrences(webinar: Webinar, *, include_past: bool) -> list[dict[str, Any]]:
    if include_past:
        return [dict(o) for o in webinar.occurrences]
    now = now_utc()
    return [dict(o) for o in webinar.occurrences
            if time_parse(o["start_time"], path="o") + timedelta(minutes=o["duration"]) >= now]


def webinar_list_item(webinar: Webinar) -> dict[str, Any]:
    return {
        "uuid": webinar.uuid, "id": webinar.id, "host_id": webinar.host_id,
        "topic": webinar.topic, "type": webinar.type, "start_time": time_format(webinar.start),
        "duration": webinar.duration, "timezone": webinar.timezone, "agenda": webinar.agenda,
        "created_at": webinar.created_at, "join_url": webinar.join_url,
        "is_simulive": webinar.is_simulive,
    }


def webinar_detail(webinar: Webinar, account: ZoomAccount, *, include_past: bool,
                   occurrence_id: str | None = None) -> dict[str, Any]:
    host = account.user_find(webinar.host_id)
    host_email = host.email if host else ""
    host_name = f"{host.first_name} {host.last_name}".strip() if host else ""
    occurrences = _occurrences(webinar, include_past=include_past)
    start, duration = time_format(webinar.start), webinar.duration
    if occurrence_id is not None:
        match = [o for o in webinar.occurrences if o["occurrence_id"] == occurrence_id]
        if not match:
            raise ZoomError(404, 3001, f"Webinar does not exist: {webinar.id}.")
        start, duration = match[0]["start_time"], match[0]["duration"]
        occurrences = [dict(match[0])]
    settings: dict[str, Any] = {
        "host_video": True, "panelists_video": True, "practice_session": False,
        "hd_video": False, "hd_video_for_attendees": False, "send_1080p_video_to_attendees": False,
        "approval_type": webinar.approval_type, "audio": "both", "auto_recording": "cloud",
        "enforce_login": False, "enforce_login_domains": "",
        "alternative_hosts": ",".join(webinar.alternative_hosts),
        "close_registration": False, "show_share_button": True, "allow_multiple_devices": True,
        "on_demand": False, "global_dial_in_countries": ["US"], "contact_name": host_name,
        "contact_email": host_email, "registrants_restrict_number": 0,
        "registrants_confirmation_email": True, "registrants_email_notification": True,
        "post_webinar_survey": False, "meeting_authentication": False,
        "question_and_answer": {"enable": True, "allow_submit_questions": True,
                                "allow_anonymous_questions": True, "answer_questions": "all",
                                "attendees_can_comment": True, "attendees_can_upvote": True},
        "panelists_invitation_email_notification": True, "email_language": "en-US",
        "attendees_and_panelists_reminder_email_notification": {"enable": True, "type": 0},
        "follow_up_attendees_email_notification": {"enable": False, "type": 0},
        "follow_up_absentees_email_notification": {"enable": False, "type": 0},
        "email_in_attendee_report": False, "add_watermark": False, "add_audio_watermark": False,
    }
    if webinar.type == 9:
        settings["registration_type"] = webinar.registration_type
    body: dict[str, Any] = {
        "uuid": webinar.uuid, "id": webinar.id, "host_id": webinar.host_id,
        "host_email": host_email, "topic": webinar.topic, "type": webinar.type,
        "start_time": start, "duration": duration, "timezone": webinar.timezone,
        "agenda": webinar.agenda, "created_at": webinar.created_at,
        "start_url": f"https://zoom.us/s/{webinar.id}?zak={id_derive('zak', webinar.id, length=40)}",
        "join_url": webinar.join_url, "password": webinar.password,
        "settings": settings, "is_simulive": webinar.is_simulive, "creation_source": "web_portal",
        "tracking_fields": [],
    }
    if webinar.registration_enabled:
        # "only returned for webinars that have enabled registration"
        body["registration_url"] = webinar.registration_url
    if webinar.type == 9:
        body["occurrences"] = occurrences
        body["recurrence"] = {"type": 2, "repeat_interval": 1,
                              "weekly_days": str(webinar.start.isoweekday() % 7 + 1),
                              "end_times": max(1, len(webinar.occurrences))}
    return body


# --- OAuth ------------------------------------------------------------------------------------

def _oauth_error(status: int, reason: str, error: str) -> JsonResponse:
    return JsonResponse({"reason": reason, "error": error}, status=status)


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _client_ok(request: HttpRequest, account: ZoomAccount) -> bool:
    """Client credentials are checked only when the scenario sets them on the account."""
    if not account.client_id and not account.client_secret:
        return True
    creds = _basic_credentials(request)
    if creds is None:
        creds = (request.POST.get("client_id", ""), request.POST.get("client_secret", ""))
    return creds == (account.client_id or "", account.client_secret or "")


def oauth_token(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _oauth_error(405, "Method not allowed", "invalid_request")

    def param(name: str) -> str:
        # account_credentials params may come as query parameters or as a form body.
        return request.POST.get(name) or request.GET.get(name) or ""

    grant = param("grant_type")
    world = sandbox_state()
    zoom = world.zoom
    lifetime = knobs().zoom_token_lifetime_s
    with world.lock:
        if grant == "account_credentials":
            account = zoom.accounts.get(param("account_id"))
            if account is None:
                return _oauth_error(400, "Invalid account_id", "invalid_request")
            if not _client_ok(request, account):
                return _oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
            access = zoom.token_issue(account.account_id, kind="access", lifetime_s=lifetime)
            return JsonResponse({"access_token": access, "token_type": "bearer",
                                 "expires_in": lifetime, "scope": SCOPES})
        if grant == "authorization_code":
            code = zoom.token_lookup(param("code"), kind="code")
            if code is None or code.expires_at <= time.time():
                return _oauth_error(400, "Invalid authorization code", "invalid_grant")
            if code.redirect_uri and param("redirect_uri") != code.redirect_uri:
                return _oauth_error(400, "Invalid redirect uri", "invalid_request")
            account = zoom.accounts[code.account_id]
            if not _client_ok(request, account):
                return _oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
            zoom.token_revoke(param("code"))  # a code is single-use
        elif grant == "refresh_token":
            old = zoom.token_lookup(param("refresh_token"), kind="refresh")
            if old is None:
                # Rotation: a refresh token that was already used is dead.
                return _oauth_error(400, "Invalid Token!", "invalid_grant")
            account = zoom.accounts[old.account_id]
            if not _client_ok(request, account):
                return _oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
            zoom.token_revoke(param("refresh_token"))
        else:
            return _oauth_error(400, "Unsupported grant type", "unsupported_grant_type")
        access = zoom.token_issue(account.account_id, kind="access", lifetime_s=lifetime)
        refresh = zoom.token_issue(account.account_id, kind="refresh",
                                   lifetime_s=15 * 365 * 86400)
    return JsonResponse({"access_token": access, "token_type": "bearer",
                         "refresh_token": refresh, "expires_in": lifetime, "scope": SCOPES})


def _redirect_uri_allowed(uri: str) -> bool:
    """Like Zoom, redirect only to the app's registered callback (our public URL) or loopback,
    never to any site a link names (an open redirect that would leak the code)."""
    from django.conf import settings

    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    public = settings.ZOOMSYNC_PUBLIC_URL.rstrip("/")
    return uri.startswith(public + "/") or parts.hostname in ("127.0.0.1", "localhost", "::1")


def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """The consent page, auto-approved: redirects back with a code (valid 5 minutes).

    Extension: `account_id` picks which scenario account "logs in" (default: the first).
    """
    redirect_uri = request.GET.get("redirect_uri", "")
    if request.GET.get("response_type", "code") != "code" or not _redirect_uri_allowed(redirect_uri):
        return _oauth_error(400, "Invalid redirect_uri or response_type", "invalid_request")
    world = sandbox_state()
    with world.lock:
        accounts = world.zoom.accounts
        account_id = request.GET.get("account_id") or next(iter(accounts), None)
        if account_id not in accounts:
            return _oauth_error(400, "Invalid account_id", "invalid_request")
        code = world.zoom.token_issue(account_id, kind="code", lifetime_s=300,
                                      redirect_uri=redirect_uri)
    params = {"code": code}
    if "state" in request.GET:
        params["state"] = request.GET["state"]
    sep = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(f"{redirect_uri}{sep}{urlencode(params)}")


# --- users ------------------------------------------------------------------------------------

@zoom_view()
def users_list(request: HttpRequest) -> JsonResponse:
    status = request.GET.get("status", "active")
    if status not in ("active", "inactive", "pending"):
        raise ZoomError(400, 300, "Invalid field.", errors=[{"field": "status", "message": "Invalid field."}])
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        rows = [u for u in account.users if u.status == status]
        chunk, meta = _paged(world.zoom, request, rows, scope=("users", account.account_id, status),
                             maximum=2000)
        return JsonResponse({**meta, "page_number": 1,
                             "users": [u.api_list_item() for u in chunk]})


@zoom_view()
def user_get(request: HttpRequest, userId: str) -> JsonResponse:  # noqa: N803 - spec name
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        user = account.user_find(userId)
        if user is None:
            raise ZoomError(404, 1001, f"User does not exist: {userId}.")
        return JsonResponse(user.api_detail(account.account_number))


@zoom_view()
def user_webinars(request: HttpRequest, userId: str) -> JsonResponse:  # noqa: N803
    list_type = request.GET.get("type", "scheduled")
    if list_type not in ("scheduled", "upcoming"):
        raise ZoomError(400, 300, "Invalid field.", errors=[{"field": "type", "message": "Invalid field."}])
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        user = account.user_find(userId)
        if user is None:
            raise ZoomError(404, 1001, f"User does not exist: {userId}.")
        now = now_utc()
        # Only unexpired webinars are listed ("This API only returns a user's unexpired
        # webinars"); `upcoming` keeps those not yet over.
        rows = sorted(
            (w for w in account.webinars.values()
             if w.host_id == user.id and not w.expired
             and (list_type == "scheduled" or w.end() >= now)),
            key=lambda w: (w.start, w.id),
        )
        chunk, meta = _paged(world.zoom, request, rows,
                             scope=("webinars", account.account_id, user.id, list_type), maximum=300)
        return JsonResponse({**meta, "page_number": 1,
                             "webinars": [webinar_list_item(w) for w in chunk]})


# --- webinars ---------------------------------------------------------------------------------

@zoom_view()
def webinar_get(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        webinar = _webinar(world.zoom, account, webinarId)
        return JsonResponse(webinar_detail(
            webinar, account, include_past=_bool_param(request, "show_previous_occurrences"),
            occurrence_id=request.GET.get("occurrence_id") or None))


@zoom_view(("GET", "POST"))
def webinar_registrants(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    if request.method == "POST":
        return _registrant_create(request, webinarId)
    status = request.GET.get("status", "approved")
    if status not in ("pending", "approved", "denied"):
        # Cancelled registrants are not listed by Zoom (the spec's enum has no "cancelled").
        raise ZoomError(400, 300, "Invalid field.", errors=[{"field": "status", "message": "Invalid field."}])
    occurrence_id = request.GET.get("occurrence_id") or None
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        webinar = _webinar(world.zoom, account, webinarId)
        rows = webinar.registrants_filtered(status, occurrence_id)
        chunk, meta = _paged(world.zoom, request, rows,
                             scope=("registrants", webinar.id, status, occurrence_id), maximum=300)
        return JsonResponse({**meta, "page_number": 1, "registrants": [r.api() for r in chunk]})


def _registrant_create(request: HttpRequest, webinar_id: str) -> JsonResponse:
    try:
        body = json.loads(request.body or b"null")
    except json.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise ZoomError(400, 300, "Request Body should be a valid JSON object.")
    errors = []
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email or "." not in email.rsplit("@", 1)[-1] \
            or len(email) > 128:
        errors.append({"field": "email", "message": "Invalid field."})
    first_name = body.get("first_name")
    if not isinstance(first_name, str) or not first_name.strip() or len(first_name) > 64:
        errors.append({"field": "first_name", "message": "Invalid field."})
    if errors:
        raise ZoomError(400, 300, "Validation Failed.", errors=errors)
    assert isinstance(email, str) and isinstance(first_name, str)  # noqa: S101 - checked above
    email_key = email.strip().lower()

    world = sandbox_state()
    with world.lock:
        zoom = world.zoom
        account = _account(request, zoom)
        webinar = _webinar(zoom, account, webinar_id)
        if not webinar.registration_enabled:
            raise ZoomError(400, 3000,
                            f"Registration has not been enabled for this webinar: {webinar.id}.")
        now = now_utc()
        if webinar.type != 6 and webinar.end() < now:
            raise ZoomError(400, 3038, "Webinar is over, you cannot register now. If you have "
                                       "any questions, contact the webinar host.")
        host = account.user_find(webinar.host_id)
        connected = account.user_find(account.connected_user_id or "")
        blocked = {a.lower() for a in webinar.alternative_hosts}
        blocked |= {u.email.lower() for u in (host, connected) if u is not None}
        if email_key in blocked:
            raise ZoomError(400, 3027, "Host can not register")

        # Per registrant per webinar per UTC day (research/zoom-api.md §9).
        day = now.strftime("%Y-%m-%d")
        calls_key = (webinar.id, email_key, day)
        used = zoom.registration_calls.get(calls_key, 0)
        limit = knobs().registrant_daily_limit
        if used >= limit:
            world.counters.throttled["zoom"] += 1
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            raise ZoomError(
                429, 429,
                f"You have exceeded the daily rate limit ({limit}) of Webinar Batch Registration "
                f"API requests permitted for ({email}) this particular registrant. You may resume "
                f"these requests at GMT 00:00:00.",
                headers={"Retry-After": format_datetime(midnight, usegmt=True),
                         "X-RateLimit-Category": "Light", "X-RateLimit-Type": "Daily-limit",
                         "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"})
        zoom.registration_calls[calls_key] = used + 1

        # R11, B6: a required registration question left unanswered, or an answer that is not
        # one of a choice question's options, makes Zoom refuse the registration.
        missing = _answers_invalid(webinar, body)
        if missing:
            raise ZoomError(400, 300, "Validation Failed.", errors=missing)
        answers = {str(q.get("title")): str(q.get("value")) for q in body.get("custom_questions") or []
                   if isinstance(q, dict) and q.get("title")}

        occurrence_ids = None
        raw_occ = request.GET.get("occurrence_ids", "")
        if raw_occ:
            known = {o["occurrence_id"] for o in webinar.occurrences}
            occurrence_ids = [o.strip() for o in raw_occ.split(",") if o.strip()]
            if not occurrence_ids or any(o not in known for o in occurrence_ids):
                raise ZoomError(400, 300, "Invalid parameter: occurrence_ids")

        registrant = webinar.by_email.get(email_key)
        if registrant is None or registrant.status == "cancelled":
            status = "approved" if webinar.approval_type == 0 else "pending"
            if registrant is None:
                rid = id_derive("registrant", webinar.id, email_key, "api", secrets.token_hex(4))
                extra = {k: body[k] for k in QUESTION_FIELDS
                         if k != "last_name" and isinstance(body.get(k), str)}
                extra["custom_questions"] = [
                    {"title": str(t), "value": str(v)} for t, v in answers.items() if t]
                registrant = Registrant(
                    id=rid, email=email.strip(), first_name=first_name.strip(),
                    last_name=str(body.get("last_name") or "").strip(), status=status,
                    create_time=time_format(now),
                    join_url=f"https://zoom.us/w/{webinar.id}?tk={rid}",
                    occurrence_ids=occurrence_ids, extra=extra)
                webinar.registrant_add(registrant)
            else:
                # A cancelled registration comes back to life.
                registrant.status = status
                registrant.create_time = time_format(now)
                webinar.version += 1
        # else: Zoom answers a repeated registration with the existing registrant.

        occurrences = _occurrences(webinar, include_past=False)
        if registrant.occurrence_ids is not None:
            occurrences = [o for o in occurrences if o["occurrence_id"] in registrant.occurrence_ids]
        body_out: dict[str, Any] = {
            "id": webinar.id, "registrant_id": registrant.id, "topic": webinar.topic,
            "start_time": time_format(webinar.start), "join_url": registrant.join_url,
        }
        if webinar.type == 9:
            body_out["occurrences"] = occurrences
    return JsonResponse(body_out, status=201)


def _answers_invalid(webinar: Webinar, body: dict[str, Any]) -> list[dict[str, str]]:
    """Zoom's `errors[]{field, message}` for the answers of one registration: required
    questions unanswered, choices not among the options, custom answers over 128 characters."""
    errors: list[dict[str, str]] = []
    required = {q["field_name"] for q in webinar.questions if q["required"]}
    for name in QUESTION_FIELDS:
        value = body.get(name)
        if value is None:
            bad = name in required
        elif not isinstance(value, str):
            bad = True
        else:
            bad = (name in required and not value.strip()) or bool(
                value and name in STANDARD_CHOICES and value not in STANDARD_CHOICES[name])
        if bad:
            errors.append({"field": name, "message": "Invalid field."})
    raw = body.get("custom_questions")
    if raw is not None and not isinstance(raw, list):
        return [*errors, {"field": "custom_questions", "message": "Invalid field."}]
    given: dict[str, str] = {}
    for item in raw or []:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str) \
                or not isinstance(item.get("value", ""), str):
            errors.append({"field": "custom_questions", "message": "Invalid field."})
            continue
        given[item["title"]] = item.get("value", "")
    for question in webinar.custom_questions:
        value = given.get(question["title"], "")
        if len(value) > 128:
            errors.append({"field": question["title"], "message": "Invalid field."})
        elif not value.strip():
            if question["required"]:
                errors.append({"field": question["title"], "message": "Invalid field."})
        elif question["type"] in CHOICE_TYPES:
            options = question.get("answers", [])
            parts = [value] if value in options or question["type"] != "multiple" \
                else [p.strip() for p in value.split(",")]
            if any(p not in options for p in parts):
                errors.append({"field": question["title"], "message": "Invalid field."})
    return errors


@zoom_view()
def registrant_questions(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        webinar = _webinar(world.zoom, account, webinarId)
        if not webinar.registration_enabled:
            raise ZoomError(400, 3000,
                            f"Registration has not been enabled for this webinar: {webinar.id}.")
        return JsonResponse({"questions": [dict(q) for q in webinar.questions],
                             "custom_questions": [dict(q) for q in webinar.custom_questions]})


# --- past webinars and reports ----------------------------------------------------------------

@zoom_view()
def past_instances(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        webinar = _webinar(world.zoom, account, webinarId)
        rows = sorted(webinar.instances, key=lambda i: i.start)
        return JsonResponse({"webinars": [{"uuid": i.uuid, "start_time": time_format(i.start)}
                                          for i in rows]})


_PAST_FIELDS = ("id", "name", "user_id", "registrant_id", "user_email", "join_time",
                "leave_time", "duration", "failover", "status", "internal_user")
_REPORT_FIELDS = ("id", "participant_user_id", "user_id", "name", "user_email", "join_time",
                  "leave_time", "duration", "failover", "status", "customer_key")


def _participants_page(request: HttpRequest, webinar_id: str, *, prefix: str,
                       scope: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of an instance's participant rows (the raw rows) and its paging fields."""
    value = _uuid_param(request, prefix=prefix, suffix="/participants", decoded=webinar_id,
                        noun="Webinar")
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        _, instance = _instance_for(world.zoom, account, value)
        return _paged(world.zoom, request, instance.participants,
                      scope=(scope, instance.uuid), maximum=300)


@zoom_view()
def past_participants(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    chunk, meta = _participants_page(request, webinarId, prefix="/zoom/v2/past_webinars/",
                                     scope="past_participants")
    rows = [{k: p[k] for k in _PAST_FIELDS} for p in chunk]
    for row in rows:
        if not row["registrant_id"]:
            del row["registrant_id"]
    return JsonResponse({**meta, "participants": rows})


@zoom_view()
def report_participants(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    chunk, meta = _participants_page(request, webinarId, prefix="/zoom/v2/report/webinars/",
                                     scope="report_participants")
    with_registrant = request.GET.get("include_fields", "") == "registrant_id"
    rows = []
    for p in chunk:
        row = {k: p[k] for k in _REPORT_FIELDS}
        if with_registrant:
            # registrant_id only "if you pass registrant_id for include_fields".
            row["registrant_id"] = p["registrant_id"]
        rows.append(row)
    return JsonResponse({**meta, "participants": rows})


@zoom_view()
def report_webinar(request: HttpRequest, webinarId: str) -> JsonResponse:  # noqa: N803
    value = _uuid_param(request, prefix="/zoom/v2/report/webinars/", suffix="",
                        decoded=webinarId, noun="Webinar")
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        webinar, instance = _instance_for(world.zoom, account, value)
        host = account.user_find(webinar.host_id)
        seconds = sum(int(p["duration"]) for p in instance.participants)
        return JsonResponse({
            "uuid": instance.uuid, "id": webinar.id, "type": webinar.type, "topic": webinar.topic,
            "user_name": f"{host.first_name} {host.last_name}".strip() if host else "",
            "user_email": host.email if host else "", "dept": host.dept if host else "",
            "start_time": time_format(instance.start), "end_time": time_format(instance.end),
            "duration": int((instance.end - instance.start).total_seconds() // 60),
            "total_minutes": seconds // 60,
            "participants_count": len(instance.participants),
            "tracking_fields": [], "custom_keys": [],
        })


@zoom_view()
def recordings_get(request: HttpRequest, meetingId: str) -> JsonResponse:  # noqa: N803
    value = _uuid_param(request, prefix="/zoom/v2/meetings/", suffix="/recordings",
                        decoded=meetingId, noun="Meeting")
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        try:
            webinar, instance = _instance_for(world.zoom, account, value, noun="Meeting")
        except ZoomError as exc:
            raise ZoomError(404, 3301, "There is no recording for this meeting.") from exc
        recording = webinar.recordings.get(instance.uuid)
        if recording is None:
            raise ZoomError(404, 3301, "There is no recording for this meeting.")
        body: dict[str, Any] = {
            "uuid": instance.uuid, "id": webinar.id, "account_id": account.account_id,
            "host_id": webinar.host_id, "topic": webinar.topic, "type": str(webinar.type),
            "start_time": time_format(instance.start),
            "duration": int((instance.end - instance.start).total_seconds() // 60),
            "total_size": recording.total_size, "recording_count": len(recording.files),
            # Not in the current schema, but in Zoom's examples and the recording.completed
            # webhook (research/zoom-api.md §6).
            "share_url": recording.share_url,
            "password": recording.password, "recording_play_passcode": recording.password,
            "recording_files": [dict(f) for f in recording.files],
        }
        if "download_access_token" in request.GET.get("include_fields", ""):
            body["download_access_token"] = world.zoom.token_issue(
                account.account_id, kind="access", lifetime_s=int(request.GET.get("ttl") or 86400))
        return JsonResponse(body)


# --- Zoom Events (R2) -------------------------------------------------------------------------

_EVENT_STATUS = {"upcoming": "PUBLISHED", "past": "PUBLISHED", "draft": "DRAFT",
                 "cancelled": "CANCELLED"}


@zoom_view()
def events_list(request: HttpRequest) -> JsonResponse:
    wanted = request.GET.get("event_status_type", "upcoming")
    if wanted not in _EVENT_STATUS:
        raise ZoomError(400, 300, "Invalid request.")
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        rows = [e for e in account.events if e.status == wanted]
        page_size = _page_size(request, maximum=300)
        result = world.zoom.page(rows, scope=("events", account.account_id, wanted),
                                 page_size=page_size,
                                 next_page_token=request.GET.get("next_page_token", ""))
        if result is None:
            raise ZoomError(400, 300, "The next page token is invalid or expired.")
        chunk, token = result
        events = [{
            "event_id": e.event_id, "name": e.name, "description": e.description,
            "timezone": e.timezone, "event_type": e.event_type, "access_level": "PRIVATE_RESTRICTED",
            "meeting_type": "WEBINAR", "categories": [], "tags": [],
            "calendar": [{"start_time": e.start_time, "end_time": e.end_time}],
            "status": _EVENT_STATUS[e.status], "hub_id": e.hub_id, "start_time": e.start_time,
            "end_time": e.end_time, "event_url": f"https://events.zoom.us/ev/{e.event_id}",
            "attendance_type": "virtual",
        } for e in chunk]
        return JsonResponse({"total_records": len(rows), "next_page_token": token,
                             "events": events})


@zoom_view()
def event_sessions(request: HttpRequest, eventId: str) -> JsonResponse:  # noqa: N803
    world = sandbox_state()
    with world.lock:
        account = _account(request, world.zoom)
        event = next((e for e in account.events if e.event_id == eventId), None)
        if event is None:
            raise ZoomError(404, 2002, "Event not found.")
        sessions = []
        for wid in event.webinar_ids:
            webinar = account.webinars.get(wid)
            start = webinar.start if webinar else now_utc()
            duration = webinar.duration if webinar else 60
            sessions.append({
                "session_id": id_derive("session", event.event_id, wid),
                "name": webinar.topic if webinar else f"Session {wid}", "description": "",
                "type": 2,  # webinar session: webinar_id is set (R2)
                "webinar_id": wid, "timezone": event.timezone,
                "start_time": time_format(start),
                "end_time": time_format(start + timedelta(minutes=duration)),
                "featured": False, "visible_in_landing_page": True, "featured_in_lobby": False,
                "visible_in_lobby": True, "is_simulive": False, "chat_channel": True,
                "led_by_sponsor": False, "attendance_type": "virtual",
            })
        return JsonResponse({"total_records": len(sessions), "sessions": sessions})
