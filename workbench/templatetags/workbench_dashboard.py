"""{% workbench_dashboard %}: the admin index's at-a-glance panels (workbench/selectors/dashboard.py)."""

from django import template

from workbench.selectors.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/workbench/dashboard.html", takes_context=True)
def workbench_dashboard(context):
    return {"dashboard": dashboard(context["request"].user)}
