"""The sync report (INTERFACES.md §6): what one run did, and every skip with its reason.

Every skipped webinar, person or recording is counted under its reason once per run
(kind, reason, subject) and stored as a SkipRecord of the run, in bulk, so the admin can
later see who was skipped and why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from connector.models import Portal, SkipReason, SkipRecord, SyncRun

WEBINAR_REASONS = (
    SkipReason.ZOOM_EVENT,
    SkipReason.HOST_DOMAIN_EXCLUDED,
    SkipReason.USER_NOT_SELECTED,
    SkipReason.SYNC_MODE_NONE,
    SkipReason.WEBINAR_SYNC_OFF,
)
PERSON_REASONS = (
    SkipReason.NO_EMAIL,
    SkipReason.INVALID_EMAIL,
    SkipReason.INTERNAL_DOMAIN,
    SkipReason.ACCOUNT_USER,
    SkipReason.SECONDARY_EMAIL,
    SkipReason.DELETED_CONTACT,
)
RECORDING_REASONS = (SkipReason.RECORDINGS_OFF, SkipReason.RECORDING_DOMAIN_EXCLUDED)
REASONS_BY_KIND: dict[str, tuple[str, ...]] = {
    "webinar": tuple(str(r) for r in WEBINAR_REASONS),
    "person": tuple(str(r) for r in PERSON_REASONS),
    "recording": tuple(str(r) for r in RECORDING_REASONS),
}
PULLED_KEYS = ("webinars", "sessions", "registrants", "participant_rows", "recordings")
EVENT_KEYS = ("registration", "attendance", "recording")
SKIP_FLUSH_AT = 1000


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class SyncReport:
    """Counters of one sync run, shaped as INTERFACES.md §6 by `as_dict`."""

    def __init__(self, *, portal: Portal, run: SyncRun | None) -> None:
        self.portal = portal
        self.run = run
        self.started_at: dt.datetime = timezone.now()
        self.finished_at: dt.datetime | None = None
        self.webinars_synced = 0
        self.contacts_created = 0
        self.contacts_updated = 0
        self.recordings_synced = 0
        # B5: people Zoom reported without an email, found again by their registrant id
        # (one per session and person; counted over all synced data, like the skips).
        self.guests_found = 0
        self.events: dict[str, int] = dict.fromkeys(EVENT_KEYS, 0)
        self.pulled: dict[str, int] = dict.fromkeys(PULLED_KEYS, 0)
        self.errors: list[str] = []
        self.skipped: dict[str, dict[str, int]] = {kind: dict.fromkeys(reasons, 0) for kind, reasons in REASONS_BY_KIND.items()}
        self._seen: set[tuple[str, str, str]] = set()
        self._pending: list[SkipRecord] = []

    def skip(self, *, kind: str, reason: str, subject: str, detail: str = "") -> None:
        """Count a skipped webinar/person/recording under its reason (once per run per subject)."""
        if kind not in REASONS_BY_KIND:
            raise ValueError(f"unknown skip kind {kind!r}")
        reason = str(reason)
        if reason not in REASONS_BY_KIND[kind]:
            raise ValueError(f"{reason!r} is not a skip reason for a {kind}")
        subject = str(subject)[:300]
        key = (kind, reason, subject)
        if key in self._seen:
            return
        self._seen.add(key)
        self.skipped[kind][reason] += 1
        if self.run is not None:
            self._pending.append(
                SkipRecord(sync_run=self.run, kind=kind, reason=reason, subject=subject, detail=detail[:500])
            )
            if len(self._pending) >= SKIP_FLUSH_AT:
                self.flush()

    def skip_count(self, *, kind: str, reason: str) -> int:
        return self.skipped[kind][str(reason)]

    def error(self, message: str) -> None:
        self.errors.append(message)

    def flush(self) -> None:
        """Write the pending SkipRecords (bulk)."""
        if self._pending:
            SkipRecord.objects.bulk_create(self._pending, batch_size=SKIP_FLUSH_AT)
            self._pending = []

    def finish(self) -> None:
        self.flush()
        self.finished_at = timezone.now()

    def as_dict(self, *, api_calls: dict[str, int]) -> dict[str, Any]:
        """The report exactly as INTERFACES.md §6 (every skip reason key present)."""
        calls = {"zoom": 0, "hubspot": 0}
        calls.update({k: int(v) for k, v in api_calls.items()})
        return {
            "portal": self.portal.hub_id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at or timezone.now()),
            "webinars": {"synced": self.webinars_synced, "skipped": dict(self.skipped["webinar"])},
            "people": {
                "contacts_created": self.contacts_created,
                "contacts_updated": self.contacts_updated,
                "guests_found": self.guests_found,
                "skipped": dict(self.skipped["person"]),
            },
            "recordings": {"synced": self.recordings_synced, "skipped": dict(self.skipped["recording"])},
            "events": dict(self.events),
            "pulled": dict(self.pulled),
            "api_calls": calls,
            "errors": list(self.errors),
        }


@dataclass
class StageCounts:
    """What one stage of a run counted (the account pull, one webinar's pull), stored on its
    SyncRunPart so the counts survive the worker; merged into the run's SyncReport at the end."""

    webinars_synced: int = 0
    pulled: dict[str, int] = field(default_factory=dict)
    skips: list[list[str]] = field(default_factory=list)  # [kind, reason, subject, detail]
    errors: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "webinars_synced": self.webinars_synced,
            "pulled": dict(self.pulled),
            "skips": [list(s) for s in self.skips],
            "errors": list(self.errors),
            "api_calls": dict(self.api_calls),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> StageCounts:
        data = data or {}
        return cls(
            webinars_synced=int(data.get("webinars_synced", 0)),
            pulled={k: int(v) for k, v in (data.get("pulled") or {}).items()},
            skips=[list(s) for s in data.get("skips") or []],
            errors=[str(e) for e in data.get("errors") or []],
            api_calls={k: int(v) for k, v in (data.get("api_calls") or {}).items()},
        )

    def merge(self, other: StageCounts) -> StageCounts:
        """Both counts added up (a new object)."""
        return StageCounts(
            webinars_synced=self.webinars_synced + other.webinars_synced,
            pulled=dict(Counter(self.pulled) + Counter(other.pulled)),
            skips=self.skips + other.skips,
            errors=self.errors + other.errors,
            api_calls=dict(Counter(self.api_calls) + Counter(other.api_calls)),
        )


class CollectingReport(SyncReport):
    """A stage's report: counts like SyncReport and keeps each skip, for the run's report
    (which writes the SkipRecords, once) to replay at the end."""

    def __init__(self, *, portal: Portal) -> None:
        super().__init__(portal=portal, run=None)
        self.skip_log: list[list[str]] = []

    def skip(self, *, kind: str, reason: str, subject: str, detail: str = "") -> None:
        seen = len(self._seen)
        super().skip(kind=kind, reason=reason, subject=subject, detail=detail)
        if len(self._seen) > seen:
            self.skip_log.append([kind, str(reason), str(subject)[:300], detail[:500]])

    def counts(self, *, api_calls: dict[str, int]) -> StageCounts:
        return StageCounts(
            webinars_synced=self.webinars_synced,
            pulled={k: v for k, v in self.pulled.items()},
            skips=list(self.skip_log),
            errors=list(self.errors),
            api_calls=dict(api_calls),
        )


def report_absorb(*, report: SyncReport, counts: StageCounts) -> None:
    """Add a stage's counts to the run's report (skips recorded once each)."""
    report.webinars_synced += counts.webinars_synced
    for key, value in counts.pulled.items():
        report.pulled[key] = report.pulled.get(key, 0) + value
    for kind, reason, subject, detail in counts.skips:
        report.skip(kind=kind, reason=reason, subject=subject, detail=detail)
    for message in counts.errors:
        report.error(message)


def _reason_words(reason: str) -> str:
    label = str(dict(SkipReason.choices).get(reason, reason))
    return re.sub(r" \((?:R\d+(?:, )?)+\)$", "", label)


def report_format(report: dict[str, Any]) -> str:
    """The §6 report for people: counts by kind, skips by reason, API calls per service."""

    def skips(d: dict[str, int]) -> str:
        # In words ("Part of a Zoom Event 1"), not codes; the labels' rule numbers are left out.
        shown = [f"{_reason_words(reason)} {count}" for reason, count in d.items() if count]
        return ", ".join(shown) if shown else "none"

    w, p, r = report["webinars"], report["people"], report["recordings"]
    lines = [
        f"Sync of portal {report['portal']}  ({report['started_at']} → {report['finished_at']})",
        f"  Webinars    synced {w['synced']:>6}   skipped: {skips(w['skipped'])}",
        f"  Contacts    created {p['contacts_created']:>5}   updated {p['contacts_updated']}",
        f"  People      skipped: {skips(p['skipped'])}"
        + (f"   guests found by registrant id {p['guests_found']}" if p.get("guests_found") else ""),
        f"  Recordings  synced {r['synced']:>6}   skipped: {skips(r['skipped'])}",
        "  Events      " + ", ".join(f"{k} {v}" for k, v in report["events"].items()),
        "  Pulled      " + ", ".join(f"{k} {v}" for k, v in report["pulled"].items()),
        "  API calls   " + ", ".join(f"{k} {v}" for k, v in report["api_calls"].items()),
    ]
    if report["errors"]:
        lines.append(f"  Errors ({len(report['errors'])}):")
        lines.extend(f"    - {e}" for e in report["errors"])
    else:
        lines.append("  Errors      none")
    return "\n".join(lines)
