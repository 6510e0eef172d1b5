"""The action's definition in HubSpot (automation v4): build it from the JSON kept in the
repo, and create or update it through the HubSpot client with the developer API key."""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from connector.clients.hubspot import HubSpotClient

logger = logging.getLogger("zoomsync.workflows")

DEFINITION_FILE = Path(__file__).resolve().parent.parent / "action_definition.json"
# PATCH takes PublicActionDefinitionPatch, which has no `functions`.
_PATCH_KEYS = (
    "actionUrl",
    "executionRules",
    "inputFieldDependencies",
    "inputFields",
    "labels",
    "objectRequestOptions",
    "objectTypes",
    "outputFields",
    "published",
)


@dataclass(frozen=True)
class PublishResult:
    definition_id: str
    created: bool
    action_url: str


def action_url_build(*, public_url: str | None = None) -> str:
    base = (public_url or settings.ZOOMSYNC_PUBLIC_URL).rstrip("/")
    return base + reverse("workflows:add-to-zoom-webinar")


def action_definition_build(*, public_url: str | None = None, published: bool | None = None) -> dict[str, Any]:
    """The definition body: the repo's JSON with actionUrl filled from ZOOMSYNC_PUBLIC_URL."""
    definition = json.loads(DEFINITION_FILE.read_text())
    definition["actionUrl"] = action_url_build(public_url=public_url)
    if published is not None:
        definition["published"] = published
    return definition


def action_definition_publish(*, client: HubSpotClient, definition: dict[str, Any]) -> PublishResult:
    """Update the existing definition for this actionUrl, or create one.

    Matching by actionUrl (not archived) keeps re-runs idempotent: publishing twice leaves
    one definition, updated, instead of two identical actions in every portal's workflows.
    """
    action_url = definition["actionUrl"]
    existing = [
        d
        for d in client.action_definitions_list()
        if d.get("actionUrl") == action_url and not d.get("archivedAt")
    ]
    if existing:
        definition_id = str(existing[0]["id"])
        patch = {k: copy.deepcopy(definition[k]) for k in _PATCH_KEYS if k in definition}
        client.action_definition_update(definition_id, patch)
        if len(existing) > 1:
            logger.warning(
                "%d action definitions point at %s; updated %s",
                len(existing),
                action_url,
                definition_id,
            )
        return PublishResult(definition_id=definition_id, created=False, action_url=action_url)
    created = client.action_definition_create(definition)
    return PublishResult(definition_id=str((created or {}).get("id", "")), created=True, action_url=action_url)
