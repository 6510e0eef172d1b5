"""python manage.py publish_workflow_action [--portal HUB_ID] [--api-base URL] [--dry-run]

Creates or updates the "Add contact to Zoom webinar" action definition in the HubSpot app
(automation v4, developer API key), with actionUrl = ZOOMSYNC_PUBLIC_URL/workflows/add-to-zoom-webinar.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connector.clients import errors as api_errors
from connector.clients.factories import hubspot_client_for
from connector.clients.hubspot import HubSpotClient
from connector.models import Portal
from workflows.services.definition import action_definition_build, action_definition_publish


class Command(BaseCommand):
    help = "Create or update the workflow action definition in HubSpot (automation v4)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--portal", type=int, help="hub id whose HubSpot API base to use (e.g. a sandbox)")
        parser.add_argument("--api-base", help="HubSpot API base URL (default HUBSPOT_API_BASE)")
        parser.add_argument("--app-id", default=None, help="HubSpot app id (default HUBSPOT_APP_ID)")
        parser.add_argument(
            "--developer-api-key", default=None, help="developer API key (default HUBSPOT_DEVELOPER_API_KEY)"
        )
        parser.add_argument("--public-url", default=None, help="base of actionUrl (default ZOOMSYNC_PUBLIC_URL)")
        parser.add_argument("--unpublished", action="store_true", help="create/keep it unpublished (testing)")
        parser.add_argument("--dry-run", action="store_true", help="print the definition, send nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        definition = action_definition_build(
            public_url=options["public_url"], published=False if options["unpublished"] else None
        )
        if options["dry_run"]:
            self.stdout.write(json.dumps(definition, indent=2))
            return
        app_id = options["app_id"] or settings.HUBSPOT_APP_ID
        api_key = options["developer_api_key"] or settings.HUBSPOT_DEVELOPER_API_KEY
        if not app_id or not api_key:
            raise CommandError("HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY are required (or --app-id/--developer-api-key)")
        client = self._client(options, app_id=str(app_id), api_key=api_key)
        try:
            result = action_definition_publish(client=client, definition=definition)
        except api_errors.ApiError as exc:
            raise CommandError(f"HubSpot refused the action definition: {exc}") from exc
        verb = "Created" if result.created else "Updated"
        self.stdout.write(f"{verb} action definition {result.definition_id} for {result.action_url}")

    def _client(self, options: dict[str, Any], *, app_id: str, api_key: str) -> HubSpotClient:
        overrides: dict[str, Any] = {"app_id": app_id, "developer_api_key": api_key}
        if options["portal"] is not None:
            portal = Portal.objects.filter(hub_id=options["portal"]).first()
            if portal is None:
                raise CommandError(f"No portal with hub id {options['portal']}")
            if options["api_base"]:
                overrides["base_url"] = options["api_base"].rstrip("/")
            return hubspot_client_for(portal, **overrides)
        return HubSpotClient(base_url=(options["api_base"] or settings.HUBSPOT_API_BASE).rstrip("/"), **overrides)
