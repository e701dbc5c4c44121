"""Draft history keeps snapshots by digest: each spec or policy document once (DraftSnapshot), each
history row pointing at its two. This step adds the table and the references and moves the content of
the rows already there into snapshots; 0006 drops the copies."""

import hashlib
import json

import django.db.models.deletion
from django.db import migrations, models

import workbench.models.snapshots

CHUNK = 500


def _digest(content):
    # As workbench.models.drafts.snapshot_digest computes it today, frozen here with the migration.
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def history_into_snapshots(apps, schema_editor):
    Snapshot = apps.get_model("workbench", "DraftSnapshot")
    History = apps.get_model("workbench", "HistoricalWorkbenchDraft")
    rows = History.objects.order_by("history_id").only("history_id", "spec_snapshot", "policy_snapshot")
    chunk = []
    for row in rows.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            _move(Snapshot, History, chunk)
            chunk = []
    _move(Snapshot, History, chunk)


def _move(Snapshot, History, rows):
    documents = {}
    for row in rows:
        row.spec_content_id = _digest(row.spec_snapshot)
        row.policy_content_id = _digest(row.policy_snapshot)
        documents.setdefault(row.spec_content_id, row.spec_snapshot)
        documents.setdefault(row.policy_content_id, row.policy_snapshot)
    Snapshot.objects.bulk_create(
        [Snapshot(digest=digest, content=documents[digest]) for digest in sorted(documents)],
        ignore_conflicts=True,
    )
    History.objects.bulk_update(rows, ["spec_content", "policy_content"])


def snapshots_into_history(apps, schema_editor):
    """Backwards: each history row gets its two documents back as copies (0007 going back made every
    snapshot whole again), so migrating back to 0004 keeps every revision's content."""
    Snapshot = apps.get_model("workbench", "DraftSnapshot")
    History = apps.get_model("workbench", "HistoricalWorkbenchDraft")
    rows = History.objects.order_by("history_id").only("history_id", "spec_content", "policy_content")
    chunk = []
    for row in rows.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            _copy_back(Snapshot, History, chunk)
            chunk = []
    _copy_back(Snapshot, History, chunk)


def _copy_back(Snapshot, History, rows):
    digests = {row.spec_content_id for row in rows} | {row.policy_content_id for row in rows}
    contents = dict(Snapshot.objects.filter(pk__in=digests).values_list("digest", "content"))
    for row in rows:
        row.spec_snapshot = contents[row.spec_content_id]
        row.policy_snapshot = contents[row.policy_content_id]
    History.objects.bulk_update(rows, ["spec_snapshot", "policy_snapshot"])


class Migration(migrations.Migration):

    dependencies = [
        ("workbench", "0004_auditors_and_draft_authors"),
    ]

    operations = [
        migrations.CreateModel(
            name="DraftSnapshot",
            fields=[
                ("digest", models.CharField(editable=False, max_length=64, primary_key=True, serialize=False)),
                ("content", workbench.models.snapshots.SnapshotContentField()),
            ],
            options={
                "verbose_name": "draft snapshot",
            },
        ),
        migrations.AddField(
            model_name="historicalworkbenchdraft",
            name="spec_content",
            field=models.ForeignKey(
                db_column="spec_digest",
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workbench.draftsnapshot",
            ),
        ),
        migrations.AddField(
            model_name="historicalworkbenchdraft",
            name="policy_content",
            field=models.ForeignKey(
                db_column="policy_digest",
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workbench.draftsnapshot",
            ),
        ),
        migrations.RunPython(history_into_snapshots, snapshots_into_history),
    ]
