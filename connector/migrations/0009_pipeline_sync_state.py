"""B2, the pipeline's memory between runs: PortalSyncState (the settings the last compute
used, the HubSpot definitions and account users checked once) and the nightly full
reconciliation beat entry (django-celery-beat; its time is ZOOMSYNC_RECONCILE_AT, "HH:MM"
UTC, when migrating; an admin's later edit of the crontab is kept)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

RECONCILE_TASK_NAME = "zoomsync: nightly full reconciliation"


def reconcile_entry_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    hour, _, minute = str(getattr(settings, "ZOOMSYNC_RECONCILE_AT", "03:30")).partition(":")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=str(int(minute or 0)), hour=str(int(hour)), day_of_week="*", day_of_month="*",
        month_of_year="*", timezone="UTC",
    )
    _, created = PeriodicTask.objects.get_or_create(
        name=RECONCILE_TASK_NAME,
        defaults={
            "task": "connector.tasks.portal_sync_all_task",
            "crontab": schedule,
            "kwargs": '{"full": true}',
            "queue": "sync",
            "enabled": True,
            "description": "Re-check everyone of every portal (deleted contacts, late report rows).",
        },
    )
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def reconcile_entry_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RECONCILE_TASK_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("connector", "0008_merge_parallel_work"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="PortalSyncState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rules_fingerprint", models.CharField(blank=True, max_length=64)),
                ("computed_at", models.DateTimeField(blank=True, null=True)),
                ("schema_fingerprint", models.CharField(blank=True, max_length=64)),
                ("template_ids", models.JSONField(blank=True, default=dict)),
                ("account_users", models.JSONField(blank=True, default=list)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "portal",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="sync_state", to="connector.portal"
                    ),
                ),
            ],
        ),
        migrations.RunPython(reconcile_entry_create, reconcile_entry_delete),
    ]
