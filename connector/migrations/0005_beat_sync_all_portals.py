"""The database-managed Celery beat entry: every 15 minutes, sync every active portal.

Created idempotently (get_or_create by name), so re-running migrations or a manual edit of
the interval in the admin is kept.
"""

from django.db import migrations

TASK_NAME = "zoomsync: sync all portals"


def beat_entry_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    schedule, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "connector.tasks.portal_sync_all_task",
            "interval": schedule,
            "queue": "sync",
            "enabled": True,
            "description": "Safety-net polling: queue a sync for every active portal.",
        },
    )
    if created:
        # Tell a running DatabaseScheduler that the schedule changed.
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def beat_entry_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connector", "0004_registrant_last_seen_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(beat_entry_create, beat_entry_delete)]
