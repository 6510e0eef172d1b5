from django.urls import path

from connector import views
from connector.webhooks import views as webhook_views

app_name = "connector"
urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_callback, name="hubspot-callback"),
    path("hubspot/install/confirm", views.hubspot_install_confirm, name="hubspot-install-confirm"),
    path("zoom/connect", views.zoom_connect, name="zoom-connect"),
    path("zoom/oauth/callback", views.zoom_callback, name="zoom-callback"),
    path("webhooks/zoom", webhook_views.zoom_webhook, name="webhooks-zoom"),
    path("webhooks/hubspot", webhook_views.hubspot_webhook, name="webhooks-hubspot"),
]
