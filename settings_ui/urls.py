from django.templatetags.static import static
from django.urls import path
from django.views.generic.base import RedirectView

from settings_ui import views

app_name = "settings_ui"
urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("settings_ui/favicon.svg"), permanent=True)),
    path("portals/<int:hub_id>/", views.dashboard, name="dashboard"),
    path("portals/<int:hub_id>/connections/", views.connections, name="connections"),
    path("portals/<int:hub_id>/settings/", views.global_settings, name="global-settings"),
    path("portals/<int:hub_id>/users/", views.zoom_users, name="zoom-users"),
    path("portals/<int:hub_id>/users/<path:email>/", views.zoom_user_detail, name="zoom-user"),  # an email may hold "/"
    path("portals/<int:hub_id>/event-sinks/", views.event_sinks, name="event-sinks"),
    path(
        "portals/<int:hub_id>/registration-questions/", views.registration_questions, name="registration-questions"
    ),
    path("portals/<int:hub_id>/settings/export.json", views.settings_export, name="export"),
    path("portals/<int:hub_id>/settings/import/", views.settings_import, name="import"),
    path("portals/<int:hub_id>/audit/", views.audit_log, name="audit-log"),
    path("portals/<int:hub_id>/sync/", views.sync_now, name="sync-now"),
    path("portals/<int:hub_id>/runs/<int:run_id>/", views.run_detail, name="run"),
    path("portals/<int:hub_id>/runs/<int:run_id>/progress.json", views.run_progress, name="run-progress"),
]
