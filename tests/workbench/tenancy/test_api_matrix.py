"""The generated authorization matrix of the API: every operation of the OpenAPI schema, for every role, on
rows of tenant A and of the platform, answers what the access table implies (2xx / 403 / 404 / 405).

An operation of the schema missing from OPERATIONS fails the test; so does a model missing from the table.
Each request runs in a savepoint that is rolled back, so every role meets the same world.
"""

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from . import world
from .expectations import ALLOWED, reads
from .operations import LIST_ROW, METHODS, OPERATIONS, ROW_ID, _url, expected, scope_of

pytestmark = pytest.mark.django_db


def _schema_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method, path) for path, item in schema["paths"].items() for method in item if method in METHODS}


def test_every_operation_of_the_schema_is_in_the_matrix():
    operations = _schema_operations()
    missing = sorted(operations - set(OPERATIONS))
    stale = sorted(set(OPERATIONS) - operations)
    assert not missing, f"add these operations to OPERATIONS: {missing}"
    assert not stale, f"these operations are no longer in the schema: {stale}"


def _cases(op):
    if op.kind == "create":
        return list(op.body)
    return list(op.rows) or [None]


def _answer(role, method, url, body, headers):
    client = APIClient()
    if role.signed_in:
        client.force_authenticate(role.user)
    with transaction.atomic():
        call = getattr(client, method)
        kwargs = {"format": "json", **headers} if method != "get" else headers
        response = call(url, body, **kwargs) if method != "get" else call(url, **kwargs)
        transaction.set_rollback(True)
    return response


def _matches(outcome, status):
    if outcome == ALLOWED:
        # Past authorization: the answer is about the request itself (a 501 not_configured tool included).
        return status not in (401, 403, 404, 405, 500)
    if outcome == 200:
        return status == 200
    return status == outcome


def _mismatches(op, method, path, roles, rows):
    found = []
    for row_name in _cases(op):
        if op.kind == "create":
            body = op.body[row_name]
        else:
            body = op.body(rows[row_name]) if callable(op.body) else (op.body or {})
        url = _url(path, rows, row_name if op.kind != "create" else None)
        for role in roles.values():
            want = expected(op, role, row_name)
            response = _answer(role, method, url, body, op.headers)
            where = f"{method.upper()} {path} as {role.name} on {row_name}"
            if not _matches(want, response.status_code):
                found.append(
                    f"{where}: want {want}, got {response.status_code} {getattr(response, 'data', '')}"
                )
            elif op.kind == "list" and response.status_code == 200 and op.label in LIST_ROW:
                listed = {op.key(item) for item in response.json()["results"]}
                row = LIST_ROW[op.label]
                shown = ROW_ID[row](rows[row]) in listed
                if shown != reads(role, op.label, scope_of(row)):
                    found.append(f"{where}: tenant A's row {'listed' if shown else 'not listed'}")
    return found


def test_every_operation_answers_every_role_as_the_table_implies():
    """One world, every operation, every role; each request rolled back."""
    roles, rows = world.build()
    mismatches = []
    for method, path in sorted(OPERATIONS):
        mismatches += _mismatches(OPERATIONS[(method, path)], method, path, roles, rows)
    assert not mismatches, "\n".join(mismatches)


def test_methods_an_endpoint_does_not_offer_answer_405():
    roles, rows = world.build()
    wrong = []
    for path in sorted({path for _, path in OPERATIONS}):
        offered = {method for method, candidate in OPERATIONS if candidate == path}
        row_name = next((op.rows[0] for op in (OPERATIONS[(m, path)] for m in offered) if op.rows), None)
        url = _url(path, rows, row_name)
        for method in sorted(set(METHODS) - offered):
            for role in (roles["anonymous"], roles["owner_a"], roles["superuser"]):
                status = _answer(role, method, url, {}, {}).status_code
                if status != (401 if not role.signed_in else 405):
                    wrong.append(f"{method.upper()} {path} as {role.name}: {status}")
    assert not wrong, "\n".join(wrong)
