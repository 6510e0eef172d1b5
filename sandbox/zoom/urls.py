"""Fake Zoom routes (mounted at /zoom/). Parameter names match the spec's path templates, so
call keys read like the spec: "GET /v2/users/{userId}/webinars"."""

from django.urls import path

from sandbox.zoom import views

urlpatterns = [
    path("oauth/token", views.oauth_token, name="zoom-oauth-token"),
    path("oauth/authorize", views.oauth_authorize, name="zoom-oauth-authorize"),
    path("v2/users", views.users_list),
    path("v2/users/<str:userId>", views.user_get),
    path("v2/users/<str:userId>/webinars", views.user_webinars),
    path("v2/webinars/<str:webinarId>", views.webinar_get),
    path("v2/webinars/<str:webinarId>/registrants", views.webinar_registrants),
    path("v2/webinars/<str:webinarId>/registrants/questions", views.registrant_questions),
    path("v2/past_webinars/<str:webinarId>/instances", views.past_instances),
    # <path:...> so that a UUID with "/" reaches the view, which answers Zoom's 404 3001.
    path("v2/past_webinars/<path:webinarId>/participants", views.past_participants),
    path("v2/report/webinars/<path:webinarId>/participants", views.report_participants),
    path("v2/report/webinars/<path:webinarId>", views.report_webinar),
    path("v2/meetings/<path:meetingId>/recordings", views.recordings_get),
    path("v2/zoom_events/events", views.events_list),
    path("v2/zoom_events/events/<str:eventId>/sessions", views.event_sessions),
]
