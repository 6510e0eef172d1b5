"""The fake Zoom's world: accounts, users, webinars, registrants, past instances, recordings.

Built from the `zoom` part of a scenario (INTERFACES.md §3). Omitted fields get realistic,
deterministic defaults (ids derived from content, so the same scenario gives the same ids).
Lists that the API pages through keep indexes so one page costs O(page), not O(n).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.scenario import ScenarioError, keys_check, list_check

REGISTRANT_STATUSES = ("approved", "pending", "denied", "cancelled")

ACCOUNT_KEYS = ("account_id", "business_unit_id", "users", "zoom_events", "webinars",
                "client_id", "client_secret", "connected_user_id", "account_number")
USER_KEYS = ("id", "email", "first_name", "last_name", "type", "status", "timezone", "dept",
             "created_at", "role_id", "pmi", "display_name", "language")
EVENT_KEYS = ("event_id", "webinar_ids", "name", "description", "status", "hub_id",
              "event_type", "start_time", "end_time", "timezone")
WEBINAR_KEYS = ("id", "host_id", "topic", "type", "start_time", "duration", "timezone",
                "join_url", "approval_type", "questions", "custom_questions", "occurrences",
                "registrants", "instances", "recordings", "uuid", "agenda", "created_at",
                "registration_type", "alternative_hosts", "registration_url", "password",
                "expired", "is_simulive")
QUESTION_KEYS = ("field_name", "required")
CUSTOM_QUESTION_KEYS = ("title", "type", "required", "answers")
OCCURRENCE_KEYS = ("occurrence_id", "start_time", "duration", "status")
REGISTRANT_KEYS = ("id", "email", "first_name", "last_name", "status", "create_time",
                   "join_url", "occurrence_ids", "custom_questions", "address", "city",
                   "state", "zip", "country", "phone", "industry", "org", "job_title",
                   "purchasing_time_frame", "role_in_purchase_process", "no_of_employees",
                   "comments", "language")
INSTANCE_KEYS = ("uuid", "start_time", "end_time", "participants", "occurrence_id")
PARTICIPANT_KEYS = ("id", "user_id", "name", "user_email", "registrant_id", "join_time",
                    "leave_time", "duration", "status", "failover", "internal_user",
                    "participant_user_id", "customer_key")
RECORDING_KEYS = ("instance_uuid", "share_url", "files", "id", "password",
                  "recording_play_passcode", "total_size")
FILE_KEYS = ("file_type", "id", "file_extension", "file_size", "recording_start",
             "recording_end", "recording_type", "download_url", "play_url", "status")
QUESTION_FIELDS = ("last_name", "address", "city", "country", "zip", "state", "phone",
                   "industry", "org", "job_title", "purchasing_time_frame",
                   "role_in_purchase_process", "no_of_employees", "comments")
# Standard questions whose answer is one of a list (the spec's enums of POST registrants;
# "" = not answered).
STANDARD_CHOICES: dict[str, tuple[str, ...]] = {
    "no_of_employees": ("1-20", "21-50", "51-100", "101-500", "500-1,000", "1,001-5,000",
                        "5,001-10,000", "More than 10,000"),
    "purchasing_time_frame": ("Within a month", "1-3 months", "4-6 months",
                              "More than 6 months", "No timeframe"),
    "role_in_purchase_process": ("Decision Maker", "Evaluator/Recommender", "Influencer",
                                 "Not involved"),
}
CHOICE_TYPES = ("single_radio", "single_dropdown", "multiple")

_FILE_DEFAULTS = {
    "MP4": ("MP4", "shared_screen_with_speaker_view"),
    "M4A": ("M4A", "audio_only"),
    "TRANSCRIPT": ("VTT", "audio_transcript"),
    "CC": ("VTT", "closed_caption"),
    "CHAT": ("TXT", "chat_file"),
    "CSV": ("CSV", "poll"),
    "TIMELINE": ("JSON", "timeline"),
    "SUMMARY": ("JSON", "summary"),
}


# --- small helpers ------------------------------------------------------------------------

def time_parse(value: Any, *, path: str) -> datetime:
    if not isinstance(value, str):
        raise ScenarioError(f"{path}: expected an ISO-8601 time string", path=path)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScenarioError(f"{path}: not an ISO-8601 time: {value!r}", path=path) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def time_canonical(value: Any, *, path: str) -> str:
    """An ISO-8601 UTC time as Zoom writes it ("2026-10-01T15:00:00Z"); fast for that form."""
    if isinstance(value, str) and _CANONICAL_TIME.fullmatch(value):
        return value
    return time_format(time_parse(value, path=path))


def time_format(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> datetime:
    return datetime.now(UTC)


def id_derive(*parts: Any, length: int = 22) -> str:
    """A Zoom-looking opaque id (base64url), deterministic in `parts`."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:length]


def uuid_derive(*parts: Any) -> str:
    """A Zoom instance UUID: standard base64 of 16 bytes, so it may contain "/" like real ones."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()[:16]
    return base64.b64encode(digest).decode()


def _int(value: Any, *, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise ScenarioError(f"{path}: expected an integer, got {value!r}", path=path)
    return value


def _str(value: Any, *, path: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{path}: expected a string, got {value!r}", path=path)
    return value


def _bool(value: Any, *, path: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{path}: expected true or false, got {value!r}", path=path)
    return value


def _name_from_email(email: str) -> tuple[str, str]:
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    first = parts[0].capitalize() if parts else "Guest"
    last = parts[1].capitalize() if len(parts) > 1 else ""
    return first, last


# --- the model ------------------------------------------------------------------------------

@dataclass(slots=True)
class ZoomUser:
    id: str
    email: str
    first_name: str
    last_name: str
    type: int
    status: str
    timezone: str
    dept: str
    created_at: str
    role_id: str
    pmi: int
    display_name: str
    language: str
    account_id: str

    def api_list_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id, "first_name": self.first_name, "last_name": self.last_name,
            "display_name": self.display_name, "email": self.email, "type": self.type,
            "pmi": self.pmi, "timezone": self.timezone, "verified": 1, "dept": self.dept,
            "created_at": self.created_at, "user_created_at": self.created_at,
            "last_login_time": self.created_at, "last_client_version": "6.2.0.46690(mac)",
            "language": self.language, "status": self.status, "role_id": self.role_id,
        }
        if self.status == "pending":
            # "The API does not return this value for users with the pending status."
            del item["id"]
        return item

    def api_detail(self, account_number: int) -> dict[str, Any]:
        item = self.api_list_item()
        item.update({
            "id": self.id, "role_name": "Admin" if self.role_id == "1" else "Member",
            "use_pmi": False, "account_id": self.account_id, "account_number": account_number,
            "personal_meeting_url": f"https://zoom.us/j/{self.pmi}", "pic_url": "",
            "company": "", "job_title": "", "login_types": [100], "phone_numbers": [],
            "group_ids": [], "im_group_ids": [], "cluster": "us06",
        })
        return item


@dataclass(slots=True)
class Registrant:
    id: str
    email: str
    first_name: str
    last_name: str
    status: str
    create_time: str
    join_url: str
    occurrence_ids: list[str] | None  # None: registered for every occurrence
    extra: dict[str, Any]

    def api(self) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.id, "email": self.email,
                                "first_name": self.first_name, "last_name": self.last_name}
        item.update(self.extra)
        item.setdefault("custom_questions", [])
        item.update({"status": self.status, "create_time": self.create_time,
                     "join_url": self.join_url})
        return item


@dataclass(slots=True)
class Instance:
    uuid: str
    start: datetime
    end: datetime
    occurrence_id: str | None
    participants: list[dict[str, Any]]


@dataclass(slots=True)
class Recording:
    instance_uuid: str
    id: str
    share_url: str
    password: str
    files: list[dict[str, Any]]
    total_size: int


@dataclass
class Webinar:
    id: int
    uuid: str
    host_id: str
    topic: str
    type: int
    start: datetime
    duration: int
    timezone: str
    join_url: str
    approval_type: int
    registration_type: int
    alternative_hosts: list[str]
    questions: list[dict[str, Any]]
    custom_questions: list[dict[str, Any]]
    occurrences: list[dict[str, Any]]
    agenda: str
    created_at: str
    registration_url: str
    password: str
    expired: bool
    is_simulive: bool
    account_id: str
    registrants: list[Registrant] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    recordings: dict[str, Recording] = field(default_factory=dict)  # by instance uuid
    by_email: dict[str, Registrant] = field(default_factory=dict)
    by_id: dict[str, Registrant] = field(default_factory=dict)
    version: int = 0
    _filtered: dict[tuple[str, str | None], tuple[int, list[Registrant]]] = field(
        default_factory=dict
    )

    @property
    def registration_enabled(self) -> bool:
        return self.approval_type in (0, 1)

    def registrants_filtered(self, status: str, occurrence_id: str | None) -> list[Registrant]:
        """Registrants with a status (and occurrence), cached until the next mutation."""
        key = (status, occurrence_id)
        cached = self._filtered.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        rows = [
            r for r in self.registrants
            if r.status == status
            and (occurrence_id is None or r.occurrence_ids is None
                 or occurrence_id in r.occurrence_ids)
        ]
        self._filtered[key] = (self.version, rows)
        return rows

    def registrant_add(self, registrant: Registrant) -> None:
        self.registrants.append(registrant)
        self.by_id[registrant.id] = registrant
        self.by_email.setdefault(registrant.email.strip().lower(), registrant)
        self.version += 1

    def instance_latest(self) -> Instance | None:
        return max(self.instances, key=lambda i: i.start) if self.instances else None

    def end(self) -> datetime:
        last = self.start
        for occ in self.occurrences:
            last = max(last, time_parse(occ["start_time"], path="occurrence"))
        return last + timedelta(minutes=self.duration)


@dataclass
class ZoomEvent:
    event_id: str
    name: str
    description: str
    status: str
    hub_id: str
    event_type: str
    start_time: str
    end_time: str
    timezone: str
    webinar_ids: list[int]


@dataclass
class ZoomAccount:
    account_id: str
    account_number: int
    business_unit_id: str | None
    client_id: str | None
    client_secret: str | None
    connected_user_id: str | None
    users: list[ZoomUser]
    webinars: dict[int, Webinar]
    events: list[ZoomEvent]

    def user_find(self, user_id: str) -> ZoomUser | None:
        if user_id == "me":
            user_id = self.connected_user_id or (self.users[0].id if self.users else "")
        for user in self.users:
            if user.id == user_id or user.email.lower() == user_id.lower():
                return user
        return None


@dataclass(slots=True)
class Token:
    account_id: str
    expires_at: float
    kind: str  # "access" | "refresh" | "code"
    redirect_uri: str | None = None


class ZoomState:
    def __init__(self, accounts: list[ZoomAccount]) -> None:
        self.accounts: dict[str, ZoomAccount] = {a.account_id: a for a in accounts}
        self.webinars: dict[int, Webinar] = {}
        self.instances: dict[str, tuple[Webinar, Instance]] = {}
        for account in accounts:
            for webinar in account.webinars.values():
                self.webinars[webinar.id] = webinar
                for inst in webinar.instances:
                    self.instances[inst.uuid] = (webinar, inst)
        self.tokens: dict[str, Token] = {}
        # next_page_token -> (scope, offset, issued_at); tokens expire after 15 minutes.
        self.page_tokens: dict[str, tuple[tuple[Any, ...], int, float]] = {}
        # (webinar id, email, UTC date) -> add-registrant calls that day.
        self.registration_calls: dict[tuple[int, str, str], int] = {}

    # --- tokens -------------------------------------------------------------------------------

    def token_issue(self, account_id: str, *, kind: str, lifetime_s: float,
                    redirect_uri: str | None = None) -> str:
        prefix = {"access": "zsbx_at_", "refresh": "zsbx_rt_", "code": "zsbx_code_"}[kind]
        token = prefix + secrets.token_urlsafe(32)
        self.tokens[token] = Token(account_id, time.time() + lifetime_s, kind, redirect_uri)
        return token

    def token_lookup(self, token: str, *, kind: str) -> Token | None:
        found = self.tokens.get(token)
        if found is None or found.kind != kind or found.account_id not in self.accounts:
            return None
        return found

    def token_revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def tokens_revoke_account(self, account_id: str) -> int:
        """Every token of one account revoked (the app was deauthorized)."""
        gone = [t for t, info in self.tokens.items() if info.account_id == account_id]
        for token in gone:
            del self.tokens[token]
        return len(gone)

    def adopt_tokens(self, old: ZoomState) -> None:
        for token, info in old.tokens.items():
            if info.account_id in self.accounts:
                self.tokens[token] = info

    # --- pagination ---------------------------------------------------------------------------

    def page(self, rows: list[Any], *, scope: tuple[Any, ...], page_size: int,
             next_page_token: str) -> tuple[list[Any], str] | None:
        """One page of `rows` and the token of the next ("" on the last page).

        None when the token is unknown, expired (15 minutes) or from another listing.
        """
        offset = 0
        if next_page_token:
            found = self.page_tokens.get(next_page_token)
            if found is None or found[0] != scope or time.time() - found[2] > 15 * 60:
                return None
            offset = found[1]
        chunk = rows[offset: offset + page_size]
        end = offset + len(chunk)
        token = ""
        if end < len(rows):
            if len(self.page_tokens) > 50_000:
                cutoff = time.time() - 15 * 60
                self.page_tokens = {k: v for k, v in self.page_tokens.items() if v[2] > cutoff}
            token = secrets.token_urlsafe(24)
            self.page_tokens[token] = (scope, end, time.time())
        return chunk, token

    # --- lookups ------------------------------------------------------------------------------

    def webinar_in_account(self, account_id: str, webinar_id: int) -> Webinar | None:
        webinar = self.webinars.get(webinar_id)
        if webinar is None or webinar.account_id != account_id:
            return None
        return webinar

    def snapshot(self) -> dict[str, Any]:
        accounts = []
        for account in self.accounts.values():
            webinars = []
            for w in account.webinars.values():
                webinars.append({
                    "id": w.id, "topic": w.topic, "host_id": w.host_id,
                    "registrants": [
                        {"id": r.id, "email": r.email, "first_name": r.first_name,
                         "last_name": r.last_name, "status": r.status,
                         "create_time": r.create_time, "join_url": r.join_url,
                         "answers": {k: v for k, v in r.extra.items() if k in QUESTION_FIELDS},
                         "custom_questions": list(r.extra.get("custom_questions", []))}
                        for r in w.registrants
                    ],
                })
            accounts.append({"account_id": account.account_id,
                             "business_unit_id": account.business_unit_id,
                             "webinars": webinars})
        return {"accounts": accounts}

    # --- scenario -----------------------------------------------------------------------------

    @classmethod
    def from_scenario(cls, data: dict[str, Any], *, path: str = "zoom") -> ZoomState:
        keys_check(data, allowed=("accounts",), path=path)
        accounts = []
        seen_webinars: set[int] = set()
        seen_accounts: set[str] = set()
        for ai, acc in enumerate(list_check(data.get("accounts", []), path=f"{path}.accounts")):
            account = _account_build(acc, path=f"{path}.accounts[{ai}]", index=ai)
            if account.account_id in seen_accounts:
                raise ScenarioError(f"{path}.accounts[{ai}].account_id: duplicate "
                                    f"{account.account_id!r}", path=f"{path}.accounts[{ai}]")
            seen_accounts.add(account.account_id)
            for wid in account.webinars:
                if wid in seen_webinars:
                    raise ScenarioError(f"{path}.accounts[{ai}]: webinar id {wid} appears twice",
                                        path=f"{path}.accounts[{ai}].webinars")
                seen_webinars.add(wid)
            accounts.append(account)
        return cls(accounts)


def _account_build(acc: dict[str, Any], *, path: str, index: int) -> ZoomAccount:
    keys_check(acc, allowed=ACCOUNT_KEYS, path=path)
    account_id = _str(acc.get("account_id", f"zacc_{index + 1}"), path=f"{path}.account_id")
    users_raw = list_check(acc.get("users", []), path=f"{path}.users")
    if not users_raw:
        users_raw = [{"id": f"zu_{account_id}", "email": f"owner@{account_id}.example.com"}]
    users = [_user_build(u, path=f"{path}.users[{i}]", account_id=account_id, index=i)
             for i, u in enumerate(users_raw)]
    user_ids = {u.id for u in users}
    connected = acc.get("connected_user_id")
    if connected is not None and connected not in user_ids:
        raise ScenarioError(f"{path}.connected_user_id: no user {connected!r}",
                            path=f"{path}.connected_user_id")
    bu = acc.get("business_unit_id")
    account = ZoomAccount(
        account_id=account_id,
        account_number=_int(acc.get("account_number", 10_000_000 + index), path=f"{path}.account_number"),
        business_unit_id=None if bu is None else str(bu),
        client_id=acc.get("client_id"),
        client_secret=acc.get("client_secret"),
        connected_user_id=connected or users[0].id,
        users=users,
        webinars={},
        events=[],
    )
    for wi, raw in enumerate(list_check(acc.get("webinars", []), path=f"{path}.webinars")):
        webinar = _webinar_build(raw, path=f"{path}.webinars[{wi}]", account=account, index=wi)
        if webinar.id in account.webinars:
            raise ScenarioError(f"{path}.webinars[{wi}].id: duplicate {webinar.id}",
                                path=f"{path}.webinars[{wi}].id")
        account.webinars[webinar.id] = webinar
    for ei, raw in enumerate(list_check(acc.get("zoom_events", []), path=f"{path}.zoom_events")):
        account.events.append(_event_build(raw, path=f"{path}.zoom_events[{ei}]", account=account,
                                           index=ei))
    return account


def _user_build(raw: dict[str, Any], *, path: str, account_id: str, index: int) -> ZoomUser:
    keys_check(raw, allowed=USER_KEYS, path=path, required=("email",))
    email = _str(raw["email"], path=f"{path}.email")
    first, last = _name_from_email(email)
    first = raw.get("first_name", first)
    last = raw.get("last_name", last)
    status = raw.get("status", "active")
    if status not in ("active", "inactive", "pending"):
        raise ScenarioError(f"{path}.status: one of active, inactive, pending", path=f"{path}.status")
    user_type = _int(raw.get("type", 2), path=f"{path}.type")
    if user_type not in (1, 2, 4, 99):
        raise ScenarioError(f"{path}.type: one of 1, 2, 4, 99", path=f"{path}.type")
    return ZoomUser(
        id=_str(raw.get("id", id_derive("user", account_id, email)), path=f"{path}.id"),
        email=email, first_name=first, last_name=last, type=user_type, status=status,
        timezone=raw.get("timezone", "UTC"), dept=raw.get("dept", ""),
        created_at=raw.get("created_at", "2024-01-10T09:00:00Z"),
        role_id=str(raw.get("role_id", "1" if index == 0 else "2")),
        pmi=_int(raw.get("pmi", 5_550_000_000 + index), path=f"{path}.pmi"),
        display_name=raw.get("display_name", f"{first} {last}".strip()),
        language=raw.get("language", "en-US"), account_id=account_id,
    )


def _event_build(raw: dict[str, Any], *, path: str, account: ZoomAccount, index: int) -> ZoomEvent:
    keys_check(raw, allowed=EVENT_KEYS, path=path)
    webinar_ids = [_int(w, path=f"{path}.webinar_ids[{i}]")
                   for i, w in enumerate(list_check(raw.get("webinar_ids", []),
                                                    path=f"{path}.webinar_ids"))]
    starts = [account.webinars[w].start for w in webinar_ids if w in account.webinars]
    start = min(starts) if starts else datetime(2026, 6, 1, 15, tzinfo=UTC)
    end = max(starts) + timedelta(hours=2) if starts else start + timedelta(hours=2)
    status = raw.get("status", "past" if end < now_utc() else "upcoming")
    return ZoomEvent(
        event_id=_str(raw.get("event_id", f"ze_{account.account_id}_{index + 1}"), path=f"{path}.event_id"),
        name=raw.get("name", f"Zoom Event {index + 1}"),
        description=raw.get("description", ""),
        status=status, hub_id=str(raw.get("hub_id", id_derive("hub", account.account_id))),
        event_type=raw.get("event_type", "CONFERENCE"),
        start_time=raw.get("start_time", time_format(start)),
        end_time=raw.get("end_time", time_format(end)),
        timezone=raw.get("timezone", "UTC"),
        webinar_ids=webinar_ids,
    )


def _webinar_build(raw: dict[str, Any], *, path: str, account: ZoomAccount, index: int) -> Webinar:
    keys_check(raw, allowed=WEBINAR_KEYS, path=path)
    wid = _int(raw.get("id", 81_000_000_001 + index), path=f"{path}.id")
    host_id = _str(raw.get("host_id", account.users[0].id), path=f"{path}.host_id")
    if account.user_find(host_id) is None:
        raise ScenarioError(f"{path}.host_id: no user {host_id!r} in account "
                            f"{account.account_id!r}", path=f"{path}.host_id")
    wtype = _int(raw.get("type", 5), path=f"{path}.type")
    if wtype not in (5, 6, 9):
        raise ScenarioError(f"{path}.type: one of 5, 6, 9", path=f"{path}.type")
    occ_raw = list_check(raw.get("occurrences", []), path=f"{path}.occurrences")
    inst_raw = list_check(raw.get("instances", []), path=f"{path}.instances")
    if "start_time" in raw:
        start = time_parse(raw["start_time"], path=f"{path}.start_time")
    elif occ_raw and isinstance(occ_raw[0], dict) and "start_time" in occ_raw[0]:
        start = time_parse(occ_raw[0]["start_time"], path=f"{path}.occurrences[0].start_time")
    elif inst_raw and isinstance(inst_raw[0], dict) and "start_time" in inst_raw[0]:
        start = time_parse(inst_raw[0]["start_time"], path=f"{path}.instances[0].start_time")
    else:
        start = datetime(2026, 10, 1, 15, tzinfo=UTC) + timedelta(days=7 * index)
    duration = _int(raw.get("duration", 60), path=f"{path}.duration")
    approval_type = _int(raw.get("approval_type", 0), path=f"{path}.approval_type")
    if approval_type not in (0, 1, 2):
        raise ScenarioError(f"{path}.approval_type: one of 0, 1, 2", path=f"{path}.approval_type")
    alt = raw.get("alternative_hosts", [])
    if isinstance(alt, str):
        alt = [a.strip() for a in alt.replace(";", ",").split(",") if a.strip()]
    alt = [_str(a, path=f"{path}.alternative_hosts") for a in list_check(alt, path=f"{path}.alternative_hosts")]

    questions = []
    for qi, q in enumerate(list_check(raw.get("questions", []), path=f"{path}.questions")):
        keys_check(q, allowed=QUESTION_KEYS, path=f"{path}.questions[{qi}]", required=("field_name",))
        if q["field_name"] not in QUESTION_FIELDS:
            raise ScenarioError(f"{path}.questions[{qi}].field_name: one of {', '.join(QUESTION_FIELDS)}",
                                path=f"{path}.questions[{qi}].field_name")
        questions.append({"field_name": q["field_name"],
                          "required": _bool(q.get("required", False), path=f"{path}.questions[{qi}].required")})
    custom = []
    for qi, q in enumerate(list_check(raw.get("custom_questions", []), path=f"{path}.custom_questions")):
        qpath = f"{path}.custom_questions[{qi}]"
        keys_check(q, allowed=CUSTOM_QUESTION_KEYS, path=qpath, required=("title",))
        qtype = q.get("type", "short")
        if qtype not in ("short", "single_radio", "single_dropdown", "multiple"):
            raise ScenarioError(f"{qpath}.type: one of short, single_radio, single_dropdown, multiple",
                                path=f"{qpath}.type")
        item = {"title": _str(q["title"], path=f"{qpath}.title"), "type": qtype,
                "required": _bool(q.get("required", False), path=f"{qpath}.required")}
        if qtype != "short":
            item["answers"] = [_str(a, path=f"{qpath}.answers")
                               for a in list_check(q.get("answers", []), path=f"{qpath}.answers")]
        custom.append(item)

    occurrences = []
    for oi, o in enumerate(occ_raw):
        opath = f"{path}.occurrences[{oi}]"
        keys_check(o, allowed=OCCURRENCE_KEYS, path=opath)
        ostart = time_parse(o["start_time"], path=f"{opath}.start_time") if "start_time" in o \
            else start + timedelta(days=7 * oi)
        occurrences.append({
            "occurrence_id": str(o.get("occurrence_id", int(ostart.timestamp() * 1000))),
            "start_time": time_format(ostart),
            "duration": _int(o.get("duration", duration), path=f"{opath}.duration"),
            "status": o.get("status", "available"),
        })
    occurrence_ids = {o["occurrence_id"] for o in occurrences}

    webinar = Webinar(
        id=wid,
        uuid=_str(raw.get("uuid", uuid_derive("webinar", wid)), path=f"{path}.uuid"),
        host_id=account.user_find(host_id).id,  # type: ignore[union-attr]
        topic=_str(raw.get("topic", f"Webinar {wid}"), path=f"{path}.topic"),
        type=wtype, start=start, duration=duration,
        timezone=raw.get("timezone", "UTC"),
        join_url=_str(raw.get("join_url", f"https://zoom.us/j/{wid}"), path=f"{path}.join_url"),
        approval_type=approval_type,
        registration_type=_int(raw.get("registration_type", 1), path=f"{path}.registration_type"),
        alternative_hosts=alt, questions=questions, custom_questions=custom,
        occurrences=occurrences, agenda=raw.get("agenda", ""),
        created_at=raw.get("created_at", time_format(start - timedelta(days=21))),
        registration_url=raw.get("registration_url",
                                 f"https://zoom.us/webinar/register/WN_{id_derive('reg', wid)}"),
        password=raw.get("password", ""),
        expired=_bool(raw.get("expired", False), path=f"{path}.expired"),
        is_simulive=_bool(raw.get("is_simulive", False), path=f"{path}.is_simulive"),
        account_id=account.account_id,
    )

    for ri, r in enumerate(list_check(raw.get("registrants", []), path=f"{path}.registrants")):
        rpath = f"{path}.registrants[{ri}]"
        keys_check(r, allowed=REGISTRANT_KEYS, path=rpath, required=("email",))
        email = _str(r["email"], path=f"{rpath}.email")
        status = r.get("status", "approved")
        if status not in REGISTRANT_STATUSES:
            raise ScenarioError(f"{rpath}.status: one of {', '.join(REGISTRANT_STATUSES)}",
                                path=f"{rpath}.status")
        rid = _str(r.get("id", id_derive("registrant", wid, email.strip().lower(), ri)), path=f"{rpath}.id")
        if rid in webinar.by_id:
            raise ScenarioError(f"{rpath}.id: duplicate registrant id {rid!r}", path=f"{rpath}.id")
        if "first_name" in r and "last_name" in r:
            first, last = r["first_name"], r["last_name"]
        else:
            first, last = _name_from_email(email)
            first, last = r.get("first_name", first), r.get("last_name", last)
        occ_ids = r.get("occurrence_ids")
        if occ_ids is not None:
            occ_ids = [str(o) for o in list_check(occ_ids, path=f"{rpath}.occurrence_ids")]
            unknown = [o for o in occ_ids if o not in occurrence_ids]
            if unknown:
                raise ScenarioError(f"{rpath}.occurrence_ids: unknown occurrence {unknown[0]!r}",
                                    path=f"{rpath}.occurrence_ids")
        if "create_time" in r:
            create_time = time_canonical(r["create_time"], path=f"{rpath}.create_time")
        else:
            create_time = time_format(start - timedelta(days=7, minutes=-ri))
        extra = {k: v for k, v in r.items() if k not in (
            "id", "email", "first_name", "last_name", "status", "create_time", "join_url",
            "occurrence_ids")}
        for key in QUESTION_FIELDS:
            if key in extra:
                _str(extra[key], path=f"{rpath}.{key}")
        if "custom_questions" in extra:
            answers = []
            for ai, a in enumerate(list_check(extra["custom_questions"], path=f"{rpath}.custom_questions")):
                apath = f"{rpath}.custom_questions[{ai}]"
                keys_check(a, allowed=("title", "value"), path=apath, required=("title", "value"))
                answers.append({"title": _str(a["title"], path=f"{apath}.title"),
                                "value": _str(a["value"], path=f"{apath}.value")})
            extra["custom_questions"] = answers
        webinar.registrant_add(Registrant(
            id=rid, email=email, first_name=first, last_name=last, status=status,
            create_time=create_time,
            join_url=r.get("join_url", f"https://zoom.us/w/{wid}?tk={rid}"),
            occurrence_ids=occ_ids, extra=extra,
        ))

    account_emails = {u.email.lower() for u in account.users}
    uuids: set[str] = set()
    for ii, inst in enumerate(inst_raw):
        ipath = f"{path}.instances[{ii}]"
        keys_check(inst, allowed=INSTANCE_KEYS, path=ipath)
        if "start_time" in inst:
            istart = time_parse(inst["start_time"], path=f"{ipath}.start_time")
        elif ii < len(occurrences):
            istart = time_parse(occurrences[ii]["start_time"], path=ipath)
        else:
            istart = start + timedelta(days=7 * ii)
        iend = time_parse(inst["end_time"], path=f"{ipath}.end_time") if "end_time" in inst \
            else istart + timedelta(minutes=duration)
        uuid = _str(inst.get("uuid", uuid_derive("instance", wid, ii, time_format(istart))),
                    path=f"{ipath}.uuid")
        if uuid in uuids:
            raise ScenarioError(f"{ipath}.uuid: duplicate {uuid!r}", path=f"{ipath}.uuid")
        uuids.add(uuid)
        occ_id = inst.get("occurrence_id")
        if occ_id is None and occurrences:
            # Attendance rows carry no occurrence; match the instance by its start time.
            for occ in occurrences:
                if occ["start_time"] == time_format(istart):
                    occ_id = occ["occurrence_id"]
        instance = Instance(uuid=uuid, start=istart, end=iend,
                            occurrence_id=None if occ_id is None else str(occ_id), participants=[])
        for pi, p in enumerate(list_check(inst.get("participants", []), path=f"{ipath}.participants")):
            instance.participants.append(
                _participant_build(p, path=f"{ipath}.participants[{pi}]", webinar=webinar,
                                   instance=instance, index=pi, account_emails=account_emails))
        webinar.instances.append(instance)

    for ci, rec in enumerate(list_check(raw.get("recordings", []), path=f"{path}.recordings")):
        cpath = f"{path}.recordings[{ci}]"
        keys_check(rec, allowed=RECORDING_KEYS, path=cpath)
        latest = webinar.instance_latest()
        inst_uuid = rec.get("instance_uuid", latest.uuid if latest else None)
        matching = [i for i in webinar.instances if i.uuid == inst_uuid]
        if not matching:
            raise ScenarioError(f"{cpath}.instance_uuid: no instance {inst_uuid!r} of webinar {wid}",
                                path=f"{cpath}.instance_uuid")
        instance = matching[0]
        rec_id = str(rec.get("id", id_derive("recording", inst_uuid)))
        files = []
        for fi, f in enumerate(list_check(rec.get("files", [{"file_type": "MP4"}]), path=f"{cpath}.files")):
            fpath = f"{cpath}.files[{fi}]"
            keys_check(f, allowed=FILE_KEYS, path=fpath, required=("file_type",))
            ftype = f["file_type"]
            ext, rtype = _FILE_DEFAULTS.get(ftype, ("MP4", "shared_screen_with_speaker_view"))
            fid = str(f.get("id", id_derive("file", inst_uuid, fi, ftype, length=36)))
            files.append({
                "id": fid, "meeting_id": inst_uuid,
                "recording_start": f.get("recording_start", time_format(instance.start)),
                "recording_end": f.get("recording_end", time_format(instance.end)),
                "file_type": ftype, "file_extension": f.get("file_extension", ext),
                "file_size": f.get("file_size", 52_428_800 if ftype == "MP4" else 24_576),
                "play_url": f.get("play_url", f"https://zoom.us/rec/play/{fid}"),
                "download_url": f.get("download_url", f"https://zoom.us/rec/download/{fid}"),
                "status": f.get("status", "completed"),
                "recording_type": f.get("recording_type", rtype),
            })
        webinar.recordings[inst_uuid] = Recording(
            instance_uuid=inst_uuid, id=rec_id,
            share_url=_str(rec.get("share_url", f"https://zoom.us/rec/share/{id_derive('share', inst_uuid, length=40)}"),
                           path=f"{cpath}.share_url"),
            password=rec.get("password", rec.get("recording_play_passcode", "")),
            files=files,
            total_size=int(rec.get("total_size", sum(int(f["file_size"]) for f in files))),
        )
    return webinar


def _participant_build(p: dict[str, Any], *, path: str, webinar: Webinar, instance: Instance,
                       index: int, account_emails: set[str]) -> dict[str, Any]:
    keys_check(p, allowed=PARTICIPANT_KEYS, path=path)
    email = _str(p.get("user_email", ""), path=f"{path}.user_email")
    registrant = webinar.by_email.get(email.strip().lower()) if email else None
    join = time_parse(p["join_time"], path=f"{path}.join_time") if "join_time" in p else instance.start
    leave = time_parse(p["leave_time"], path=f"{path}.leave_time") if "leave_time" in p else instance.end
    if leave < join:
        raise ScenarioError(f"{path}: leave_time is before join_time", path=f"{path}.leave_time")
    if registrant is not None:
        default_name = f"{registrant.first_name} {registrant.last_name}".strip()
    elif email:
        default_name = " ".join(_name_from_email(email)).strip()
    else:
        default_name = f"Guest {index + 1}"
    return {
        # A rejoin is another row with a new id (research/zoom-api.md §5.2).
        "id": str(p["id"]) if "id" in p else id_derive("participant", instance.uuid, index),
        "user_id": str(p.get("user_id", 16_778_240 + index)),
        "participant_user_id": str(p["participant_user_id"]) if "participant_user_id" in p
        else (registrant.id if registrant else f"{16_778_240 + index}"),
        "name": p.get("name", default_name),
        "user_email": email,
        "registrant_id": p.get("registrant_id", registrant.id if registrant else ""),
        "join_time": time_format(join),
        "leave_time": time_format(leave),
        "duration": _int(p.get("duration", int((leave - join).total_seconds())), path=f"{path}.duration"),
        "failover": _bool(p.get("failover", False), path=f"{path}.failover"),
        "status": p.get("status", "in_meeting"),
        "internal_user": _bool(p.get("internal_user", email.lower() in account_emails), path=f"{path}.internal_user"),
        "customer_key": p.get("customer_key", ""),
    }
