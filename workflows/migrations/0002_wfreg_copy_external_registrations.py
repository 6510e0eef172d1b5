"""R17: the registrations the workflow action made before the connector owned their record
are copied into the connector's table (the latest per portal, webinar and person)."""

from django.db import migrations
from django.db.models import F


def copy_registrations(apps, schema_editor):
    ActionExecution = apps.get_model("workflows", "ActionExecution")
    ExternalRegistration = apps.get_model("connector", "ExternalRegistration")
    latest = {}
    succeeded = (
        ActionExecution.objects.filter(status="succeeded", portal__isnull=False)
        .exclude(email="")
        .exclude(join_url="")
        .order_by(F("registered_at").asc(nulls_first=True), "pk")
    )
    for execution in succeeded.iterator():
        key = (execution.portal_id, execution.webinar_id, execution.email.strip().lower())
        latest[key] = execution  # oldest first: the last one seen is the latest
    ExternalRegistration.objects.bulk_create(
        [
            ExternalRegistration(
                portal_id=portal_id,
                zoom_account_id=execution.zoom_account_id,
                webinar_id=webinar_id,
                email=email,
                registrant_id=execution.registrant_id,
                join_url=execution.join_url,
                registered_at=execution.registered_at,
            )
            for (portal_id, webinar_id, email), execution in latest.items()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
        ("connector", "0011_wfreg_external_registration"),
    ]

    operations = [migrations.RunPython(copy_registrations, migrations.RunPython.noop)]
