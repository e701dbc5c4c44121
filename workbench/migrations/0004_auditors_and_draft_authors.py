"""Auditors (workbench.audit_tenants) and draft authors: everyone who saved a content change of a draft,
read back from its history (a row whose spec or policy differs from the row before it)."""

from django.conf import settings
from django.db import migrations, models


def authors_from_history(apps, schema_editor):
    Draft = apps.get_model("workbench", "WorkbenchDraft")
    History = apps.get_model("workbench", "HistoricalWorkbenchDraft")
    for draft in Draft.objects.all():
        before = None
        authors = set()
        for row in History.objects.filter(id=draft.pk).order_by("history_date", "history_id"):
            content = (row.spec_snapshot, row.policy_snapshot)
            if content != before and row.history_user_id is not None:
                authors.add(row.history_user_id)
            before = content
        if authors:
            draft.authors.set(authors)


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0003_tsv_exchange_page'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='tenant',
            options={'ordering': ['slug'], 'permissions': [('audit_tenants', "Can read every tenant's rows (auditor)")]},
        ),
        migrations.AddField(
            model_name='workbenchdraft',
            name='authors',
            field=models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(authors_from_history, migrations.RunPython.noop),
    ]
