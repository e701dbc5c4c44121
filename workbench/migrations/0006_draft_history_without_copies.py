"""Draft history rows keep their snapshots' digests only (0005 moved the content into DraftSnapshot)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workbench", "0005_draft_snapshots"),
    ]

    operations = [
        migrations.RemoveField(model_name="historicalworkbenchdraft", name="spec_snapshot"),
        migrations.RemoveField(model_name="historicalworkbenchdraft", name="policy_snapshot"),
        migrations.AlterField(
            model_name="historicalworkbenchdraft",
            name="spec_content",
            field=models.ForeignKey(
                db_column="spec_digest",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workbench.draftsnapshot",
            ),
        ),
        migrations.AlterField(
            model_name="historicalworkbenchdraft",
            name="policy_content",
            field=models.ForeignKey(
                db_column="policy_digest",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workbench.draftsnapshot",
            ),
        ),
    ]
