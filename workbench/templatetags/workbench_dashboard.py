"""{% workbench_dashboard %}: the admin index's at-a-glance panels (workbench/selectors/dashboard.py)."""

from django import template
from django.contrib import admin

from workbench.models import TsvExchange
from workbench.selectors.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/workbench/dashboard.html", takes_context=True)
def workbench_dashboard(context):
    request = context["request"]
    # "Import a TSV" is offered by whom the TSV exchange page lets import (the sheets they may run).
    may_import_tsv = admin.site.get_model_admin(TsvExchange).has_import_permission(request)
    return {"dashboard": dashboard(request.user, may_import_tsv=may_import_tsv)}
