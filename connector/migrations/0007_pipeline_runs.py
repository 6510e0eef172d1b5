"""The pipeline's run state (B2): SyncRun phase/owner/heartbeat/full/targets/again columns,
DirtyPerson (who changed), PortalSyncState (what is remembered between runs), and the nightly
full reconciliation beat entry (django-celery-beat; its time is ZOOMSYNC_RECONCILE_AT, "HH:MM"
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
        ('connector', '0006_sync_run_part'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='DirtyPerson',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.CharField(max_length=254)),
                ('marked_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='PortalSyncState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rules_fingerprint', models.CharField(blank=True, max_length=64)),
                ('computed_at', models.DateTimeField(blank=True, null=True)),
                ('schema_fingerprint', models.CharField(blank=True, max_length=64)),
                ('template_ids', models.JSONField(blank=True, default=dict)),
                ('account_users', models.JSONField(blank=True, default=list)),
                ('checked_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name='syncrun',
            name='again_full',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='again_webinar_ids',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='full',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='owner',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='phase',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='requested_again',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='webinar_ids',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='syncrun',
            index=models.Index(fields=['portal', 'status'], name='connector_s_portal__f80e52_idx'),
        ),
        migrations.AddField(
            model_name='dirtyperson',
            name='portal',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dirty_people', to='connector.portal'),
        ),
        migrations.AddField(
            model_name='portalsyncstate',
            name='portal',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sync_state', to='connector.portal'),
        ),
        migrations.AddConstraint(
            model_name='dirtyperson',
            constraint=models.UniqueConstraint(fields=('portal', 'email'), name='uniq_dirty_person'),
        ),
        migrations.RunPython(reconcile_entry_create, reconcile_entry_delete),
    ]
