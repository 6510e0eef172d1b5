from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"

    def ready(self) -> None:
        from workflows.services import (
            privacy,  # noqa: F401  (erasure signal receivers)
            registration_record,  # noqa: F401  (R17: the connector's record)
        )
