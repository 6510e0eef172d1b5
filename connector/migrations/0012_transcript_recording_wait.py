from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("connector", "0011_wfreg_external_registration"),
    ]

    operations = [
        migrations.AddField(
            model_name="recording",
            name="transcript_wait_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
