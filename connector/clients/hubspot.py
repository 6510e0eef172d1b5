"""HubSpot API client: one short method per endpoint, no business rules.

Paths and bodies follow shared/specs/hubspot/*.json (see SOURCES.md there); the settings
users path is the SDKs' `/settings/v3/users/` (the spec's `/settings/users/v3` differs).
Auth: the portal's OAuth token by default; the app's developer key (`hapikey`) for
app-level definitions (timeline event templates, workflow action definitions).

Batch endpoints answer 200, 201 or 207 (multi-status); all three become a `BatchResult`
with `results` and per-item `errors`, so callers handle partial failure one way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from .base import BaseClient
from .errors import Conflict
from .ratelimit import Rate

BATCH_LIMIT = 100
# Requests kept under the limit HubSpot's X-HubSpot-RateLimit-* headers announce (B2).
HEADER_RATE_MARGIN = 3
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


@dataclass
class BatchResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @classmethod
    def from_response(cls, response: requests.Response) -> BatchResult:
        body = response.json() if response.content else {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            results=list(body.get("results") or []),
            errors=list(body.get("errors") or []),
            status=response.status_code,
        )


def existing_contact_id(message: str) -> str | None:
    """HubSpot's 409 "Contact already exists. Existing ID: 37765128953" → "37765128953"."""
    match = _EXISTING_ID.search(message or "")
    return match.group(1) if match else None


def _check_batch(inputs: list[Any], what: str = "inputs") -> None:
    # The spec has no maxItems; HubSpot enforces 100 per batch server-side.
    if len(inputs) > BATCH_LIMIT:
        raise ValueError(f"at most {BATCH_LIMIT} {what} per batch call, got {len(inputs)}")


class HubSpotClient(BaseClient):
    service = "hubspot"

    def __init__(
        self, *, developer_api_key: str = "", app_id: str | int = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.developer_api_key = developer_api_key
        self.app_id = str(app_id)

    # --- auth and rate-limit hooks ------------------------------------------------

    def auth_apply(self, auth: str | bool, headers: dict[str, str], params: dict[str, Any]) -> None:
        if auth == "developer":
            if not self.developer_api_key:
                from .errors import Unauthorized

                raise Unauthorized("HUBSPOT_DEVELOPER_API_KEY is not configured", status=401)
            params["hapikey"] = self.developer_api_key
            return
        super().auth_apply(auth, headers, params)

    def after_response(self, response: requests.Response, limiter_key: str) -> None:
        """If HubSpot says the window is nearly used up (another app or worker sharing the
        portal's 110/10 s), push our schedule back a little so we never reach a 429."""
        remaining = _int_header(response, "X-HubSpot-RateLimit-Remaining")
        limit = _int_header(response, "X-HubSpot-RateLimit-Max")
        interval_ms = _int_header(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if remaining is None or not limit or not interval_ms or self.limiter is None:
            return
        learnable = not limiter_key.endswith(":search")  # the search API has its own 5/s
        if learnable and hasattr(self.limiter, "rate_learn") and limit > HEADER_RATE_MARGIN:
            # B2: pace at the limit HubSpot announces, a little under it (clock jitter).
            self.limiter.rate_learn(limiter_key, Rate(limit=limit - HEADER_RATE_MARGIN, period=interval_ms / 1000))
        low_water = max(3, limit // 20)
        if remaining < low_water and hasattr(self.limiter, "slow_down"):
            per_request = interval_ms / 1000 / limit
            self.limiter.slow_down(limiter_key, per_request * (low_water - remaining))

    def _batch(
        self,
        path_template: str,
        body: dict[str, Any],
        *,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        conflict_as_result: bool = False,
    ) -> BatchResult:
        if body.get("inputs") == []:
            return BatchResult()  # nothing to send: no API call spent
        try:
            response = self.request(
                "POST", path_template, path_params=path_params, params=params, json=body
            )
        except Conflict as exc:
            if not conflict_as_result:
                raise
            # A 409 rejects the whole batch; report it like per-item errors so the caller
            # handles both the same way (for contacts, with the existing id parsed).
            error = dict(exc.body) if isinstance(exc.body, dict) else {"message": exc.message}
            error.setdefault("status", "error")
            error.setdefault("category", exc.code or "CONFLICT")
            existing = existing_contact_id(error.get("message", ""))
            if existing:
                error["existingId"] = existing
            return BatchResult(results=[], errors=[error], status=409)
        return BatchResult.from_response(response)

    # --- contacts -------------------------------------------------------------------

    def contacts_batch_read(
        self,
        ids: list[str],
        *,
        id_property: str | None = "email",
        properties: list[str],
        archived: bool = False,
    ) -> BatchResult:
        """Ids not found come back in `errors` (207). `archived=True` returns only archived."""
        _check_batch(ids, "ids")
        body: dict[str, Any] = {
            "properties": list(properties),
            "propertiesWithHistory": [],
            "inputs": [{"id": str(i)} for i in ids],
        }
        if id_property:
            body["idProperty"] = id_property
        return self._batch(
            "/crm/v3/objects/contacts/batch/read",
            body,
            params={"archived": "true" if archived else "false"},
        )

    def contacts_batch_create(self, inputs: list[dict[str, Any]]) -> BatchResult:
        """`inputs`: [{"properties": {...}}]. A 409 (one email already exists; HubSpot names
        only the first) is returned as BatchResult(status=409, errors=[{..., "existingId"}])."""
        _check_batch(inputs)
        return self._batch(
            "/crm/v3/objects/contacts/batch/create", {"inputs": inputs}, conflict_as_result=True
        )

    def contacts_batch_update(self, inputs: list[dict[str, Any]]) -> BatchResult:
        """`inputs`: [{"id": "501", "properties": {...}}] (record ids only)."""
        _check_batch(inputs)
        return self._batch("/crm/v3/objects/contacts/batch/update", {"inputs": inputs})

    def contacts_batch_upsert(
        self, inputs: list[dict[str, Any]], *, id_property: str = "email"
    ) -> BatchResult:
        """`inputs`: [{"id": "jane@x.com", "properties": {...}}]; each gets `idProperty`."""
        _check_batch(inputs)
        body = {"inputs": [{"idProperty": id_property, **item} for item in inputs]}
        return self._batch("/crm/v3/objects/contacts/batch/upsert", body)

    def contacts_search(self, body: dict[str, Any]) -> dict[str, Any]:
        # The search API has its own 5/s limit, separate from the 110/10 s one.
        return self.request_json(
            "POST", "/crm/v3/objects/contacts/search", json=body, limit_label="search"
        )

    def contact_get(
        self, contact_id: str | int, *, properties: list[str] | None = None, archived: bool = False
    ) -> dict[str, Any]:
        params = {
            "properties": ",".join(properties) if properties else None,
            "archived": "true" if archived else "false",
        }
        return self.request_json(
            "GET",
            "/crm/v3/objects/contacts/{contactId}",
            path_params={"contactId": contact_id},
            params=params,
        )

    # --- properties -----------------------------------------------------------------

    def property_groups_list(self, object_type: str = "contacts") -> list[dict[str, Any]]:
        body = self.request_json(
            "GET", "/crm/v3/properties/{objectType}/groups", path_params={"objectType": object_type}
        )
        return list((body or {}).get("results") or [])

    def property_group_create(
        self, object_type: str, *, name: str, label: str, display_order: int = -1
    ) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/crm/v3/properties/{objectType}/groups",
            path_params={"objectType": object_type},
            json={"name": name, "label": label, "displayOrder": display_order},
        )

    def properties_list(self, object_type: str = "contacts") -> list[dict[str, Any]]:
        body = self.request_json(
            "GET", "/crm/v3/properties/{objectType}", path_params={"objectType": object_type}
        )
        return list((body or {}).get("results") or [])

    def properties_batch_create(
        self, object_type: str, inputs: list[dict[str, Any]]
    ) -> BatchResult:
        _check_batch(inputs)
        return self._batch(
            "/crm/v3/properties/{objectType}/batch/create",
            {"inputs": inputs},
            path_params={"objectType": object_type},
        )

    # --- timeline events (v3) and app events (2026-03) --------------------------------

    def timeline_templates_list(self) -> list[dict[str, Any]]:
        body = self.request_json(
            "GET",
            "/integrators/timeline/v3/{appId}/event-templates",
            path_params={"appId": self.app_id},
            auth="developer",
        )
        return list((body or {}).get("results") or [])

    def timeline_template_create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/integrators/timeline/v3/{appId}/event-templates",
            path_params={"appId": self.app_id},
            json=body,
            auth="developer",
        )

    def timeline_events_batch_create(self, events: list[dict[str, Any]]) -> BatchResult:
        """OAuth only (a developer key cannot create events). A 409 comes back as a
        BatchResult with status 409 rather than an exception."""
        _check_batch(events, "events")
        return self._batch(
            "/integrators/timeline/v3/events/batch/create",
            {"inputs": events},
            conflict_as_result=True,
        )

    def app_events_batch_create(self, events: list[dict[str, Any]]) -> BatchResult:
        """409 means an occurrence id already exists and *none* of the batch was accepted
        (spec); it is returned as BatchResult(status=409) for the caller to split."""
        _check_batch(events, "events")
        return self._batch(
            "/integrators/timeline/2026-03/events/batch",
            {"inputs": events},
            conflict_as_result=True,
        )

    # --- marketing events -----------------------------------------------------------

    def marketing_event_upsert(
        self, external_event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.request_json(
            "PUT",
            "/marketing/v3/marketing-events/events/{externalEventId}",
            path_params={"externalEventId": external_event_id},
            json=body,
        )

    def marketing_event_attendance(
        self,
        external_event_id: str,
        subscriber_state: str,
        *,
        by: Literal["email", "contact"],
        inputs: list[dict[str, Any]],
        external_account_id: str | None = None,
    ) -> BatchResult:
        """Record participations: `subscriber_state` is register / attend / cancel.
        by="email": inputs [{email, interactionDateTime, properties, contactProperties}];
        by="contact": inputs [{vid, interactionDateTime, properties}]."""
        _check_batch(inputs)
        if by == "email":
            template = "/marketing/v3/marketing-events/attendance/{externalEventId}/{subscriberState}/email-create"
        elif by == "contact":
            template = "/marketing/v3/marketing-events/attendance/{externalEventId}/{subscriberState}/create"
        else:
            raise ValueError(f"by must be 'email' or 'contact', got {by!r}")
        return self._batch(
            template,
            {"inputs": inputs},
            path_params={"externalEventId": external_event_id, "subscriberState": subscriber_state},
            params={"externalAccountId": external_account_id},
        )

    # --- account users and business units (R12, R25) ----------------------------------

    def settings_users_iter(self, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._cursor_pages("/settings/v3/users/", params={"limit": limit})

    def business_units_for_user(self, user_id: str | int) -> list[dict[str, Any]]:
        body = self.request_json(
            "GET",
            "/business-units/v3/business-units/user/{userId}",
            path_params={"userId": user_id},
        )
        return list((body or {}).get("results") or [])

    # --- workflow action -------------------------------------------------------------

    def automation_callback_complete(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        """Finish a BLOCKed action execution. `typedOutputs` is required by the spec even
        though the docs' examples omit it."""
        self.request(
            "POST",
            "/automation/v4/actions/callbacks/{callbackId}/complete",
            path_params={"callbackId": callback_id},
            json={
                "outputFields": {k: str(v) for k, v in output_fields.items()},
                "typedOutputs": {},
            },
        )

    def action_definitions_list(self) -> list[dict[str, Any]]:
        return list(
            self._cursor_pages(
                "/automation/v4/actions/{appId}",
                path_params={"appId": self.app_id},
                params={"limit": 100},
                auth="developer",
            )
        )

    def action_definition_create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request_json(
            "POST",
            "/automation/v4/actions/{appId}",
            path_params={"appId": self.app_id},
            json=body,
            auth="developer",
        )

    def action_definition_update(
        self, definition_id: str | int, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.request_json(
            "PATCH",
            "/automation/v4/actions/{appId}/{definitionId}",
            path_params={"appId": self.app_id, "definitionId": definition_id},
            json=body,
            auth="developer",
        )

    # --- OAuth ------------------------------------------------------------------------

    def access_token_info(self, token: str) -> dict[str, Any]:
        """hub_id, user, scopes, expires_in of an access token (the token is the path;
        only the template is ever logged)."""
        return self.request_json(
            "GET", "/oauth/v1/access-tokens/{token}", path_params={"token": token}, auth="none"
        )

    # --- pagination -------------------------------------------------------------------

    def _cursor_pages(
        self,
        path_template: str,
        *,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: str | bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Follow `paging.next.after` with a hard page cap (BaseClient.max_pages)."""
        from .errors import ApiError

        page_params = dict(params or {})
        seen: set[str] = set()
        for _page in range(self.max_pages):
            body = self.request_json(
                "GET", path_template, path_params=path_params, params=page_params, auth=auth
            )
            body = body if isinstance(body, dict) else {}
            yield from body.get("results") or []
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if after in seen:
                raise ApiError(
                    "HubSpot returned the same paging cursor twice",
                    method="GET",
                    path=path_template,
                )
            seen.add(str(after))
            page_params["after"] = after
        raise ApiError(
            f"pagination exceeded {self.max_pages} pages", method="GET", path=path_template
        )


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        # Some servers send "10000.0"; a count is still a count.
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
