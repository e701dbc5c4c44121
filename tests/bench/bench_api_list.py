"""API list pages (connectors, scopes, firearms) vs. a plain view of the same page, both over HTTP.

Subject: GET /api/v1/<list>/ through the whole stack (middleware, token authentication, model
permission check, the access table, filter backends, pagination with its count, serializer, JSON
renderer) with a token-authenticated client of a user holding only the list's view permission.
Baseline: a plain view behind the same token authentication and model-permission check that reads the
page's count and rows with values() of the same columns (the connectors' scope count with the same
per-row subquery) and answers json.dumps of them.

Data: `rows` connectors (each one published version with a realistic schema and three scopes, so
3 x rows scopes) and `rows` firearms.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpResponse
from django.test.utils import override_settings
from django.urls import include, path
from rest_framework.views import APIView

from tests.bench.__main__ import best_of
from tests.bench.registry_kit import SCOPES_PER_CONNECTOR, bench_tools, getter, publish_connectors

REPEAT = 15


def _connector_rows(queryset):
    from registries.selectors import latest_scope_count

    rows = queryset.annotate(scope_count=latest_scope_count()).values(
        "connector_id", "name", "description", "owner__slug", "latest_spec_id", "latest_spec__version",
        "latest_spec__published_at", "latest_spec__deprecated_at", "scope_count", "created_at",
    )
    return [
        {**row, "deprecated": row.pop("latest_spec__deprecated_at") is not None} for row in rows
    ]


def _scope_rows(queryset):
    return list(queryset.values(
        "id", "connector__connector_id", "spec__version", "spec_id", "name", "description", "tools"
    ))


def _firearm_rows(queryset):
    return list(queryset.values("firearm_id", "name", "description", "severity", "created_at"))


def _lists():
    from policies.models import Firearm
    from registries.models import Connector, Scope

    # (name, URL, model, ordering, page reader, the id key of a row in the API answer and the baseline)
    return [
        ("connectors", "/api/v1/connectors/", Connector, ("connector_id",), _connector_rows,
         ("connector_id", "connector_id")),
        ("scopes", "/api/v1/scopes/", Scope, tuple(Scope._meta.ordering), _scope_rows, ("id", "id")),
        ("firearms", "/api/v1/firearms/", Firearm, tuple(Firearm._meta.ordering), _firearm_rows,
         ("firearm_id", "firearm_id")),
    ]


class PlainPage(APIView):
    """The least a list page needs: token authentication, the model permission, count and page rows."""

    model = None
    ordering = ()
    read = None

    def get(self, request):
        size = min(int(request.query_params.get("page_size", 50)), 200)
        offset = (int(request.query_params.get("page", 1)) - 1) * size
        rows = self.queryset.order_by(*self.ordering)
        body = {"count": rows.count(), "results": type(self).read(rows[offset:offset + size])}
        return HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), content_type="application/json")


def _plain_views():
    views = []
    for name, _url, model, ordering, read, _ids in _lists():
        view = type(f"Plain{name.title()}", (PlainPage,), {
            "queryset": model.objects.all(), "ordering": ordering, "read": staticmethod(read),
        })
        views.append(path(f"bench/plain/{name}/", view.as_view()))
    return views


urlpatterns = [path("", include("workbench.urls"))]


def _schema(index):
    return {
        "id": f"bench-{index:06d}", "name": f"Bench {index}", "version": "1.0.0", "tools": bench_tools(index)
    }


def _create_registry(rows):
    from policies.models import Firearm

    publish_connectors(rows, schema=_schema, description="A connector made up for the benchmark.")
    severities = [choice for choice, _ in Firearm.Severity.choices]
    Firearm.objects.bulk_create(
        [
            Firearm(
                firearm_id=f"firearm.bench_{index:06d}",
                name=f"Bench capability {index}",
                description="A dangerous capability made up for the benchmark.",
                severity=severities[index % len(severities)],
            )
            for index in range(rows)
        ],
        batch_size=1000,
    )


def _check_same_rows(name, api_body, plain_body, ids):
    api, plain = json.loads(api_body), json.loads(plain_body)
    api_ids = [row[ids[0]] for row in api["results"]]
    plain_ids = [row[ids[1]] for row in plain["results"]]
    if api["count"] != plain["count"] or api_ids != plain_ids or len(api_ids) == 0:
        raise SystemExit(f"{name}: the API page and the plain view read different rows.")


def run(*, rows):
    from tests.workbench.factories import UserFactory, token_client

    global urlpatterns
    urlpatterns = [*_plain_views(), path("", include("workbench.urls"))]
    results = []
    with transaction.atomic(), override_settings(ROOT_URLCONF=__name__):
        _create_registry(rows)
        perms = ["registries.view_connector", "registries.view_scope", "policies.view_firearm"]
        client = token_client(UserFactory(username="bench", perms=perms))
        for name, url, _model, _ordering, _read, ids in _lists():
            total = rows * SCOPES_PER_CONNECTOR if name == "scopes" else rows
            pages = [("page 1", "", 50), ("middle page", f"?page={total // 100}", 50),
                     ("page 1, page_size=200", "?page_size=200", 200)]
            for label, query, size in pages:
                subject = getter(client, url + query)
                baseline = getter(client, f"/bench/plain/{name}/{query}")
                _check_same_rows(name, subject(), baseline(), ids)
                results.append((
                    f"{name} list, {label} ({size} of {total})",
                    best_of(baseline, REPEAT),
                    best_of(subject, REPEAT),
                ))
        transaction.set_rollback(True)
    return results
