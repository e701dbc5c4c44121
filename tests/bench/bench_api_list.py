"""API list page of firearms vs. the same rows read with values() and json.dumps.

Subject: GET /api/v1/firearms/ through the whole stack (middleware, token authentication, model
permission check, filter backends, pagination with its count, serializer, JSON renderer) with a
token-authenticated client of a user holding only policies.view_firearm.
Baseline: the page's count and rows with values() of the fields the API returns, and json.dumps.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from tests.bench.__main__ import best_of

URL = "/api/v1/firearms/"
REPEAT = 15
PAGES = [
    # (label, query, page size, offset)
    ("page 1", "", 50, 0),
    ("middle page", "?page=100", 50, 4950),
    ("page 1, page_size=200", "?page_size=200", 200, 0),
]


def _create_firearms(rows):
    from policies.models import Firearm

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


def _client():
    from tests.workbench.factories import UserFactory, token_client

    return token_client(UserFactory(username="bench", perms=["policies.view_firearm"]))


def _subject(client, url):
    def request():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return response.content

    return request


def _baseline(fields, size, offset):
    from policies.models import Firearm

    def read():
        rows = Firearm.objects.order_by(*Firearm._meta.ordering)
        body = {"count": rows.count(), "results": list(rows.values(*fields)[offset:offset + size])}
        return json.dumps(body, cls=DjangoJSONEncoder).encode()

    return read


def _check_same_rows(api_body, baseline_body):
    api = json.loads(api_body)
    base = json.loads(baseline_body)
    api_ids = [row["firearm_id"] for row in api["results"]]
    base_ids = [row["firearm_id"] for row in base["results"]]
    if api["count"] != base["count"] or api_ids != base_ids:
        raise SystemExit("The API page and the baseline read different rows; align the baseline's ordering.")


def run(*, rows):
    from policies.models import Firearm

    results = []
    with transaction.atomic():
        _create_firearms(rows)
        client = _client()
        model_fields = {field.name for field in Firearm._meta.concrete_fields}
        for label, query, size, offset in PAGES:
            if offset >= rows:
                continue
            subject = _subject(client, URL + query)
            body = subject()
            returned = json.loads(body)["results"][0].keys()
            baseline = _baseline([name for name in returned if name in model_fields], size, offset)
            _check_same_rows(body, baseline())
            name = f"firearms list, {label} ({size} of {rows})"
            results.append((name, best_of(baseline, REPEAT), best_of(subject, REPEAT)))
        transaction.set_rollback(True)
    return results
