from django.urls import path

from workflows.apis import AddToZoomWebinarApi

app_name = "workflows"
urlpatterns = [
    path("add-to-zoom-webinar", AddToZoomWebinarApi.as_view(), name="add-to-zoom-webinar"),
]
