"""A draft snapshot may be stored as a delta of another one (models/snapshots.py): content becomes
optional, beside base, patch and depth."""

import django.db.models.deletion
from django.db import migrations, models

import workbench.models.snapshots


class Migration(migrations.Migration):

    dependencies = [
        ("workbench", "0006_draft_history_without_copies"),
    ]

    operations = [
        migrations.AlterField(
            model_name="draftsnapshot",
            name="content",
            field=workbench.models.snapshots.SnapshotContentField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="draftsnapshot",
            name="base",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workbench.draftsnapshot",
            ),
        ),
        migrations.AddField(
            model_name="draftsnapshot",
            name="patch",
            field=workbench.models.snapshots.SnapshotContentField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="draftsnapshot",
            name="depth",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
