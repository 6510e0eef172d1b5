"""Webhooks from Zoom and HubSpot: signatures, the inbox, processing tasks (INTERFACES.md §9)."""
