from django.apps import AppConfig


class ConnectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "connector"

    def ready(self) -> None:
        # Say at start whether tasks go to workers or run in-process (no broker configured).
        from zoomsync.celery import log_mode

        log_mode()
        # The one place the sync services learn how to reach a worker (they never import tasks).
        from connector import tasks
        from connector.services.sync_requests import sync_enqueue_set

        sync_enqueue_set(tasks.sync_run_enqueue)
        # ... and the one place the clients learn where their tokens come from (the client
        # layer never imports the services).
        from connector.clients.factories import token_provider_set
        from connector.services import tokens

        token_provider_set(tokens)
        # ... and, only while the sandbox is mounted, its connection hooks (a sandbox portal's
        # developer key and app id, the world check before a push); production wires none.
        from django.conf import settings

        from connector.clients.factories import connection_hooks_set

        if settings.ZOOMSYNC_SANDBOX:
            from connector.services.sandbox_connect import SandboxConnectionHooks

            connection_hooks_set(SandboxConnectionHooks())
        else:
            connection_hooks_set(None)
