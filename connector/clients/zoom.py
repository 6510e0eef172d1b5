"""Zoom REST API v2 client: one short method per endpoint, no business rules.

Paths, parameters and rate-limit labels are those of the official specs
(shared/specs/zoom/*-endpoints.json, "Rate Limit Label" in each operation). Each method
draws on its label's per-account budget (`ratelimit.py`): LIGHT, MEDIUM or HEAVY.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .base import BaseClient
from .errors import ApiError, NotFound

LIGHT, MEDIUM, HEAVY = "LIGHT", "MEDIUM", "HEAVY"
# Zoom's "no such recording" answers (404): 3301 no recording, 3001 meeting/webinar gone.
NO_RECORDING_CODES = frozenset({3301, 3001})


def zoom_id_path_value(value: str | int) -> str:
    """The value to put in a `{webinarId}`/`{meetingId}` path slot, before the base client's
    own percent-encoding.

    The spec: "If you provide a webinar UUID that begins with a `/` character or contains
    the `//` characters, you must double encode the webinar UUID". So such a UUID is
    encoded once here and once more by the base client; any other UUID is encoded once
    (by the base client); a numeric ID goes as is.
    """
    text = str(value)
    if text.startswith("/") or "//" in text:
        return quote(text, safe="")
    return text


class ZoomClient(BaseClient):
    service = "zoom"

    # --- pagination -------------------------------------------------------------

    def _pages(
        self,
        path_template: str,
        *,
        items_key: str,
        limit_label: str,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Follow `next_page_token` ("" or missing ends the listing)."""
        seen: set[str] = set()

        def next_params(body: Any) -> dict[str, Any] | None:
            token = body.get("next_page_token") or ""
            if not token:
                return None
            if token in seen:
                # A cursor that repeats would loop until the page cap: stop now.
                raise ApiError(
                    "Zoom returned the same next_page_token twice",
                    method="GET",
                    path=path_template,
                )
            seen.add(token)
            return {"next_page_token": token}

        yield from self.paginate(
            path_template,
            items_key=items_key,
            next_params=next_params,
            path_params=path_params,
            params=params,
            limit_label=limit_label,
        )

    # --- users ------------------------------------------------------------------

    def users_iter(
        self, *, status: str = "active", page_size: int = 300
    ) -> Iterator[dict[str, Any]]:
        return self._pages(
            "/users",
            items_key="users",
            limit_label=MEDIUM,
            params={"status": status, "page_size": page_size},
        )

    def user_get(self, user_id: str) -> dict[str, Any]:
        return self.request_json(
            "GET", "/users/{userId}", path_params={"userId": user_id}, limit_label=LIGHT
        )

    # --- webinars ---------------------------------------------------------------

    def webinars_iter(
        self, user_id: str, *, type: str = "scheduled", page_size: int = 300
    ) -> Iterator[dict[str, Any]]:
        # The spec declares no next_page_token parameter here, yet the response carries one
        # and the API honours it (kyleboe/zoom_rb#433), so it is followed like elsewhere.
        return self._pages(
            "/users/{userId}/webinars",
            items_key="webinars",
            limit_label=MEDIUM,
            path_params={"userId": user_id},
            params={"type": type, "page_size": page_size},
        )

    def webinar_get(
        self,
        webinar_id: str | int,
        *,
        occurrence_id: str | None = None,
        show_previous_occurrences: bool = False,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"occurrence_id": occurrence_id}
        if show_previous_occurrences:
            params["show_previous_occurrences"] = "true"
        return self.request_json(
            "GET",
            "/webinars/{webinarId}",
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            params=params,
            limit_label=LIGHT,
        )

    # --- registrants ------------------------------------------------------------

    def registrants_iter(
        self,
        webinar_id: str | int,
        *,
        status: str = "approved",
        occurrence_id: str | None = None,
        page_size: int = 300,
    ) -> Iterator[dict[str, Any]]:
        """One status per listing (the API's default is `approved`; call once per status)."""
        return self._pages(
            "/webinars/{webinarId}/registrants",
            items_key="registrants",
            limit_label=MEDIUM,
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            params={"status": status, "occurrence_id": occurrence_id, "page_size": page_size},
        )

    def registrants_total(self, webinar_id: str | int, *, status: str = "approved") -> int | None:
        """How many registrants of one status Zoom lists (`total_records` of a page of one);
        None when the answer carries no count."""
        body = self.request_json(
            "GET",
            "/webinars/{webinarId}/registrants",
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            params={"status": status, "page_size": 1},
            limit_label=MEDIUM,
        )
        total = (body or {}).get("total_records")
        return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None

    def registrant_add(
        self,
        webinar_id: str | int,
        *,
        email: str,
        first_name: str,
        last_name: str,
        occurrence_ids: list[str] | None = None,
        answers: Mapping[str, str] | None = None,
        custom_questions: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Register one person with first name, last name and email (R11), and the answers
        to the webinar's registration questions mapped from the contact (B6): standard
        fields by Zoom's name, custom questions as [{title, value}]. A webinar whose required
        questions are not all answered must be refused before calling this."""
        body: dict[str, Any] = {"email": email, "first_name": first_name, "last_name": last_name}
        for name, value in (answers or {}).items():
            if name not in body:
                body[name] = value
        if custom_questions:
            body["custom_questions"] = [{"title": q["title"], "value": q["value"]} for q in custom_questions]
        params = {"occurrence_ids": ",".join(occurrence_ids) if occurrence_ids else None}
        return self.request_json(
            "POST",
            "/webinars/{webinarId}/registrants",
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            params=params,
            json=body,
            limit_label=LIGHT,
        )

    def registration_questions_get(self, webinar_id: str | int) -> dict[str, Any]:
        """`{"questions": [{field_name, required}], "custom_questions": [...]}`"""
        return self.request_json(
            "GET",
            "/webinars/{webinarId}/registrants/questions",
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            limit_label=LIGHT,
        )

    # --- past sessions and attendance -------------------------------------------

    def past_webinar_instances(self, webinar_id: str | int) -> list[dict[str, Any]]:
        """`[{uuid, start_time}]`, one per held session (not paginated in the spec)."""
        body = self.request_json(
            "GET",
            "/past_webinars/{webinarId}/instances",
            path_params={"webinarId": zoom_id_path_value(webinar_id)},
            limit_label=LIGHT,
        )
        return list((body or {}).get("webinars") or [])

    def past_webinar_participants_iter(
        self, webinar_uuid: str, *, page_size: int = 300
    ) -> Iterator[dict[str, Any]]:
        """One row per join (a rejoin is a new row). Pass the instance UUID, not the ID:
        the ID gives the latest instance only."""
        return self._pages(
            "/past_webinars/{webinarId}/participants",
            items_key="participants",
            limit_label=MEDIUM,
            path_params={"webinarId": zoom_id_path_value(webinar_uuid)},
            params={"page_size": page_size},
        )

    def report_webinar_participants_iter(
        self, webinar_uuid: str, *, page_size: int = 300
    ) -> Iterator[dict[str, Any]]:
        """The report form (HEAVY, report:read:admin), with `registrant_id` included."""
        return self._pages(
            "/report/webinars/{webinarId}/participants",
            items_key="participants",
            limit_label=HEAVY,
            path_params={"webinarId": zoom_id_path_value(webinar_uuid)},
            params={"page_size": page_size, "include_fields": "registrant_id"},
        )

    def report_webinar_get(self, webinar_uuid: str) -> dict[str, Any]:
        return self.request_json(
            "GET",
            "/report/webinars/{webinarId}",
            path_params={"webinarId": zoom_id_path_value(webinar_uuid)},
            limit_label=HEAVY,
        )

    # --- recordings ---------------------------------------------------------------

    def recordings_get(self, webinar_uuid_or_id: str | int) -> dict[str, Any] | None:
        """Cloud recordings of one session (the spec's meeting endpoint serves webinars);
        None when Zoom says there is no recording (404 with code 3301 or 3001)."""
        try:
            return self.request_json(
                "GET",
                "/meetings/{meetingId}/recordings",
                path_params={"meetingId": zoom_id_path_value(webinar_uuid_or_id)},
                limit_label=LIGHT,
            )
        except NotFound as exc:
            if exc.code in NO_RECORDING_CODES or exc.code is None:
                return None
            raise

    # --- Zoom Events (R2: their webinars are never synced) -------------------------

    def zoom_events_iter(
        self, *, event_status_type: str | None = None, page_size: int = 300
    ) -> Iterator[dict[str, Any]]:
        """`event_status_type`: upcoming (the API's default), past, draft or cancelled."""
        return self._pages(
            "/zoom_events/events",
            items_key="events",
            limit_label=LIGHT,
            params={"page_size": page_size, "event_status_type": event_status_type},
        )

    def zoom_event_sessions(self, event_id: str) -> list[dict[str, Any]]:
        """`[{..., "type": 2, "webinar_id": 81...}]`; `webinar_id` is the link to a webinar."""
        body = self.request_json(
            "GET",
            "/zoom_events/events/{eventId}/sessions",
            path_params={"eventId": event_id},
            limit_label=LIGHT,
        )
        return list((body or {}).get("sessions") or [])
