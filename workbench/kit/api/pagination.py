import re

from rest_framework.pagination import PageNumberPagination

from workbench.kit.refusals import Refusal, field_error

# ASCII digits only: int() would take "١" (Arabic-Indic one) and DRF would quietly ignore "²".
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


class BoundedPageNumberPagination(PageNumberPagination):
    """Page-number pagination; clients may ask for up to max_page_size rows a page, never more. `page` and
    `page_size` are whole numbers in ASCII digits, or the request is a 400 naming the parameter."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            if raw is not None and raw != "last" and not PAGE_NUMBER.fullmatch(raw):
                message = f"{name} must be a whole number in ASCII digits, not {raw[:40]!r}."
                raise Refusal(400, "invalid_page", message, errors=[field_error(name, "invalid", message)])
        return super().paginate_queryset(queryset, request, view)
