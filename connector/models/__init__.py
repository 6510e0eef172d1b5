"""connector models, split by topic. tenancy: portals, Zoom accounts, settings."""

from connector.models.tenancy import (
    ConnectionStatus,
    OAuthState,
    Portal,
    PortalMembership,
    PortalSyncSettings,
    SyncMode,
    WebinarSetting,
    ZoomAccount,
    ZoomAuthType,
    default_event_sinks,
)

__all__ = [
    "ConnectionStatus",
    "OAuthState",
    "Portal",
    "PortalMembership",
    "PortalSyncSettings",
    "SyncMode",
    "WebinarSetting",
    "ZoomAccount",
    "ZoomAuthType",
    "default_event_sinks",
]
