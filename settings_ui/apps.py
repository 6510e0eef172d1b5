from django.apps import AppConfig


class SettingsUiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "settings_ui"

    def ready(self) -> None:
        from settings_ui import privacy  # noqa: F401  (erasure signal receivers)
