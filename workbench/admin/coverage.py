"""The admin's coverage report page (Workbench › TSV exchange › Coverage report): every engine route with
its wrapper, `mcp_wrapper_status`, policy coverage and the reasons a route is not DONE (such as "missing
dependency: entitlement store"), read-only and paginated. The rows are coverage.tsv's, from the same
selector; the page needs the permissions the coverage sheet needs."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse

from workbench.kit.admin.base import page_context
from workbench.kit.api.pagination import PAGE_NUMBER
from workbench.selectors.coverage import COVERAGE_PERMISSIONS, CoverageReport

ROUTES_PER_PAGE = 100
PAGE = "p"  # the admin changelists' page parameter


class CoveragePageMixin:
    """Adds the coverage report page to a ModelAdmin (mixed in before it)."""

    def get_urls(self):
        coverage = path(
            "coverage/", self.admin_site.admin_view(self.coverage_view), name="workbench_tsvexchange_coverage"
        )
        return [coverage, *super().get_urls()]

    def has_coverage_permission(self, request):
        return request.user.has_perms(COVERAGE_PERMISSIONS)

    def coverage_view(self, request):
        if not self.has_coverage_permission(request):
            raise PermissionDenied
        number = request.GET.get(PAGE, "1")
        if not PAGE_NUMBER.fullmatch(number):
            return HttpResponseBadRequest(f"{PAGE} must be a whole number in ASCII digits.")
        page = Paginator(CoverageReport(request.user), ROUTES_PER_PAGE).get_page(number)
        context = page_context(
            self,
            request,
            "Coverage report",
            page=page,
            rows=list(page),
            page_parameter=PAGE,
            download=reverse("admin:workbench_tsvexchange_download", args=["coverage"]),
        )
        return TemplateResponse(request, "admin/workbench/exchange/coverage.html", context)
