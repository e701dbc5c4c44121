"""The TSV exchange page: the three cross-app sheets of PRODUCT.md section 6 in one place.

The page lists the policy matrix (scopes of each connector's latest published version, filterable);
"Export policy-matrix.tsv" downloads what the list shows, the other two sheets download whole, and
"Import TSV" takes an edited policy matrix, firearm bindings or KPI tool bindings through a preview
into drafts of the chosen tenant, and
"Coverage report" shows the coverage sheet's rows with their reasons (workbench/admin/coverage.py). Each
sheet needs the view permissions of what it shows; the page is there for whoever may use one of them.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from workbench.admin.coverage import CoveragePageMixin
from workbench.admin.drafts.views import draft_admin_url
from workbench.exchange import DRAFT_IMPORTS, EXPORTS
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.admin import NoteAdmin, ReadOnlyAdmin
from workbench.kit.admin.exchange import TsvExportAdmin, TsvImportAdmin, sentence
from workbench.kit.exchange.http import tsv_response
from workbench.models import TsvExchange
from workbench.selectors.drafts import tenants_of
from workbench.selectors.policy_matrix import latest_scopes_with_firearms


@admin.register(TsvExchange)
class TsvExchangeAdmin(CoveragePageMixin, TsvImportAdmin, TsvExportAdmin, NoteAdmin, ReadOnlyAdmin):
    tsv_export = PolicyMatrixResource
    tsv_imports = DRAFT_IMPORTS  # policy-matrix.tsv, firearm-bindings.tsv, kpi-tool-bindings.tsv
    admin_note = (
        "The policy matrix: one row per scope of each connector's latest published version. Exports are "
        "byte for byte what the API and `manage.py export_tsv` give; an imported matrix never changes the "
        "live registry, and neither do imported firearm bindings or KPI tool bindings: each becomes one "
        "draft per changed connector in your tenant."
    )
    import_export_change_list_template = "admin/workbench/exchange/sheets.html"
    list_display = ["connector", "name", "version", "firearm"]
    list_filter = [("connector", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "connector__connector_id"]
    actions = None  # the export button takes the list's filters; there is nothing else to do to rows

    def get_queryset(self, request):
        return latest_scopes_with_firearms().select_related("connector", "spec")

    def _sheets(self, request):
        return [
            resource_class
            for kind, resource_class in EXPORTS.items()
            if kind != self.tsv_export.kind and request.user.has_perms(resource_class.export_permissions)
        ]

    def has_view_permission(self, request, obj=None):
        return bool(
            self.has_export_permission(request)
            or self.has_import_permission(request)
            or self._sheets(request)
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def import_tenants(self, request):
        return tenants_of(request.user, writable=True)

    def post_import_messages(self, request, result):
        """The summary, then one message per note; where a note names a draft the import wrote, the
        draft's id links to its card (the rest of the note is escaped: it quotes the file's values)."""
        messages.success(request, f"Imported: {result.report.summary()}")
        drafts = getattr(result, "draft_notes", {})
        for note in result.report.notes:
            text, draft_id = sentence(note), drafts.get(note)
            before, found, after = text.partition(draft_id) if draft_id else (text, "", "")
            if not found:
                messages.info(request, text)
                continue
            url = draft_admin_url("change", draft_id)
            messages.info(request, format_html('{}<a href="{}">{}</a>{}', before, url, draft_id, after))

    def get_urls(self):
        download = path(
            "download/<str:kind>/",
            self.admin_site.admin_view(self.download_view),
            name="workbench_tsvexchange_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, kind):
        resource_class = EXPORTS.get(kind)
        if resource_class is None:
            raise Http404(f"No sheet {kind!r}.")
        if not request.user.has_perms(resource_class.export_permissions):
            raise PermissionDenied
        return tsv_response(resource_class())

    def changelist_view(self, request, extra_context=None):
        sheets = [
            (
                resource_class().filename,
                reverse("admin:workbench_tsvexchange_download", args=[resource_class.kind]),
            )
            for resource_class in self._sheets(request)
        ]
        coverage = self.has_coverage_permission(request) and reverse("admin:workbench_tsvexchange_coverage")
        extra_context = {**(extra_context or {}), "tsv_sheets": sheets, "coverage_page": coverage}
        return super().changelist_view(request, extra_context)

    @admin.display(description="version", ordering="spec__version_major")
    def version(self, obj):
        return obj.spec.version

    @admin.display(description="firearm", ordering="bound_firearm_id")
    def firearm(self, obj):
        return obj.bound_firearm_id or "NONE"
