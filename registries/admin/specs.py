"""Admin for the Specs Registry: component specs, skills, and the published connectors and scopes.

Published connectors and their scopes are read-only here: they change only through a draft and
publish. Component specs are added here (atoms, lenses, curriculum) and never edited afterwards,
apart from deprecation."""

import json

from django import forms
from django.contrib import admin
from django.db.models import Count, F, OuterRef
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from registries.admin.server_json import ServerJsonDownloads
from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope, Skill
from registries.selectors import latest_scope_count
from registries.selectors.connector_page import latest_scopes_with_policy
from registries.services import component_spec_deprecate, connector_transfer
from workbench.kit.admin import (
    HistoryAdmin,
    NoteAdmin,
    ReadOnlyAdmin,
    RowAdmin,
    adopt,
    model_perm,
    pre,
    run_with_reason,
)
from workbench.kit.queries import SubqueryCount
from workbench.kit.rows import row_save
from workbench.tenancy.access import is_platform_staff, tenant_ids
from workbench.tenancy.models import Membership, Tenant


class DeprecatedFilter(admin.SimpleListFilter):
    title = "deprecated"
    parameter_name = "deprecated"

    def lookups(self, request, model_admin):
        return [("yes", "deprecated"), ("no", "current")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(deprecated_at__isnull=self.value() == "no")
        return queryset


class ComponentSpecAddForm(forms.ModelForm):
    class Meta:
        model = ComponentSpec
        fields = ["spec_id", "version", "kind", "name", "description", "schema", "metadata"]
        help_texts = {
            "version": "MAJOR.MINOR.PATCH. A published version never changes: publish a higher one instead.",
            "metadata": "JSON object. MCP connectors are published through drafts, not added here.",
        }

    def clean_metadata(self):
        metadata = self.cleaned_data.get("metadata")
        if isinstance(metadata, dict) and metadata.get("spec_class") == MCP_CONNECTOR_CLASS:
            raise forms.ValidationError("MCP connectors are published through a draft, not added as a spec.")
        return metadata


class SpecVersionAdmin(NoteAdmin, RowAdmin):
    """Shared by component specs and skills: add once, then only the deprecation message changes."""

    admin_note = (
        "A published version never changes and is never deleted: publish a higher version, or deprecate "
        "this one with a message saying what to use instead."
    )

    list_filter = [DeprecatedFilter]
    list_select_related = ["published_by"]
    date_hierarchy = "published_at"
    actions = ["deprecate_selected"]
    readonly_change_fields = (
        "spec_id", "version", "kind", "name", "description", "schema_json", "metadata_json",
        "published_at", "published_by", "deprecated_at",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return [*self.readonly_change_fields, "deprecation_message"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return list(self.readonly_change_fields)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            # The add form's extra fields (skill title, markdown...) mean nothing once published.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="status", ordering="deprecated_at")
    def status(self, obj):
        return "deprecated" if obj.deprecated_at else "current"

    @admin.display(description="schema")
    def schema_json(self, obj):
        return pre(json.dumps(obj.schema, indent=2, ensure_ascii=False))

    @admin.display(description="metadata")
    def metadata_json(self, obj):
        return pre(json.dumps(obj.metadata, indent=2, ensure_ascii=False))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.published_by = request.user
            self.call_service(row_save, instance=obj, user=request.user)
            return
        if not form.has_changed():
            return
        message = form.cleaned_data.get("deprecation_message", "")
        if message.strip():
            deprecated = self.call_service(
                component_spec_deprecate, spec=obj, message=message, user=request.user
            )
            adopt(obj, deprecated)
        else:
            # An emptied message withdraws the deprecation (a mistaken one, usually).
            obj.deprecated_at = None
            self.call_service(row_save, instance=obj, user=request.user)

    @admin.action(description="Deprecate selected versions", permissions=["change"])
    def deprecate_selected(self, request, queryset):
        return run_with_reason(
            self, request, queryset, action="deprecate_selected",
            apply=lambda spec, message: component_spec_deprecate(
                spec=spec, message=message, user=request.user
            ),
            title="Deprecate selected versions", label="Deprecation message",
            help_text="Why these versions are deprecated and what to use instead; users see this message.",
            submit="Deprecate", done="Deprecated {count} version(s).",
        )


@admin.register(ComponentSpec)
class ComponentSpecAdmin(SpecVersionAdmin):
    form = ComponentSpecAddForm
    list_display = ["spec_id", "version", "kind", "name", "status", "published_at", "published_by"]
    list_filter = ["kind", DeprecatedFilter]
    search_fields = ["spec_id", "name", "description"]


class SkillForm(forms.ModelForm):
    """Title, markdown and connector are what a skill author thinks in; they land in name and metadata."""

    title = forms.CharField(max_length=200)
    markdown = forms.CharField(widget=forms.Textarea(attrs={"rows": 20, "cols": 100}))
    connector = forms.ModelChoiceField(
        Connector.objects.all(), to_field_name="connector_id", required=False,
        help_text="The connector this walkthrough is about, if any.",
    )

    class Meta:
        model = Skill
        fields = ["spec_id", "version", "description"]

    def clean(self):
        cleaned = super().clean()
        connector = cleaned.get("connector")
        self.instance.kind = ComponentSpec.Kind.CURRICULUM
        self.instance.name = cleaned.get("title", "")
        self.instance.metadata = {"markdown": cleaned.get("markdown", "")}
        if connector is not None:
            self.instance.metadata["connector_id"] = connector.connector_id
        return cleaned


@admin.register(Skill)
class SkillAdmin(SpecVersionAdmin):
    form = SkillForm
    fields = ["spec_id", "version", "title", "connector", "description", "markdown"]
    list_display = ["spec_id", "version", "name", "connector_id", "status", "published_at", "published_by"]
    search_fields = ["spec_id", "name", "description"]
    readonly_change_fields = (
        "spec_id", "version", "name", "connector_id", "description", "markdown_text",
        "published_at", "published_by", "deprecated_at",
    )

    @admin.display(description="connector")
    def connector_id(self, obj):
        return obj.connector_id or "-"

    @admin.display(description="markdown")
    def markdown_text(self, obj):
        return pre(obj.markdown)


class HasPublishedVersionFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", "has a published version"), ("no", "no published version"),
                ("deprecated", "latest version deprecated")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(latest_spec__isnull=False)
        if self.value() == "no":
            return queryset.filter(latest_spec__isnull=True)
        if self.value() == "deprecated":
            return queryset.filter(latest_spec__deprecated_at__isnull=False)
        return queryset


@admin.register(Connector)
class ConnectorAdmin(ServerJsonDownloads, NoteAdmin, HistoryAdmin, ReadOnlyAdmin):
    """Read-only: published connectors change only through a draft and publish; platform staff transfer
    a connector to another tenant with the "Transfer ownership" action (kept in its history). Its TSV
    sheet (connectors.tsv) is on the workbench's TSV exchange page."""

    admin_note = (
        "Read-only: a published connector changes only through a draft and publish (a new version), by "
        "members of the tenant that owns it. Platform staff transfer ownership with the action below."
    )

    list_display = [
        "connector_id", "name", "owner", "latest_version", "scope_count", "version_count", "created_at",
    ]
    list_filter = [HasPublishedVersionFilter, ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["latest_spec", "owner"]
    search_fields = ["connector_id", "name", "description"]
    fields = [
        "connector_id", "name", "description", "owner", "latest_spec", "versions_table", "latest_scopes",
        "server_json_download", "created_at",
    ]
    readonly_fields = fields
    actions = ["transfer_selected"]
    change_form_template = "admin/registries/connector/change_form.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["start_next_version"] = self.start_next_version(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def start_next_version(request, connector):
        """What the "Start next version" button posts (to the draft add page, whose service decides), or
        None when the user may not start one: no draft permission, nothing published, or (PRODUCT.md
        section 10) not an owner or editor of the tenant owning the connector."""
        if connector.latest_spec_id is None or not request.user.has_perm("workbench.add_workbenchdraft"):
            return None
        if connector.owner_id is not None:
            writers = tenant_ids(request.user, roles=[Membership.Role.OWNER, Membership.Role.EDITOR])
            if not writers.filter(tenant_id=connector.owner_id).exists():
                return None
        return {"connector_id": connector.connector_id, "tenant": connector.owner_id or ""}

    def has_transfer_permission(self, request):
        return model_perm(request, self.model._meta, "change") and is_platform_staff(request.user)

    @admin.action(description="Transfer ownership of selected connectors", permissions=["transfer"])
    def transfer_selected(self, request, queryset):
        return run_with_reason(
            self, request, queryset, action="transfer_selected",
            apply=lambda connector, reason, tenant: connector_transfer(
                connector=connector, tenant=tenant, user=request.user, reason=reason
            ),
            fields={"tenant": forms.ModelChoiceField(
                Tenant.objects.all(), to_field_name="slug", help_text="The tenant that owns them next."
            )},
            title="Transfer ownership", label="Reason",
            help_text="Why the connectors change hands; kept in each connector's history.",
            submit="Transfer", done="Transferred {count} connector(s).",
        )

    def get_queryset(self, request):
        versions = ComponentSpec.objects.filter(
            spec_id=OuterRef("connector_id"), kind=ComponentSpec.Kind.COMPONENT
        )
        return super().get_queryset(request).annotate(
            latest_scope_count=latest_scope_count(), version_total=SubqueryCount(versions)
        )

    @admin.display(description="latest version", ordering="latest_spec__version_major")
    def latest_version(self, obj):
        spec = obj.latest_spec
        if spec is None:
            return "-"
        return f"{spec.version} (deprecated)" if spec.deprecated_at else spec.version

    @admin.display(description="scopes", ordering="latest_scope_count")
    def scope_count(self, obj):
        return obj.latest_scope_count

    @admin.display(description="versions", ordering="version_total")
    def version_count(self, obj):
        return obj.version_total

    @admin.display(description="scopes of the latest version")
    def latest_scopes(self, obj):
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:registries_scope_change", args=[row.scope.pk]), row.scope.name,
                    self._firearm(row.firearm), self._kpis(row.kpis), ", ".join(row.scope.tools) or "-",
                )
                for row in latest_scopes_with_policy(obj)
            ),
        )
        if not rows:
            return "No published scopes yet."
        return format_html(
            '<table class="connector-scopes"><thead><tr><th>scope</th><th>firearm decision</th><th>KPIs</th>'
            "<th>tools</th></tr></thead><tbody>{}</tbody></table>", rows,
        )

    @staticmethod
    def _firearm(firearm):
        if firearm is None:
            return format_html('<span title="{}">NONE</span>', "decided: no firearm")
        url = reverse("admin:policies_firearm_change", args=[firearm.pk])
        return format_html('<a href="{}">{}</a> ({})', url, firearm.firearm_id, firearm.severity)

    @staticmethod
    def _kpis(bindings):
        if not bindings:
            return "-"
        return format_html_join(
            ", ", '<a href="{}">{}</a> ({})',
            ((reverse("admin:policies_kpidefinition_change", args=[b.kpi.pk]), b.kpi.kpi_id, b.effect)
             for b in bindings),
        )

    @admin.display(description="published versions")
    def versions_table(self, obj):
        specs = obj.versions.annotate(scope_total=Count("scopes")).select_related("published_by")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td><a href="{}" download>server.json</a></td></tr>',
            (
                (
                    reverse("admin:registries_componentspec_change", args=[spec.pk]), spec.version,
                    spec.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"), spec.published_by or "-",
                    spec.scope_total,
                    spec.deprecation_message or ("deprecated" if spec.deprecated_at else ""),
                    self.server_json_url(obj, spec.version),
                )
                for spec in specs
            ),
        )
        if not rows:
            return "No published version yet."
        return format_html(
            "<table><thead><tr><th>version</th><th>published</th><th>by</th><th>scopes</th>"
            "<th>deprecation</th><th>download</th></tr></thead><tbody>{}</tbody></table>", rows,
        )


class LatestVersionFilter(admin.SimpleListFilter):
    title = "version"
    parameter_name = "version"

    def lookups(self, request, model_admin):
        return [("latest", "latest published version"), ("older", "older versions")]

    def queryset(self, request, queryset):
        if self.value() == "latest":
            return queryset.latest_published()
        if self.value() == "older":
            return queryset.exclude(spec_id=F("connector__latest_spec_id"))
        return queryset


@admin.register(Scope)
class ScopeAdmin(NoteAdmin, ReadOnlyAdmin):
    """Read-only: scopes are written with their connector version at publish. The policy matrix
    (export, and import into drafts) is on the workbench's TSV exchange page."""

    admin_note = "Read-only: scopes are published with their connector version, through a draft."

    list_display = ["action", "connector", "name", "version", "is_latest", "tool_list"]
    list_filter = [LatestVersionFilter, ("connector", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["connector", "spec"]
    search_fields = ["name", "connector__connector_id", "description"]
    fields = ["connector", "spec", "name", "description", "tool_list"]
    readonly_fields = fields

    @admin.display(description="action", ordering="connector__connector_id")
    def action(self, obj):
        return obj.action_name

    @admin.display(description="version", ordering="spec__version_major")
    def version(self, obj):
        return obj.spec.version

    @admin.display(description="latest", boolean=True)
    def is_latest(self, obj):
        return obj.spec_id == obj.connector.latest_spec_id

    @admin.display(description="tools")
    def tool_list(self, obj):
        return ", ".join(obj.tools)
