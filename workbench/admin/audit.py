"""The audit trail in the admin: security events, read-only for everyone (no add, change or delete, not
even for superusers), filtered by kind, tenant, actor and time, searched by actor, subject or IP address,
and exported as TSV. Who sees which events is `security_events_visible_to`."""

import json

from django.contrib import admin
from django.utils.html import format_html
from import_export.signals import post_export

from workbench.exchange.security_events import SecurityEventResource
from workbench.kit.admin import ReadOnlyAdmin
from workbench.kit.admin.base import primary_key
from workbench.kit.admin.exchange import TsvExportAdmin
from workbench.kit.exchange.http import tsv_response
from workbench.models import SecurityEvent
from workbench.selectors.audit import security_events_visible_to


@admin.register(SecurityEvent)
class SecurityEventAdmin(TsvExportAdmin, ReadOnlyAdmin):
    tsv_export = SecurityEventResource
    list_display = ["at", "kind", "actor_username", "subject", "tenant", "ip"]
    list_filter = [
        "kind",
        ("tenant", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        "at",
    ]
    list_select_related = ["tenant"]
    search_fields = ["actor_username", "subject", "ip"]
    date_hierarchy = "at"
    list_per_page = 100
    fields = ["at", "kind", "actor", "actor_username", "subject", "tenant", "ip", "user_agent", "detail_json"]
    readonly_fields = fields

    def get_queryset(self, request):
        return security_events_visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        pk = primary_key(self.model, object_id)
        if pk is None:
            return None
        return self.get_queryset(request).filter(pk=pk).first()

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # The rows the list shows (filters, search, selection), within what this user may read.
        post_export.send(sender=None, model=self.model)
        return tsv_response(self.tsv_export(user=request.user), within=queryset)

    @admin.display(description="detail")
    def detail_json(self, obj):
        text = json.dumps(obj.detail, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)
