"""Grants belong to a tenant: a tenant grant to that tenant, a user grant to the user's only tenant, any
other grant to the platform tenant. Critical firearms' grants wait for a second person's approval (grants
given before: counted as they were, no approval needed)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grant_tenants(apps, schema_editor):
    Grant = apps.get_model("policies", "FirearmGrant")
    Membership = apps.get_model("workbench", "Membership")
    Tenant = apps.get_model("workbench", "Tenant")
    platform = None
    for grant in Grant.objects.filter(tenant__isnull=True):
        tenants = []
        if grant.principal_type == "user":
            tenants = list(Membership.objects.filter(user_id=grant.user_id).values_list("tenant_id", flat=True)[:2])
        if len(tenants) == 1:
            grant.tenant_id = tenants[0]
        else:
            if platform is None:
                platform, _ = Tenant.objects.get_or_create(
                    slug=settings.WORKBENCH_PLATFORM_TENANT, defaults={"name": "Workbench (platform)"}
                )
            grant.tenant_id = platform.pk
        grant.save(update_fields=["tenant"])


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('policies', '0001_initial'),
        ('workbench', '0004_auditors_and_draft_authors'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='firearmgrant',
            name='firearmgrant_exactly_one_principal',
        ),
        migrations.AddField(
            model_name='firearmgrant',
            name='approved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='firearmgrant',
            name='approved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='firearmgrant',
            name='needs_approval',
            field=models.BooleanField(default=False, help_text='A critical firearm: the grant counts once a second person approved it.'),
        ),
        migrations.AddField(
            model_name='historicalfirearmgrant',
            name='approved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='historicalfirearmgrant',
            name='approved_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalfirearmgrant',
            name='needs_approval',
            field=models.BooleanField(default=False, help_text='A critical firearm: the grant counts once a second person approved it.'),
        ),
        migrations.AlterField(
            model_name='firearmgrant',
            name='tenant',
            field=models.ForeignKey(help_text='The tenant the grant is given within (for a tenant grant: the tenant itself).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='firearm_grants', to='workbench.tenant'),
        ),
        migrations.AlterField(
            model_name='historicalfirearmgrant',
            name='tenant',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='The tenant the grant is given within (for a tenant grant: the tenant itself).', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.tenant'),
        ),
        migrations.RunPython(grant_tenants, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='firearmgrant',
            name='tenant',
            field=models.ForeignKey(help_text='The tenant the grant is given within (for a tenant grant: the tenant itself).', on_delete=django.db.models.deletion.PROTECT, related_name='firearm_grants', to='workbench.tenant'),
        ),
        migrations.AddIndex(
            model_name='firearmgrant',
            index=models.Index(fields=['tenant', 'firearm'], name='policies_fi_tenant__e91b2a_idx'),
        ),
        migrations.AddConstraint(
            model_name='firearmgrant',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('group__isnull', True), ('principal_type', 'user'), ('user__isnull', False)), models.Q(('group__isnull', False), ('principal_type', 'group'), ('user__isnull', True)), models.Q(('group__isnull', True), ('principal_type', 'tenant'), ('user__isnull', True)), _connector='OR'), name='firearmgrant_exactly_one_principal', violation_error_message='A grant names exactly one principal, matching its principal type.'),
        ),
        migrations.AddConstraint(
            model_name='firearmgrant',
            constraint=models.CheckConstraint(condition=models.Q(('approved_at__isnull', True), ('needs_approval', True), _connector='OR'), name='firearmgrant_approved_only_when_needed', violation_error_message='Only a grant that needs approval is approved.'),
        ),
    ]
