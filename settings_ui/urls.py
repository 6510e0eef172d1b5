from django.urls import path  # noqa: F401

app_name = "settings_ui"
urlpatterns: list = []
