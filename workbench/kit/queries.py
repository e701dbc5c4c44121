"""Query expressions the list pages share."""

from django.db.models import Func, IntegerField, Subquery


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset (filtered with OuterRef), as one integer column of the outer row.

    A list page that shows a count per row asks it this way, row by row over the page only, instead of
    a GROUP BY over every row of both tables (which also costs the page's total count)."""

    output_field = IntegerField()

    def __init__(self, queryset, **kwargs):
        counted = queryset.order_by().annotate(_count=Func("pk", function="COUNT")).values("_count")
        super().__init__(counted, **kwargs)
