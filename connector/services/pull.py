"""Pull: Zoom → our database, per connected Zoom account.

Users and every user's webinars are pulled (the settings UI lists them for R10); each
webinar gets the verdict of the rules on `Webinar.skip_reason` ("" = passes every rule):
R2 (part of a Zoom Event), R4 (sync mode none / host not selected), R5 (host's domain
excluded), R8/R10 (the webinar's switch). Only passing webinars have their registrants
(every listable status), past sessions and participant rows pulled, page by page, each page
written in bulk, so memory stays flat at 100,000 registrants.

Incremental: a finished session whose participants were fully pulled is not pulled again
(unless `full`); an expired webinar whose sessions are all complete is not pulled again; a
registrant status whose count Zoom gives is the one the last whole listing held is not listed
again (unless `full`: see `AccountPull.webinar_pull` and docs/sync.md for what that misses).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import itertools
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connector.clients.errors import ApiError, BadRequest, Forbidden, NotFound
from connector.models import (
    ParticipantRow,
    Registrant,
    RegistrantCount,
    Session,
    SkipReason,
    WebhookEvent,
    WebhookProvider,
    Webinar,
    ZoomAccount,
    ZoomUser,
)
from connector.services.erasure import erased_among
from connector.services.recordings import recordings_pull
from connector.services.registration_questions import registrant_answers_from_zoom
from connector.services.sync_requests import people_mark_dirty, webinar_people_mark_dirty
from connector.services.sync_settings import email_normalize
from connector.services.upsert import dt_db, rows_changed_emails, rows_upsert

if TYPE_CHECKING:
    from connector.clients.zoom import ZoomClient
    from connector.selectors import SyncRules
    from connector.services.report import SyncReport

logger = logging.getLogger("zoomsync.pull")

Progress = Callable[[str, int, int], None]
T = TypeVar("T")

# The registrant statuses the list endpoint accepts (spec enum of `status`). Cancelled
# registrants are not listable: a registrant no longer listed under any status is marked
# "cancelled" after a complete pull of the webinar.
REGISTRANT_STATUSES = ("approved", "pending", "denied")
WRITE_PAGE = 300  # Zoom's page size: one bulk write per page read
# What Zoom answers (400) for the registrants of a webinar without registration: the listing is
# whole and empty. 3000 stands for the whole webinar (every status), 300 for the one asked.
NO_REGISTRATION_CODES = frozenset({3000, 300})
WEBINAR_NO_REGISTRATION_CODE = 3000
# Zoom needs a while after a session ends to finish its participant report ("duration 0 if
# called too early"): a session is only marked complete once it ended this long ago.
SETTLE = dt.timedelta(minutes=getattr(settings, "ZOOMSYNC_PARTICIPANTS_SETTLE_MINUTES", 10))
# B2: reports lag. Until a session ended this long ago its report is read again on every
# sync (its participant count first: the rows only when the count says some are new).
SETTLE_COMPLETE = dt.timedelta(hours=getattr(settings, "ZOOMSYNC_PARTICIPANTS_SETTLE_HOURS", 6))
ZOOM_EVENT_WEBINAR_SESSION_TYPE = 2
# What people's values and events show of a webinar: a change makes its people changed (B2).
WEBINAR_SEEN_FIELDS = ("topic", "join_url", "skip_reason", "start_time", "duration_minutes", "webinar_type", "zoom_event_id")
REGISTRANT_COLUMNS = (
    "webinar_id",
    "registrant_id",
    "email",
    "first_name",
    "last_name",
    "status",
    "create_time",
    "join_url",
    "occurrence_ids",
    "last_seen_at",
    "answers",  # B6: the registration answers, for the mapped contact properties
)
PARTICIPANT_COLUMNS = ("session_id", "row_key", "email", "name", "registrant_id", "join_time", "leave_time")
# The Events API lists one status at a time (default "upcoming"): a webinar of a past, draft
# or cancelled event is still a Zoom Events webinar (R2).
ZOOM_EVENT_STATUSES = ("upcoming", "past", "draft", "cancelled")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _dt(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _noop() -> None:
    return None


class _RegistrantListing:
    """What one pull listed of a webinar's registrants: the ids per status, the statuses read
    whole, and whether Zoom no longer knows the webinar."""

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = {}
        self.whole: set[str] = set()
        self.gone = False


class _Background(Generic[T]):
    """Runs a page producer in a worker thread (HTTP only) and hands its pages to the calling
    thread, which alone writes to the database. At most `maxsize` pages wait in memory.

    The worker runs in a copy of the caller's context, so its API calls are counted in the
    sync report; an exception in the worker is raised again in the caller by `drain`.
    """

    _DONE = object()

    def __init__(self, produce: Callable[[], Iterable[T]], *, maxsize: int = 4) -> None:
        self._queue: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize)
        self._stop = threading.Event()
        self.finished = False
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, produce), name="zoomsync-pull", daemon=True
        )
        self._thread.start()

    def _run(self, produce: Callable[[], Iterable[T]]) -> None:
        try:
            for item in produce():
                if not self._put((item, None)):
                    return
            self._put((self._DONE, None))
        except BaseException as exc:  # handed to the caller's thread
            self._put((self._DONE, exc))
        finally:
            connections.close_all()  # this thread's own connections, if a token refresh opened one

    def _put(self, entry: tuple[Any, BaseException | None]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def drain(self, *, block: bool) -> Iterator[T]:
        """The pages fetched so far (block=False) or all of them (block=True)."""
        while not self.finished:
            try:
                item, exc = self._queue.get(block=block)
            except queue.Empty:
                return
            if item is self._DONE:
                self.finished = True
                self._thread.join()
                if exc is not None:
                    raise exc
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def host_verdict(*, rules: SyncRules, host_email: str) -> str:
    """"" when the host's webinars may sync, else the SkipReason of the host rule that stops them."""
    if rules.sync_mode == "none":
        return SkipReason.SYNC_MODE_NONE  # R4
    if not rules.host_selected(host_email):
        return SkipReason.USER_NOT_SELECTED  # R4
    if rules.host_domain_excluded(host_email):
        return SkipReason.HOST_DOMAIN_EXCLUDED  # R5
    return ""


def webinar_verdict(
    *, rules: SyncRules, webinar_id: str, host_email: str, zoom_event_id: str
) -> str:
    """"" when the webinar passes every rule, else the SkipReason (first rule that stops it)."""
    if zoom_event_id:
        return SkipReason.ZOOM_EVENT  # R2
    host = host_verdict(rules=rules, host_email=host_email)
    if host:
        return host
    if not rules.webinar_switch(webinar_id, host_email):
        return SkipReason.WEBINAR_SYNC_OFF  # R8, R10
    return ""


class AccountPull:
    """One Zoom account's pull within a sync run."""

    def __init__(
        self,
        *,
        account: ZoomAccount,
        rules: SyncRules,
        report: SyncReport,
        client: ZoomClient,
        full: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.account = account
        self.rules = rules
        self.report = report
        self.client = client
        self.full = full
        self.progress = progress or (lambda phase, done, total: None)
        self.now = timezone.now()
        self.users_by_id: dict[str, str] = {}  # zoom user id → lower-cased email
        # Called after each participants page: writes what the registrant listing fetched.
        self.between_pages: Callable[[], None] = _noop

    # --- users and webinars ---------------------------------------------------------

    def zoom_event_webinars(self) -> dict[str, str]:
        """R2: {webinar id: event id} of every webinar that is a Zoom Events session.

        The Meetings API has no flag for it; the Events API lists each event's sessions with
        their webinar_id. An account without Zoom Events (no licence or scope) has none.
        """
        out: dict[str, str] = {}
        try:
            events = itertools.chain.from_iterable(
                self.client.zoom_events_iter(event_status_type=status) for status in ZOOM_EVENT_STATUSES
            )
            for event in events:
                event_id = str(event.get("event_id") or event.get("id") or "")
                if not event_id:
                    continue
                for session in self.client.zoom_event_sessions(event_id):
                    webinar_id = session.get("webinar_id")
                    if webinar_id and session.get("type", ZOOM_EVENT_WEBINAR_SESSION_TYPE) in (
                        ZOOM_EVENT_WEBINAR_SESSION_TYPE,
                        str(ZOOM_EVENT_WEBINAR_SESSION_TYPE),
                    ):
                        out[str(webinar_id)] = event_id
        except (Forbidden, NotFound, BadRequest) as exc:
            logger.info("zoom events not available for %s: %s", self.account.account_id, exc)
        return out

    def users_pull(self) -> list[dict[str, Any]]:
        users = [u for u in self.client.users_iter() if u.get("id")]
        ZoomUser.objects.bulk_create(
            [
                ZoomUser(
                    account=self.account,
                    zoom_user_id=str(u["id"]),
                    email=email_normalize(u.get("email") or ""),
                    first_name=(u.get("first_name") or "")[:200],
                    last_name=(u.get("last_name") or "")[:200],
                    user_type=_int(u.get("type")),
                    status=(u.get("status") or "")[:20],
                )
                for u in users
            ],
            update_conflicts=True,
            unique_fields=["account", "zoom_user_id"],
            update_fields=["email", "first_name", "last_name", "user_type", "status", "updated_at"],
        )
        self.users_by_id = {str(u["id"]): email_normalize(u.get("email") or "") for u in users}
        return users

    def webinars_pull(self, users: list[dict[str, Any]], events: dict[str, str]) -> set[str]:
        """Upsert every listed webinar with its verdict; returns the listed webinar ids."""
        listed: set[str] = set()
        for n, user in enumerate(users, 1):
            self.progress("pull:webinars", n, len(users))
            try:
                pages = _chunks(self.client.webinars_iter(str(user["id"])), WRITE_PAGE)
                for page in pages:
                    rows = [self._webinar_row(item, user, events) for item in page]
                    rows = [r for r in rows if r.webinar_id not in listed]
                    listed.update(r.webinar_id for r in rows)
                    self._webinars_changed_mark(rows)
                    Webinar.objects.bulk_create(
                        rows,
                        update_conflicts=True,
                        unique_fields=["account", "webinar_id"],
                        update_fields=[
                            "uuid",
                            "host_zoom_user_id",
                            "host_email",
                            "topic",
                            "webinar_type",
                            "start_time",
                            "duration_minutes",
                            "timezone",
                            "join_url",
                            "zoom_event_id",
                            "skip_reason",
                            "last_pulled_at",
                        ],
                    )
                    self.report.pulled["webinars"] += len(page)
            except (NotFound, BadRequest) as exc:
                # A user without a webinar licence: Zoom answers 400/404 for their listing.
                logger.info("no webinars listed for zoom user %s: %s", user.get("id"), exc)
        return listed

    def _webinars_changed_mark(self, rows: list[Webinar]) -> None:
        """B2: a known webinar whose verdict or what the contacts and events show of it changed
        makes all its people changed."""
        known = {
            w.webinar_id: w
            for w in Webinar.objects.filter(account=self.account, webinar_id__in=[r.webinar_id for r in rows]).only(
                *WEBINAR_SEEN_FIELDS
            )
        }
        changed = [
            known[r.webinar_id].pk
            for r in rows
            if r.webinar_id in known
            and any(getattr(r, f) != getattr(known[r.webinar_id], f) for f in WEBINAR_SEEN_FIELDS)
        ]
        webinar_people_mark_dirty(portal=self.account.portal, webinar_pks=changed)
        # B2: such a webinar's registrants are listed whole again (not trusted to their counts).
        RegistrantCount.objects.filter(webinar_id__in=changed).delete()

    def _webinar_row(self, item: dict[str, Any], user: dict[str, Any], events: dict[str, str]) -> Webinar:
        webinar_id = str(item["id"])
        host_id = str(item.get("host_id") or user["id"])
        host_email = self.users_by_id.get(host_id) or email_normalize(user.get("email") or "")
        zoom_event_id = events.get(webinar_id, "")
        return Webinar(
            account=self.account,
            webinar_id=webinar_id,
            uuid=(item.get("uuid") or "")[:100],
            host_zoom_user_id=host_id,
            host_email=host_email,
            topic=(item.get("topic") or "")[:300],
            webinar_type=_int(item.get("type")),
            start_time=_dt(item.get("start_time")),
            duration_minutes=_int(item.get("duration")),
            timezone=(item.get("timezone") or "")[:64],
            join_url=(item.get("join_url") or "")[:1000],
            zoom_event_id=zoom_event_id,
            skip_reason=webinar_verdict(
                rules=self.rules, webinar_id=webinar_id, host_email=host_email, zoom_event_id=zoom_event_id
            ),
            last_pulled_at=self.now,
        )

    def verdicts_refresh(self, listed: set[str], events: dict[str, str]) -> None:
        """Webinars Zoom no longer lists (expired) keep being judged with today's rules."""
        for webinar in Webinar.objects.filter(account=self.account).exclude(webinar_id__in=listed).iterator():
            zoom_event_id = events.get(webinar.webinar_id, webinar.zoom_event_id)
            verdict = webinar_verdict(
                rules=self.rules,
                webinar_id=webinar.webinar_id,
                host_email=webinar.host_email,
                zoom_event_id=zoom_event_id,
            )
            if (verdict, zoom_event_id) != (webinar.skip_reason, webinar.zoom_event_id):
                with transaction.atomic():
                    Webinar.objects.filter(pk=webinar.pk).update(skip_reason=verdict, zoom_event_id=zoom_event_id)
                    # B2: a verdict that changed changes all its people, and its registrants are
                    # listed whole again.
                    webinar_people_mark_dirty(portal=self.account.portal, webinar_pks=[webinar.pk])
                    RegistrantCount.objects.filter(webinar_id=webinar.pk).delete()

    # --- per passing webinar -----------------------------------------------------------

    def webinar_pull(self, webinar: Webinar, *, listed: bool) -> None:
        """Registrants and sessions of one webinar. Zoom limits each rate-limit label on its
        own (registrants MEDIUM, participant reports HEAVY), so the registrant listing runs
        in a worker thread while this thread pulls the participants; every page is written
        here, by this thread alone.

        B2: a scheduled sync first asks Zoom how many registrants each status holds and lists
        only the statuses whose count differs from the one the last whole listing stored;
        `full` lists every status. R18 (a registrant no longer listed under any status was
        cancelled) is decided only after every status was listed whole in this pull: when a
        listed status misses someone it held before, the statuses skipped as unchanged are
        listed too (that person may have moved there)."""
        if not listed and not self.full and not self._expired_webinar_has_more(webinar):
            return
        seen_from = timezone.now()
        statuses = REGISTRANT_STATUSES if self.full else self.registrant_statuses_changed(webinar)
        listing = _RegistrantListing()
        background = _Background(lambda: self.registrants_fetch(webinar, statuses)) if statuses else None

        def drain(block: bool = False) -> None:
            if background is not None:
                for kind, status, page in background.drain(block=block):
                    self._registrant_listing_take(webinar, listing, kind, status, page)

        try:
            self.between_pages = drain
            self.sessions_pull(webinar)
            drain(block=True)
        finally:
            self.between_pages = _noop
            if background is not None:
                background.close()
        skipped = tuple(s for s in REGISTRANT_STATUSES if s not in statuses)
        if skipped and not listing.gone and self._registrants_missing(webinar, listing.whole, seen_from):
            # B2, R18: someone a listed status held is not listed there any more: cancelled, or
            # moved to a status whose count did not change. Those are listed before deciding.
            for kind, status, page in self.registrants_fetch(webinar, skipped):
                self._registrant_listing_take(webinar, listing, kind, status, page)
        self._registrant_counts_store(webinar, listing, listed_from=seen_from)
        if not listing.gone and set(REGISTRANT_STATUSES) <= listing.whole:
            # R18: a registrant Zoom no longer lists under any status was cancelled or deleted.
            gone = Registrant.objects.filter(webinar=webinar, last_seen_at__lt=seen_from).exclude(status="cancelled")
            with transaction.atomic():
                people_mark_dirty(portal=self.account.portal, emails=list(gone.values_list("email", flat=True)))
                gone.update(status="cancelled")

    def _expired_webinar_has_more(self, webinar: Webinar) -> bool:
        """An expired webinar (no longer listed) holds no new sessions; pull it again only
        while one of its sessions is incomplete or it has none recorded yet."""
        sessions = webinar.sessions.all()
        return not sessions.exists() or sessions.filter(participants_complete=False).exists()

    # --- B2: registrant counts --------------------------------------------------------

    def registrant_statuses_changed(self, webinar: Webinar) -> tuple[str, ...]:
        """B2: the statuses to list, those whose registrant count (Zoom's `total_records`, one
        call of page size 1 each) is not the one stored after the last whole listing, and
        those with none stored (listed without asking). None of them when Zoom no longer
        knows the webinar (kept as it is, as the listing would)."""
        counts = list(RegistrantCount.objects.filter(webinar=webinar).values_list("status", "total", "counted_at"))
        if counts and self._registration_webhook_since(webinar, min(at for _, _, at in counts)):
            # B2: Zoom told of a registration change since the counts were taken; the counts
            # may hold (a cancellation and a new registration): every status is listed.
            return REGISTRANT_STATUSES
        stored = {status: total for status, total, _ in counts}
        changed: list[str] = []
        for n, status in enumerate(REGISTRANT_STATUSES):
            if status not in stored:
                changed.append(status)  # no count to compare with: listed without asking
                continue
            try:
                total = self.client.registrants_total(webinar.webinar_id, status=status)
            except NotFound:
                return ()
            except BadRequest as exc:
                if exc.code not in NO_REGISTRATION_CODES:
                    logger.info("registrants of %s (%s) not counted: %s", webinar.webinar_id, status, exc)
                    changed.append(status)
                    continue
                # No registration: none to list. 3000 says so of the webinar, every status.
                rest = REGISTRANT_STATUSES[n:] if exc.code == WEBINAR_NO_REGISTRATION_CODE else (status,)
                changed.extend(s for s in rest if stored.get(s) != 0)
                if exc.code == WEBINAR_NO_REGISTRATION_CODE:
                    break
                continue
            if total is None or stored.get(status) != total:
                changed.append(status)
        return tuple(changed)

    def _registration_webhook_since(self, webinar: Webinar, since: dt.datetime) -> bool:
        """Whether the inbox received a registration event of this webinar since `since`."""
        return WebhookEvent.objects.filter(
            portal=self.account.portal,
            provider=WebhookProvider.ZOOM,
            zoom_account=self.account,
            subject=webinar.webinar_id,
            event_type__startswith="webinar.registration_",
            received_at__gte=since,
        ).exists()

    def _registrant_listing_take(
        self, webinar: Webinar, listing: _RegistrantListing, kind: str, status: str, page: list[dict[str, Any]]
    ) -> None:
        if kind == "page":
            listing.ids.setdefault(status, set()).update(str(item["id"])[:100] for item in page if item.get("id"))
            self._registrants_write(webinar, page, status)
        elif kind == "whole":
            listing.whole.add(status)
        elif kind == "gone":
            listing.gone = True
        # "incomplete": that status was not read whole (not in `whole`)

    @staticmethod
    def _registrants_missing(webinar: Webinar, statuses: set[str], seen_from: dt.datetime) -> bool:
        """Whether a registrant last stored under one of `statuses` (listed whole) was not
        listed since `seen_from`."""
        return Registrant.objects.filter(webinar=webinar, status__in=statuses, last_seen_at__lt=seen_from).exists()

    def _registrant_counts_store(self, webinar: Webinar, listing: _RegistrantListing, *, listed_from: dt.datetime) -> None:
        """B2: the count of each status listed whole: the registrants Zoom listed under it,
        counted as of when the listing began (a registration event received while it ran
        makes the next sync list the webinar whole)."""
        if not listing.whole:
            return
        RegistrantCount.objects.bulk_create(
            [
                RegistrantCount(
                    webinar=webinar, status=status, total=len(listing.ids.get(status, ())), counted_at=listed_from
                )
                for status in sorted(listing.whole)
            ],
            update_conflicts=True,
            unique_fields=["webinar", "status"],
            update_fields=["total", "counted_at"],
        )

    def registrants_fetch(
        self, webinar: Webinar, statuses: Iterable[str] = REGISTRANT_STATUSES
    ) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
        """Pages of registrants of the given statuses (HTTP only: runs in a worker thread).
        Yields ("page", status, page) and ("whole", status, []) once a status was read whole,
        or ("gone"|"incomplete", status, []) when a listing could not be read whole."""
        for status in statuses:
            try:
                for page in _chunks(self.client.registrants_iter(webinar.webinar_id, status=status), WRITE_PAGE):
                    yield "page", status, page
            except NotFound:
                yield "gone", status, []  # webinar gone or expired: keep what we have
                return
            except BadRequest as exc:
                # 3000 "registration not required": nothing to list, the listing is whole.
                logger.info("registrants of %s (%s) not listed: %s", webinar.webinar_id, status, exc)
                if exc.code not in NO_REGISTRATION_CODES:
                    yield "incomplete", status, []
                    continue
            yield "whole", status, []

    def _erased_dropped(self, rows: dict[str, tuple[Any, ...]], *, email_at: int) -> dict[str, tuple[Any, ...]]:
        """The rows less those of people erased on request (B3): Zoom still lists them, but
        nothing of theirs is stored again; only the keyed hash of their email stays."""
        erased = erased_among(portal=self.account.portal, emails={row[email_at] for row in rows.values()})
        if not erased:
            return rows
        return {key: row for key, row in rows.items() if row[email_at] not in erased}

    def _registrants_write(self, webinar: Webinar, page: list[dict[str, Any]], status: str) -> None:
        now = dt_db(timezone.now())
        rows: dict[str, tuple[Any, ...]] = {}
        for item in page:
            if not item.get("id"):
                continue
            registrant_id = str(item["id"])[:100]
            rows[registrant_id] = (
                webinar.pk,
                registrant_id,
                email_normalize(item.get("email") or "")[:254],
                (item.get("first_name") or "")[:200],
                (item.get("last_name") or "")[:200],
                (item.get("status") or status)[:20],
                dt_db(_dt(item.get("create_time"))),
                (item.get("join_url") or "")[:1000],
                "[]",
                now,
                json.dumps(registrant_answers_from_zoom(item)),  # B6
            )
        rows = self._erased_dropped(rows, email_at=2)
        with transaction.atomic():
            # B2: who changed is marked in the same transaction as the change.
            changed = rows_changed_emails(
                model=Registrant,
                columns=REGISTRANT_COLUMNS,
                rows=list(rows.values()),
                conflict=("webinar_id", "registrant_id"),
                compare=(*REGISTRANT_COLUMNS[2:8], "answers"),
            )
            people_mark_dirty(portal=self.account.portal, emails=changed)
            rows_upsert(
                model=Registrant,
                columns=REGISTRANT_COLUMNS,
                rows=list(rows.values()),
                conflict=("webinar_id", "registrant_id"),
                update=REGISTRANT_COLUMNS[2:8] + ("last_seen_at", "answers"),
            )
        self.report.pulled["registrants"] += len(page)

    def sessions_pull(self, webinar: Webinar) -> None:
        if (
            webinar.webinar_type == 5
            and webinar.start_time is not None
            and webinar.start_time > self.now
            and not webinar.sessions.exists()
        ):
            return  # a single webinar not yet held has no past instance: save the call
        try:
            instances = self.client.past_webinar_instances(webinar.webinar_id)
        except (NotFound, BadRequest) as exc:
            logger.info("no past instances of %s: %s", webinar.webinar_id, exc)
            return
        known = {s.uuid: s for s in webinar.sessions.all()}
        occurrences: list[dict[str, Any]] | None = None
        for instance in instances:
            uuid = str(instance.get("uuid") or "")
            if not uuid:
                continue
            self.report.pulled["sessions"] += 1
            session = known.get(uuid)
            if session is None:
                start = _dt(instance.get("start_time"))
                occurrence_id, minutes = "", webinar.duration_minutes
                if webinar.webinar_type in (6, 9) and start is not None:
                    if occurrences is None:
                        occurrences = self._occurrences(webinar)
                    occurrence_id, minutes = self._occurrence_match(occurrences, start, minutes)
                session, _ = Session.objects.get_or_create(
                    webinar=webinar,
                    uuid=uuid,
                    defaults={
                        "start_time": start,
                        "occurrence_id": occurrence_id,
                        "scheduled_duration_minutes": minutes,
                    },
                )
            if self.full or not session.participants_complete:
                self.session_participants_pull(session)

    def _occurrences(self, webinar: Webinar) -> list[dict[str, Any]]:
        try:
            body = self.client.webinar_get(webinar.webinar_id, show_previous_occurrences=True)
        except ApiError as exc:
            logger.info("occurrences of %s not read: %s", webinar.webinar_id, exc)
            return []
        return list(body.get("occurrences") or [])

    @staticmethod
    def _occurrence_match(
        occurrences: list[dict[str, Any]], start: dt.datetime, minutes: int | None
    ) -> tuple[str, int | None]:
        """Attendance rows carry no occurrence id: match the session by start time."""
        best: tuple[float, dict[str, Any]] | None = None
        for occ in occurrences:
            occ_start = _dt(occ.get("start_time"))
            if occ_start is None:
                continue
            gap = abs((occ_start - start).total_seconds())
            if best is None or gap < best[0]:
                best = (gap, occ)
        if best is None or best[0] > 12 * 3600:
            return "", minutes
        return str(best[1].get("occurrence_id") or ""), _int(best[1].get("duration")) or minutes

    def session_participants_pull(self, session: Session) -> None:
        expected: int | None = None
        now = timezone.now()
        settling = session.end_time is not None and session.end_time + SETTLE <= now < session.end_time + SETTLE_COMPLETE
        if session.end_time is None or settling:
            # The report's details: the session's end, and (B2) how many participant rows
            # the report holds, read again while the report may still be filling in.
            try:
                details = self.client.report_webinar_get(session.uuid)
                session.end_time = session.end_time or _dt(details.get("end_time"))
                session.start_time = session.start_time or _dt(details.get("start_time"))
                expected = _int(details.get("participants_count"))
            except (NotFound, Forbidden, BadRequest) as exc:
                # §5: an unknown end means the scheduled duration is used.
                logger.info("no report details for session %s: %s", session.uuid, exc)
        if settling and expected is not None and ParticipantRow.objects.filter(session=session).count() >= expected:
            # B2: the report holds no row we lack; it may still grow until it settles.
            session.save(update_fields=["end_time", "start_time"])
            return
        try:
            rows = self.client.report_webinar_participants_iter(session.uuid)
            first = next(rows, None)
            rows = itertools.chain([first], rows) if first is not None else iter(())
        except Forbidden:
            # No report:read:admin scope: the past-webinar listing has the same rows.
            rows = self.client.past_webinar_participants_iter(session.uuid)
        except (NotFound, BadRequest) as exc:
            logger.info("no participants for session %s: %s", session.uuid, exc)
            session.save(update_fields=["end_time", "start_time"])
            return
        for page in _chunks(rows, WRITE_PAGE):
            self._participants_write(session, page)
            self.between_pages()
        end = session.end_time or (
            session.start_time + dt.timedelta(minutes=session.scheduled_duration_minutes or 0)
            if session.start_time
            else None
        )
        # B2: reports lag; a session is complete once its report settled (rows Zoom adds
        # later are read on every sync until then, when the report's count grows).
        session.participants_complete = end is not None and end + SETTLE_COMPLETE <= now
        session.save(update_fields=["end_time", "start_time", "participants_complete"])

    def _participants_write(self, session: Session, page: list[dict[str, Any]]) -> None:
        rows: dict[str, tuple[Any, ...]] = {}
        for item in page:
            join = _dt(item.get("join_time"))
            who = (
                item.get("participant_user_id")
                or item.get("id")
                or item.get("user_id")
                or item.get("user_email")
                or item.get("name")
                or ""
            )
            # A rejoin is another row of the same participant: the join time tells them apart.
            row_key = f"{who}|{join.isoformat() if join else item.get('user_id', '')}"[:200]
            rows[row_key] = (
                session.pk,
                row_key,
                email_normalize(item.get("user_email") or item.get("email") or "")[:254],
                (item.get("name") or "")[:300],
                str(item.get("registrant_id") or "")[:100],
                dt_db(join),
                dt_db(_dt(item.get("leave_time"))),
            )
        rows = self._erased_dropped(rows, email_at=2)
        with transaction.atomic():
            # B2: who changed is marked in the same transaction as the change.
            changed = rows_changed_emails(
                model=ParticipantRow,
                columns=PARTICIPANT_COLUMNS,
                rows=list(rows.values()),
                conflict=("session_id", "row_key"),
                compare=PARTICIPANT_COLUMNS[2:],
            )
            # B5: a guest row found by registrant id changes that registrant's person.
            guest_rows = [r for r in rows.values() if not r[2] and r[4]]
            if guest_rows:
                changed_ids = rows_changed_emails(
                    model=ParticipantRow,
                    columns=PARTICIPANT_COLUMNS,
                    rows=guest_rows,
                    conflict=("session_id", "row_key"),
                    compare=PARTICIPANT_COLUMNS[2:],
                    email="registrant_id",
                )
                changed |= set(
                    Registrant.objects.filter(webinar_id=session.webinar_id, registrant_id__in=changed_ids)
                    .exclude(email="")
                    .values_list("email", flat=True)
                )
            people_mark_dirty(portal=self.account.portal, emails=changed)
            rows_upsert(
                model=ParticipantRow,
                columns=PARTICIPANT_COLUMNS,
                rows=list(rows.values()),
                conflict=("session_id", "row_key"),
                update=PARTICIPANT_COLUMNS[2:],
            )
        self.report.pulled["participant_rows"] += len(page)

    # --- the whole account ---------------------------------------------------------------

    def account_level_pull(self) -> list[tuple[Webinar, bool]]:
        """The account-level part: Zoom Events (R2), users, the webinar listing and every
        webinar's verdict (webinar skips reported). Returns the passing webinars, each with
        whether Zoom listed it in this run (an unlisted one has expired)."""
        self.progress("pull:users", 0, 1)
        events = self.zoom_event_webinars()
        users = self.users_pull()
        listed = self.webinars_pull(users, events)
        self.verdicts_refresh(listed, events)
        for webinar in Webinar.objects.filter(account=self.account).exclude(skip_reason="").order_by("webinar_id"):
            self.report.skip(
                kind="webinar", reason=webinar.skip_reason, subject=webinar.webinar_id, detail=webinar.topic[:500]
            )
        passing = list(Webinar.objects.filter(account=self.account, skip_reason="").order_by("webinar_id"))
        self.report.webinars_synced += len(passing)
        return [(webinar, webinar.webinar_id in listed) for webinar in passing]

    def webinar_data_pull(self, webinar: Webinar, *, listed: bool) -> None:
        """One passing webinar's data: registrants, sessions, participants, recordings.
        Idempotent (every row is upserted), so it may run again after a crash."""
        self.webinar_pull(webinar, listed=listed)
        # R6/R9/R20 (issue 5): also for expired webinars, whose recordings arrive later.
        recordings_pull(
            account=self.account, client=self.client, webinar=webinar, rules=self.rules, report=self.report, full=self.full
        )

    def run(self) -> None:
        passing = self.account_level_pull()
        for n, (webinar, listed) in enumerate(passing, 1):
            self.progress("pull:webinar data", n, len(passing))
            self.webinar_data_pull(webinar, listed=listed)


def _account_puller(
    *,
    account: ZoomAccount,
    rules: SyncRules,
    report: SyncReport,
    full: bool,
    progress: Progress | None,
    client: ZoomClient | None,
) -> AccountPull:
    if client is None:
        from connector.clients.factories import zoom_client_for

        client = zoom_client_for(account)
    return AccountPull(account=account, rules=rules, report=report, client=client, full=full, progress=progress)


def account_pull(
    *,
    account: ZoomAccount,
    rules: SyncRules,
    report: SyncReport,
    full: bool = False,
    progress: Progress | None = None,
    client: ZoomClient | None = None,
) -> None:
    """Pull one connected Zoom account into the database (see the module docstring)."""
    _account_puller(account=account, rules=rules, report=report, full=full, progress=progress, client=client).run()


def account_level_pull(
    *,
    account: ZoomAccount,
    rules: SyncRules,
    report: SyncReport,
    full: bool = False,
    progress: Progress | None = None,
    client: ZoomClient | None = None,
) -> list[tuple[Webinar, bool]]:
    """The account-level part of the pull (users, Zoom Events, webinars and their verdicts);
    returns the passing webinars with whether Zoom listed them. The per-webinar part is
    `webinar_data_pull` (a Celery task per webinar when the sync fans out)."""
    return _account_puller(
        account=account, rules=rules, report=report, full=full, progress=progress, client=client
    ).account_level_pull()


def webinar_data_pull(
    *,
    webinar: Webinar,
    listed: bool,
    rules: SyncRules,
    report: SyncReport,
    full: bool = False,
    progress: Progress | None = None,
    client: ZoomClient | None = None,
) -> None:
    """One passing webinar's registrants, sessions, participant rows and recordings."""
    _account_puller(
        account=webinar.account, rules=rules, report=report, full=full, progress=progress, client=client
    ).webinar_data_pull(webinar, listed=listed)
