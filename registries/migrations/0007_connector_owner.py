"""Connector ownership: a connector belongs to the tenant whose draft first published it (connectors
published before ownership existed: that draft's tenant, else the platform tenant), and keeps a history
of ownership transfers."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def owners_from_first_publish(apps, schema_editor):
    Connector = apps.get_model("registries", "Connector")
    Draft = apps.get_model("workbench", "WorkbenchDraft")
    Tenant = apps.get_model("workbench", "Tenant")
    platform = None
    for connector in Connector.objects.filter(owner__isnull=True):
        first = (
            Draft.objects.filter(connector_id=connector.connector_id, status="published")
            .order_by("published_at", "pk")
            .first()
        )
        if first is not None:
            connector.owner_id = first.tenant_id
        else:
            if platform is None:
                platform, _ = Tenant.objects.get_or_create(
                    slug=settings.WORKBENCH_PLATFORM_TENANT, defaults={"name": "Workbench (platform)"}
                )
            connector.owner_id = platform.pk
        connector.save(update_fields=["owner"])


class Migration(migrations.Migration):

    dependencies = [
        ('registries', '0006_domain_rows_per_tenant'),
        ('workbench', '0004_auditors_and_draft_authors'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='connector',
            name='owner',
            field=models.ForeignKey(help_text='The tenant whose draft first published it: only its members open drafts of it and publish its next versions. Platform staff transfer it.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='connectors', to='workbench.tenant'),
        ),
        migrations.CreateModel(
            name='HistoricalConnector',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('connector_id', models.CharField(db_index=True, error_messages={'unique': 'A connector with this id already exists.'}, max_length=63, validators=[django.core.validators.RegexValidator('^[a-z][a-z0-9-]{1,62}$', code='invalid_identifier', message="Enter a valid connector id: lower-case letters, digits, hyphens, for example 'github' (pattern ^[a-z][a-z0-9-]{1,62}$).")])),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('owner', models.ForeignKey(blank=True, db_constraint=False, help_text='The tenant whose draft first published it: only its members open drafts of it and publish its next versions. Platform staff transfer it.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.tenant')),
            ],
            options={
                'verbose_name': 'historical connector',
                'verbose_name_plural': 'historical connectors',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(owners_from_first_publish, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='connector',
            name='owner',
            field=models.ForeignKey(help_text='The tenant whose draft first published it: only its members open drafts of it and publish its next versions. Platform staff transfer it.', on_delete=django.db.models.deletion.PROTECT, related_name='connectors', to='workbench.tenant'),
        ),
    ]
