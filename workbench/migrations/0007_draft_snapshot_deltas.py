"""A draft snapshot may be stored as a delta of another one (models/snapshots.py): content becomes
optional, beside base, patch and depth."""

import copy

import django.db.models.deletion
from django.db import migrations, models

import workbench.models.snapshots


def deltas_into_whole_documents(apps, schema_editor):
    """Backwards: a snapshot stored as a delta gets its whole document (content is required again)."""
    Snapshot = apps.get_model("workbench", "DraftSnapshot")
    rows = {row.digest: row for row in Snapshot.objects.all()}

    def whole(row):
        patches = []
        while row.base_id is not None:
            patches.append(row.patch)
            row = rows[row.base_id]
        document = copy.deepcopy(row.content)
        for patch in reversed(patches):
            document = _apply_patch(document, patch)
        return document

    deltas = [row for row in rows.values() if row.base_id is not None]
    documents = {row.digest: whole(row) for row in deltas}
    for row in deltas:
        row.content, row.base_id, row.patch, row.depth = documents[row.digest], None, None, 0
    Snapshot.objects.bulk_update(deltas, ["content", "base", "patch", "depth"], batch_size=500)


def _apply_patch(document, patch):
    # As workbench.models.snapshots.apply_patch reads a delta today, frozen here with the migration.
    for key in patch.get("unset", ()):
        document.pop(key, None)
    document.update(patch.get("set", {}))
    if "tools" in patch:
        tools = (document.get("tools") or [])[: patch["tools"]["length"]]
        tools.extend([None] * (patch["tools"]["length"] - len(tools)))
        for index, tool in patch["tools"]["changed"].items():
            tools[int(index)] = tool
        document["tools"] = tools
    return document


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
        migrations.RunPython(migrations.RunPython.noop, deltas_into_whole_documents),
    ]
