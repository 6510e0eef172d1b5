"""Plain Django views of the fake HubSpot API: parse, call one operation, answer JSON.

Each route declares its auth mode (OAuth bearer, developer `hapikey`, or none) and a handler
per HTTP method. Handlers get `(request, state, **path_params)` and return `(status, body)` or
raise `HubSpotError`. Nothing here touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.hubspot import (
    auth,
    automation,
    contacts,
    marketing,
    oauth,
    portal,
    properties,
    timeline,
)
from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.state import HubSpotState

Handler = Callable[..., tuple[int, dict[str, Any] | None]]
MULTI_VALUED = {"properties", "propertiesWithHistory", "associations", "name", "name[]",
                "properties[]"}


def current_state() -> HubSpotState:
    """The fake portal this process serves (the sandbox core's world)."""
    from sandbox.state import sandbox_state

    return sandbox_state().hubspot


def json_response(status: int, body: Any) -> HttpResponse:
    if status == 204 or body is None:
        return HttpResponse(status=status)
    return HttpResponse(json.dumps(body), status=status,
                        content_type="application/json;charset=utf-8")


def json_body(request: HttpRequest) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HubSpotError(400, f"Invalid input JSON: {exc}", category="VALIDATION_ERROR") from None


def query(request: HttpRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.GET:
        out[key] = request.GET.getlist(key) if key in MULTI_VALUED else request.GET.get(key)
    return out


def endpoint(mode: str, **handlers: Handler) -> Callable[..., HttpResponse]:
    """A view serving `handlers` (by HTTP method) behind the given auth mode."""

    @csrf_exempt
    def view(request: HttpRequest, **params: str) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            err = HubSpotError(405, f"Method {request.method} not allowed",
                               category="VALIDATION_ERROR")
            return json_response(err.status, err.to_body())
        state = current_state()
        try:
            problem = auth.auth_error(state, request, mode)
            if problem is not None:
                raise problem
            status, body = handler(request, state, **params)
        except HubSpotError as err:
            status, body = err.status, err.to_body()
        return json_response(status, body)

    view.hubspot_auth = mode  # type: ignore[attr-defined]
    return view


# ---------------------------------------------------------------- OAuth

def oauth_token(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    form = {k: request.POST.get(k, "") for k in request.POST}
    for key in ("client_secret", "refresh_token"):  # the spec also allows them in the query
        if key not in form and key in request.GET:
            form[key] = request.GET[key]
    return oauth.token_grant(state, form)


def oauth_access_token(request: HttpRequest, state: HubSpotState, token: str) -> tuple[int, Any]:
    return oauth.access_token_info(state, token)


def oauth_refresh_token_get(request: HttpRequest, state: HubSpotState, token: str
                            ) -> tuple[int, Any]:
    return oauth.refresh_token_info(state, token)


def oauth_refresh_token_delete(request: HttpRequest, state: HubSpotState, token: str
                               ) -> tuple[int, Any]:
    return oauth.refresh_token_delete(state, token)


# ---------------------------------------------------------------- contacts

def _archived(request: HttpRequest) -> bool:
    return request.GET.get("archived", "false").lower() == "true"


def contacts_batch_read(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_batch_read(state, json_body(request), archived=_archived(request))


def contacts_batch_create(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_batch_create(state, json_body(request))


def contacts_batch_update(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_batch_update(state, json_body(request))


def contacts_batch_upsert(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_batch_upsert(state, json_body(request))


def contacts_batch_archive(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_batch_archive(state, json_body(request))


def contacts_search(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_search(state, json_body(request))


def contacts_list(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contacts_list(state, query(request))


def contact_create(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return contacts.contact_create(state, json_body(request))


def contact_get(request: HttpRequest, state: HubSpotState, contactId: str) -> tuple[int, Any]:  # noqa: N803
    return contacts.contact_get(state, contactId, query(request))


def contact_patch(request: HttpRequest, state: HubSpotState, contactId: str) -> tuple[int, Any]:  # noqa: N803
    return contacts.contact_update(state, contactId, json_body(request), query(request))


def contact_delete(request: HttpRequest, state: HubSpotState, contactId: str) -> tuple[int, Any]:  # noqa: N803
    return contacts.contact_archive(state, contactId)


# ---------------------------------------------------------------- properties

def groups_get(request: HttpRequest, state: HubSpotState, objectType: str) -> tuple[int, Any]:  # noqa: N803
    return properties.groups_list(state, objectType)


def groups_post(request: HttpRequest, state: HubSpotState, objectType: str) -> tuple[int, Any]:  # noqa: N803
    return properties.group_create(state, objectType, json_body(request))


def group_get(request: HttpRequest, state: HubSpotState, objectType: str, groupName: str  # noqa: N803
              ) -> tuple[int, Any]:
    return properties.group_get(state, objectType, groupName)


def properties_get(request: HttpRequest, state: HubSpotState, objectType: str) -> tuple[int, Any]:  # noqa: N803
    return properties.properties_list(state, objectType, query(request))


def properties_post(request: HttpRequest, state: HubSpotState, objectType: str) -> tuple[int, Any]:  # noqa: N803
    return properties.property_create(state, objectType, json_body(request))


def properties_batch_create(request: HttpRequest, state: HubSpotState, objectType: str  # noqa: N803
                            ) -> tuple[int, Any]:
    return properties.properties_batch_create(state, objectType, json_body(request))


def property_get(request: HttpRequest, state: HubSpotState, objectType: str, propertyName: str  # noqa: N803
                 ) -> tuple[int, Any]:
    return properties.property_get(state, objectType, propertyName)


# ---------------------------------------------------------------- portal

def account_details(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return portal.account_details(state)


def users_list(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return portal.users_list(state, query(request))


def user_get(request: HttpRequest, state: HubSpotState, userId: str) -> tuple[int, Any]:  # noqa: N803
    return portal.user_get(state, userId, query(request))


def business_units(request: HttpRequest, state: HubSpotState, userId: str) -> tuple[int, Any]:  # noqa: N803
    return portal.business_units_for_user(state, userId)


# ---------------------------------------------------------------- timeline v3 (N803: spec names)

def templates_get(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.templates_list(state, appId)


def templates_post(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.template_create(state, appId, json_body(request))


def template_get(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                 eventTemplateId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.template_get(state, appId, eventTemplateId)


def template_put(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                 eventTemplateId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.template_update(state, appId, eventTemplateId, json_body(request))


def template_delete(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                    eventTemplateId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.template_delete(state, appId, eventTemplateId)


def template_tokens_post(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                         eventTemplateId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.token_add(state, appId, eventTemplateId, json_body(request))


def timeline_event_post(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return timeline.event_create(state, json_body(request))


def timeline_events_batch(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return timeline.events_batch_create(state, json_body(request))


def timeline_event_get(request: HttpRequest, state: HubSpotState, eventTemplateId: str,  # noqa: N803
                       eventId: str) -> tuple[int, Any]:  # noqa: N803
    return timeline.event_get(state, eventTemplateId, eventId)


def app_event_post(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return timeline.app_event_create(state, json_body(request))


def app_events_batch(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return timeline.app_events_batch(state, json_body(request))


# ---------------------------------------------------------------- marketing events

def marketing_event_post(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return marketing.event_create(state, json_body(request))


def marketing_events_upsert(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return marketing.events_batch_upsert(state, json_body(request))


def marketing_event_get(request: HttpRequest, state: HubSpotState,
                        externalEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.event_get(state, externalEventId, query(request))


def marketing_event_put(request: HttpRequest, state: HubSpotState,
                        externalEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.event_upsert(state, externalEventId, json_body(request))


def marketing_event_delete(request: HttpRequest, state: HubSpotState,
                           externalEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.event_delete(state, externalEventId, query(request))


def attendance_email_create(request: HttpRequest, state: HubSpotState, externalEventId: str,  # noqa: N803
                            subscriberState: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.attendance_by_email(state, externalEventId, subscriberState,
                                         json_body(request), query(request))


def attendance_create(request: HttpRequest, state: HubSpotState, externalEventId: str,  # noqa: N803
                      subscriberState: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.attendance_by_contact_id(state, externalEventId, subscriberState,
                                              json_body(request), query(request))


def participations_counters(request: HttpRequest, state: HubSpotState, externalAccountId: str,  # noqa: N803
                            externalEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.participation_counters(state, externalAccountId, externalEventId)


def participations_breakdown(request: HttpRequest, state: HubSpotState, externalAccountId: str,  # noqa: N803
                             externalEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.participation_breakdown(state, externalAccountId, externalEventId,
                                             query(request))


def participations_counters_by_object(request: HttpRequest, state: HubSpotState,
                                      marketingEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.participation_counters_by_object(state, marketingEventId)


def participations_breakdown_by_object(request: HttpRequest, state: HubSpotState,
                                       marketingEventId: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.participation_breakdown_by_object(state, marketingEventId, query(request))


def participations_for_contact(request: HttpRequest, state: HubSpotState,
                               contactIdentifier: str) -> tuple[int, Any]:  # noqa: N803
    return marketing.participation_breakdown_for_contact(state, contactIdentifier,
                                                         query(request))


# ---------------------------------------------------------------- automation v4

def callback_complete(request: HttpRequest, state: HubSpotState,
                      callbackId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.callback_complete(state, callbackId, json_body(request))


def callbacks_complete(request: HttpRequest, state: HubSpotState) -> tuple[int, Any]:
    return automation.callbacks_complete_batch(state, json_body(request))


def definitions_get(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.definitions_list(state, appId, query(request))


def definitions_post(request: HttpRequest, state: HubSpotState, appId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.definition_create(state, appId, json_body(request))


def definition_get(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                   definitionId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.definition_get(state, appId, definitionId)


def definition_patch(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                     definitionId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.definition_patch(state, appId, definitionId, json_body(request))


def definition_delete(request: HttpRequest, state: HubSpotState, appId: str,  # noqa: N803
                      definitionId: str) -> tuple[int, Any]:  # noqa: N803
    return automation.definition_delete(state, appId, definitionId)
