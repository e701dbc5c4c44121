"""Imports of policy rows from TSV: firearms, firearm grants and KPI corridors.

Firearms and corridors are plain rows: each row is checked with the model's full_clean, as row_save
does, and reported on its line; then all rows are written together with one history row each
(simple-history's bulk_create_with_history / bulk_update_with_history, attributed to the importing
user with the file name as the reason). Grants go through the grant service's `GrantBatch`, which checks
each row as `firearm_grant_create` checks one grant (granted_by is the importing user, a reason is
required), so an import refuses what the admin and the API refuse: a tenant the importer does not own
(column `tenant`), a grant to themself (column `principal`); then it writes them all in bulk with their
history rows. What the rows refer to (firearms, tenants, groups, members) is read once for the file,
not once per row. A grant is never edited: a row naming an existing grant by `uid` must match it
(unchanged) or is an error; a row with an empty uid gives a new grant.

Firearms and corridors are platform rows: only platform staff import them (403 before the file is read).
"""

import uuid

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from import_export import widgets
from import_export.fields import Field
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from policies.models import Firearm, FirearmGrant, KpiCorridor, KpiDefinition
from policies.services.grants import GrantBatch
from workbench.kit import access
from workbench.kit.exchange import tsv
from workbench.kit.exchange.importing import RefCell, TsvImportResource
from workbench.kit.models import stored_references
from workbench.tenancy.models import Tenant


class PlainRowImport(TsvImportResource):
    """Plain policy rows: full_clean per row, then written in bulk with their history rows."""

    class Meta:
        use_bulk = True
        batch_size = 1000

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # No query per row: the loader read the stored rows this file names (a new row's
            # identifier is free unless another line has it, which is refused), references are rows
            # read for the file (RefCell), and the field validators and clean() are the database
            # constraints' own rules (workbench.kit.identifiers).
            exclude = {*errors, *stored_references(instance)}
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _written_fields(self):
        id_attributes = {self.fields[name].attribute for name in self.get_import_id_fields()}
        return [
            field.attribute
            for field in self.get_import_fields()
            if not field.readonly and field.attribute not in id_attributes
        ]

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.create_instances and (using_transactions or not dry_run):
            try:
                bulk_create_with_history(
                    self.create_instances,
                    self._meta.model,
                    batch_size=batch_size,
                    default_user=self.user,
                    default_change_reason=self.change_reason(),
                )
            except Exception as exc:  # reported as a file error; the transaction rolls every row back
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.update_instances and (using_transactions or not dry_run):
            try:
                bulk_update_with_history(
                    self.update_instances,
                    self._meta.model,
                    self._written_fields(),
                    batch_size=batch_size,
                    default_user=self.user,
                    default_change_reason=self.change_reason(),
                )
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.update_instances.clear()


class FirearmResource(PlainRowImport):
    kind = "firearms"
    import_permissions = ("policies.add_firearm", "policies.change_firearm")
    required_columns = ("firearm_id",)

    firearm_id = Field(attribute="firearm_id", column_name="firearm_id", widget=tsv.TextCell())
    name = Field(attribute="name", column_name="name", widget=tsv.TextCell())
    severity = Field(attribute="severity", column_name="severity", widget=tsv.TextCell())
    description = Field(attribute="description", column_name="description", widget=tsv.TextCell())

    class Meta:
        model = Firearm
        fields = ("firearm_id", "name", "severity", "description")
        import_id_fields = ("firearm_id",)


class KpiCorridorResource(PlainRowImport):
    kind = "kpi-corridors"
    import_permissions = ("policies.add_kpicorridor", "policies.change_kpicorridor")
    required_columns = ("kpi_id",)
    error_columns = {"kpi": "kpi_id"}

    kpi_id = Field(attribute="kpi", column_name="kpi_id", widget=RefCell(KpiDefinition, "kpi_id"))
    critical_lower = Field(attribute="critical_lower", column_name="critical_lower", widget=tsv.DecimalCell())
    lower = Field(attribute="lower", column_name="lower", widget=tsv.DecimalCell())
    upper = Field(attribute="upper", column_name="upper", widget=tsv.DecimalCell())
    critical_upper = Field(attribute="critical_upper", column_name="critical_upper", widget=tsv.DecimalCell())
    note = Field(attribute="note", column_name="note", widget=tsv.TextCell())

    class Meta:
        model = KpiCorridor
        fields = ("kpi_id", "critical_lower", "lower", "upper", "critical_upper", "note")
        import_id_fields = ("kpi_id",)


class UidCell(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return uuid.UUID(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a grant uid; leave it empty for a new grant.") from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


PRINCIPALS = frozenset(FirearmGrant.PrincipalType.values)


class FirearmGrantResource(TsvImportResource):
    """`tenant` is the tenant the grant is given within: required for user and group grants; a tenant
    grant's tenant is its principal (the column may be left empty)."""

    kind = "firearm-grants"
    import_permissions = ("policies.add_firearmgrant",)
    required_columns = ("firearm_id", "principal_type", "principal", "reason")
    error_columns = {
        "firearm": "firearm_id",
        "user": "principal",
        "group": "principal",
        "principal_name": "principal",
        "tenant_slug": "tenant",
    }

    uid = Field(attribute="uid", column_name="uid", widget=UidCell(), readonly=True)
    firearm_id = Field(attribute="firearm", column_name="firearm_id", widget=RefCell(Firearm, "firearm_id"))
    tenant = Field(attribute="tenant_slug", column_name="tenant", widget=tsv.TextCell())
    principal_type = Field(attribute="principal_type", column_name="principal_type", widget=tsv.TextCell())
    principal = Field(attribute="principal_name", column_name="principal", widget=tsv.TextCell())
    reason = Field(attribute="reason", column_name="reason", widget=tsv.TextCell())
    expires_at = Field(attribute="expires_at", column_name="expires_at", widget=tsv.TimeCell())

    class Meta:
        model = FirearmGrant
        fields = ("uid", "firearm_id", "tenant", "principal_type", "principal", "reason", "expires_at")
        import_id_fields = ("uid",)
        use_bulk = True  # checked row by row (save_instance), written together after the last row
        skip_diff = True  # no copy of each row's instance to compare: a grant never changes (skip_row)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batch = None
        self._named = {}  # (model, name) -> row, or None when looked up and not found

    def before_import(self, dataset, **kwargs):
        """The tenants and groups the file names, and the users it names among those tenants' members,
        read in one query per 500 names instead of one per row."""
        super().before_import(dataset, **kwargs)
        self.batch, self._named = GrantBatch(granted_by=self.user), {}
        slugs, groups, users = set(), set(), set()
        text, tenant_kind = tsv.TextCell(), FirearmGrant.PrincipalType.TENANT
        for row in dataset.dict if "principal_type" in (dataset.headers or ()) else ():
            kind, name = text.clean(row.get("principal_type")), text.clean(row.get("principal"))
            slug = text.clean(row.get("tenant")) or (name if kind == tenant_kind else "")
            slugs.add(slug)
            if kind == FirearmGrant.PrincipalType.GROUP:
                groups.add(name)
            elif kind == FirearmGrant.PrincipalType.USER:
                users.add((slug, name))
        self._look_up(Tenant, "slug", slugs)
        self._look_up(Group, "name", groups)
        self.batch.find_members((self._named.get((Tenant, slug)), name) for slug, name in users)

    def _look_up(self, model, key, names):
        names = sorted(set(names) - {""})
        for start in range(0, len(names), GrantBatch.CHUNK):
            chunk = names[start : start + GrantBatch.CHUNK]
            found = {getattr(row, key): row for row in model._default_manager.filter(**{f"{key}__in": chunk})}
            self._named.update(((model, name), found.get(name)) for name in chunk)

    def _named_row(self, model, key, name):
        if (model, name) not in self._named:
            self._named[(model, name)] = model._default_manager.filter(**{key: name}).first()
        return self._named[(model, name)]

    def _check_import_id_fields(self, headers):
        # A file without a uid column is a file of new grants.
        pass

    def row_label(self, row):
        return f"{row.get('firearm_id', '')} -> {row.get('principal_type', '')} {row.get('principal', '')}"

    def error_column(self, entry):
        # Granting to oneself is about who receives the grant, whatever the principal's type.
        return "principal" if entry["code"] == "self_grant" else super().error_column(entry)

    def get_instance(self, instance_loader, row):
        instance = super().get_instance(instance_loader, row)
        if instance is None and "uid" in row and self.fields["uid"].clean(row) is not None:
            raise ValidationError({"uid": "No grant has this uid; leave uid empty to give a new grant."})
        return instance

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # A stored grant that gets here is unchanged: import_instance refuses any change.
        return instance.pk is not None and not import_validation_errors

    def after_init_instance(self, instance, new, row, **kwargs):
        principal = None if new else instance.principal
        instance.principal_name = "" if principal is None else str(principal)
        instance.tenant_slug = "" if new else instance.tenant.slug

    def import_instance(self, instance, row, **kwargs):
        columns = [field for field in self.get_import_fields() if field.column_name in row]
        before = [field.export(instance) for field in columns] if instance.pk else None
        super().import_instance(instance, row, **kwargs)
        if before is not None:
            changed = {
                field.attribute: "A grant never changes once given: revoke it in the admin, then grant again "
                "on a row with an empty uid."
                for field, cell in zip(columns, before, strict=True)
                if field.export(instance) != cell
            }
            if changed:
                raise ValidationError(changed)
            return
        self._resolve_principal(instance)

    def _resolve_principal(self, instance):
        """The row's tenant first, then its principal: a user among that tenant's members (so a file
        learns nothing about users elsewhere), a group, or the tenant itself."""
        kind = instance.principal_type
        if kind not in PRINCIPALS:
            raise ValidationError({"principal_type": f"Expected user, group or tenant, not {kind!r}."})
        name = instance.principal_name
        if not name:
            raise ValidationError({"principal_name": f"Name the {kind}."})
        is_tenant = kind == FirearmGrant.PrincipalType.TENANT
        slug = instance.tenant_slug or (name if is_tenant else "")
        if not slug:
            raise ValidationError({"tenant_slug": f"Name the tenant the {kind} grant is given within."})
        if is_tenant and slug != name:
            raise ValidationError({"tenant_slug": f"A tenant grant is given within its tenant: {name!r}."})
        tenant = self._named_row(Tenant, "slug", slug)
        if tenant is None:
            raise ValidationError({"tenant_slug": f"No tenant {slug!r}."})
        if kind == FirearmGrant.PrincipalType.USER:
            found = self._grants().member(tenant, name)
        elif kind == FirearmGrant.PrincipalType.GROUP:
            found = self._named_row(Group, "name", name)
        else:
            found = tenant if tenant.slug == name else None
        if found is None:
            where = f" among the members of {slug!r}" if kind == FirearmGrant.PrincipalType.USER else ""
            raise ValidationError({"principal_name": f"No {kind} {name!r}{where}."})
        instance.user = found if kind == FirearmGrant.PrincipalType.USER else None
        instance.group = found if kind == FirearmGrant.PrincipalType.GROUP else None
        instance.tenant = tenant

    def get_queryset(self):
        # Rows named by uid are looked up among the grants the importer may read, no others.
        return access.readable(self.user, super().get_queryset())

    def _grants(self):
        if self.batch is None:  # rows imported without import_data (before_import)
            self.batch = GrantBatch(granted_by=self.user)
        return self.batch

    def save_instance(self, instance, is_create, row, **kwargs):
        # The grant service checks the row's grant now (a refusal is this row's error); the batch
        # writes it with the others after the last row (bulk_create).
        self.before_save_instance(instance, row, **kwargs)
        if self.user is None:
            raise ValidationError("An import of grants needs the importing user (granted_by).")
        self._grants().add(instance)
        self.after_save_instance(instance, row, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self.create_instances.clear()
        if self.batch is None or not self.batch.grants or not (using_transactions or not dry_run):
            return
        try:
            self.batch.write()
        except Exception as exc:  # reported as a file error; the transaction rolls every row back
            self.handle_import_error(result, exc, raise_errors)
