from django.apps import AppConfig


class ConnectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "connector"

    def ready(self) -> None:
        # Say at start whether tasks go to workers or run in-process (no broker configured).
        from zoomsync.celery import log_mode

        log_mode()
