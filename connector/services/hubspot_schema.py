"""What zoomsync defines in a HubSpot account (INTERFACES.md §1), created idempotently.

On each push we list first and create only what is missing (a 409 on create means another
worker made it in between: fine). Listing costs two or three reads per sync and no writes,
so a second sync over unchanged data makes zero HubSpot writes.

- the contact property group `zoomsync` (label "Zoom") and its four properties (R16–R19);
- the timeline event templates (R20–R23), looked up by name; their ids are re-read each sync
  (one call) rather than cached, so a template deleted by hand is simply recreated;
- for the `app_events` sink (2026-03 API) event types live in the app's project files, not
  in the API: we only name them (`APP_EVENT_TYPES`);
- the `marketing_events` sink needs nothing up front (events are upserted per session).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connector.clients.errors import Conflict
from connector.clients.hubspot import HubSpotClient, Outcome

logger = logging.getLogger("zoomsync.push")

GROUP_NAME = "zoomsync"
GROUP_LABEL = "Zoom"

PROP_AVERAGE = "zoomsync_average_attendance_percent"  # R16
PROP_LAST_REGISTERED = "zoomsync_last_registered_webinar"  # R17
PROP_REGISTRATIONS = "zoomsync_registration_count"  # R18
PROP_ATTENDED = "zoomsync_attended_count"  # R19

CONTACT_PROPERTIES: list[dict[str, Any]] = [
    {
        "name": PROP_AVERAGE,
        "label": "Average Zoom webinar attendance duration",
        "description": "Mean percentage of each Zoom webinar session the contact attended (R16).",
        "type": "number",
        "fieldType": "number",
        "groupName": GROUP_NAME,
        "numberDisplayHint": "percentage",
    },
    {
        "name": PROP_LAST_REGISTERED,
        "label": "Last registered Zoom webinar",
        "description": "Join URL of the Zoom webinar the contact most recently registered for (R17).",
        "type": "string",
        "fieldType": "text",
        "groupName": GROUP_NAME,
    },
    {
        "name": PROP_REGISTRATIONS,
        "label": "Total number of Zoom webinar registrations",
        "description": "Zoom webinars the contact holds an approved or pending registration for (R18).",
        "type": "number",
        "fieldType": "number",
        "groupName": GROUP_NAME,
    },
    {
        "name": PROP_ATTENDED,
        "label": "Total number of Zoom webinars attended",
        "description": "Zoom webinar sessions the contact attended (R19).",
        "type": "number",
        "fieldType": "number",
        "groupName": GROUP_NAME,
    },
]
PROPERTY_NAMES = [p["name"] for p in CONTACT_PROPERTIES]

TEMPLATE_REGISTRATION = "Zoom: Webinar registration"  # R22
TEMPLATE_ATTENDANCE = "Zoom: Webinar attendance"  # R21, R23
TEMPLATE_RECORDING = "Zoom: Recording available"  # R20


def _token(name: str, label: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "label": label, "type": kind, "options": []}


EVENT_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": TEMPLATE_REGISTRATION,
        "objectType": "contacts",
        "headerTemplate": "Registered for Zoom webinar {{webinar_name}}",
        "detailTemplate": (
            "Webinar ID: {{webinar_id}}\n\n"
            "Registered: {{#formatDate registered_at}}{{/formatDate}}"
        ),
        "tokens": [
            _token("webinar_id", "Webinar ID"),
            _token("webinar_name", "Webinar name"),
            _token("registered_at", "Registered at", "date"),
        ],
    },
    {
        "name": TEMPLATE_ATTENDANCE,
        "objectType": "contacts",
        "headerTemplate": "Attended Zoom webinar {{webinar_name}} ({{attendance_percent}}%)",
        "detailTemplate": (
            "Webinar ID: {{webinar_id}}\n\n"
            "Webinar date: {{#formatDate webinar_date}}{{/formatDate}}\n\n"
            "Joined: {{#formatDate joined_at}}{{/formatDate}}\n\n"
            "Left: {{#formatDate left_at}}{{/formatDate}}\n\n"
            "Attended {{attendance_seconds}} seconds ({{attendance_percent}}% of the webinar)"
        ),
        "tokens": [
            _token("webinar_id", "Webinar ID"),
            _token("webinar_name", "Webinar name"),
            _token("webinar_date", "Webinar date", "date"),
            _token("joined_at", "Joined at", "date"),
            _token("left_at", "Left at", "date"),
            _token("attendance_seconds", "Attendance time (seconds)", "number"),
            _token("attendance_percent", "Attendance percentage", "number"),
        ],
    },
    {
        "name": TEMPLATE_RECORDING,
        "objectType": "contacts",
        "headerTemplate": "Recording available: {{topic}}",
        "detailTemplate": (
            "Webinar ID: {{webinar_id}}\n\n"
            "Held: {{#formatDate start_time}}{{/formatDate}}\n\n"
            "[Watch the recording]({{recording_url}})"
        ),
        "tokens": [
            _token("webinar_id", "Webinar ID"),
            _token("topic", "Webinar topic"),
            _token("start_time", "Start time", "date"),
            _token("recording_url", "Recording URL"),
            _token("transcript_url", "Transcript URL"),
        ],
    },
]
TEMPLATE_NAMES = [t["name"] for t in EVENT_TEMPLATES]

# The 2026-03 app events API: event types are declared in the app's project
# (src/app/app-events/*-hsmeta.json) and referenced by name in each occurrence.
APP_EVENT_TYPES = {
    TEMPLATE_REGISTRATION: "zoomsync_webinar_registration",
    TEMPLATE_ATTENDANCE: "zoomsync_webinar_attendance",
    TEMPLATE_RECORDING: "zoomsync_recording_available",
}


@dataclass
class HubSpotSchema:
    """What the push needs to know about the account's definitions."""

    template_ids: dict[str, str] = field(default_factory=dict)  # template name → id
    created: list[str] = field(default_factory=list)  # what this call created (for logs/tests)


def hubspot_schema_ensure(*, client: HubSpotClient, event_sinks: tuple[str, ...] | list[str]) -> HubSpotSchema:
    """Create the property group, the four properties and (for the timeline sink) the event
    templates when missing. Safe to call on every sync: reads first, writes only what is absent."""
    schema = HubSpotSchema()
    _properties_ensure(client=client, schema=schema)
    if "timeline" in event_sinks:
        _templates_ensure(client=client, schema=schema)
    return schema


def _properties_ensure(*, client: HubSpotClient, schema: HubSpotSchema) -> None:
    existing = {p.get("name"): p for p in client.properties_list("contacts")}
    missing = [p for p in CONTACT_PROPERTIES if p["name"] not in existing]
    if not missing:
        # All four exist, so their group does too (a property cannot outlive its group).
        return
    groups = {g.get("name") for g in client.property_groups_list("contacts")}
    if GROUP_NAME not in groups:
        try:
            client.property_group_create("contacts", name=GROUP_NAME, label=GROUP_LABEL)
            schema.created.append(f"group:{GROUP_NAME}")
        except Conflict:
            pass  # created by a concurrent sync
    result = client.properties_batch_create("contacts", missing)
    # Already there (a concurrent sync made it) is fine; anything else is a real problem.
    refused = [result.rejected] if result.rejected is not None else []
    refused += [i for i in result.items if i.outcome not in (Outcome.CREATED, Outcome.DUPLICATE)]
    if refused:
        raise RuntimeError(f"creating contact properties failed: {refused[0].message or refused[0].code}")
    schema.created.extend(f"property:{p['name']}" for p in missing)


def _templates_ensure(*, client: HubSpotClient, schema: HubSpotSchema) -> None:
    by_name = {t.get("name"): str(t.get("id")) for t in client.timeline_templates_list()}
    for template in EVENT_TEMPLATES:
        name = template["name"]
        if name in by_name:
            continue
        try:
            created = client.timeline_template_create(template)
        except Conflict:
            # Made by a concurrent sync: list again to learn its id.
            by_name = {t.get("name"): str(t.get("id")) for t in client.timeline_templates_list()}
            continue
        by_name[name] = str(created.get("id"))
        schema.created.append(f"template:{name}")
    schema.template_ids = {name: by_name[name] for name in TEMPLATE_NAMES if name in by_name}
