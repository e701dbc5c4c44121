"""The audit trail as TSV: the security events a person may read, oldest first (the admin export, the API
download `exports/security-events.tsv`).

at (UTC), kind, actor (username as recorded), subject, tenant (slug; empty for events without one),
ip, detail (compact JSON, keys sorted). The User-Agent is left out: it is free text a client chose. Every
text was made printable when the event was recorded, so no cell holds a tab or a line break.

The actor and subject are free text a stranger can choose (the username typed at a failed sign-in), unlike
the identifiers of the product's other exports (PRODUCT.md section 6): a cell of theirs starting with
`=`, `+`, `-` or `@` gets a leading `'`, so a spreadsheet opening the file shows it as text instead of
running it as a formula (`=HYPERLINK(...)`).
"""

import json

from import_export import widgets
from import_export.fields import Field

from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import TsvExportResource
from workbench.selectors.audit import security_events_visible_to


class JsonCell(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        if value in (None, {}, []):
            return ""
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: How a spreadsheet formula starts (OWASP's CSV injection list; tabs and line breaks never reach a cell).
FORMULA_STARTS = ("=", "+", "-", "@")


class FreeTextCell(tsv.TextCell):
    """Text a stranger may have chosen, never a spreadsheet formula."""

    passthrough = False  # every value goes through render

    def render(self, value, obj=None, **kwargs):
        text = super().render(value, obj, **kwargs)
        return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class SecurityEventResource(TsvExportResource):
    kind = "security-events"
    export_permissions = ("workbench.view_securityevent",)

    at = Field(attribute="at", column_name="at", widget=tsv.TimeCell())
    event_kind = Field(attribute="kind", column_name="kind", widget=tsv.TextCell())
    actor = Field(attribute="actor_username", column_name="actor", widget=FreeTextCell())
    subject = Field(attribute="subject", column_name="subject", widget=FreeTextCell())
    tenant = Field(attribute="tenant__slug", column_name="tenant", widget=tsv.TextCell())
    ip = Field(attribute="ip", column_name="ip", widget=tsv.TextCell())
    detail = Field(attribute="detail", column_name="detail", widget=JsonCell())

    class Meta:
        fields = ("at", "event_kind", "actor", "subject", "tenant", "ip", "detail")

    def __init__(self, *, user=None, **kwargs):
        """`user`: whose events (security_events_visible_to); none gives none."""
        super().__init__(**kwargs)
        self.user = user

    def get_queryset(self):
        return security_events_visible_to(self.user).select_related(None).order_by("at", "id")
