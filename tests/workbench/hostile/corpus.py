"""The hostile corpus: request bodies, headers, path segments and query values a client can send that
the system cannot take, each with the answer it must get. Shared by the OpenAPI replay and the
regressions of issue 11."""

import json

from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

PROBLEM = "application/problem+json"
DEEP = 10_000


def deep_array(levels):
    return "[" * levels + "]" * levels


def _every(properties, value):
    """A body giving `value` to every property of the operation (or one made-up field when it has none)."""
    return {name: value for name in properties} or {"field": value}


# name -> (body bytes from the operation's property names, status, code). The parser refuses each before
# any view sees it, so every operation that reads a body answers the same.
BODIES = {
    "nul_in_every_string": (lambda props: json.dumps(_every(props, "a\u0000b")), 400, "null_character"),
    "nul_in_a_key": (lambda props: '{"a\\u0000b": 1}', 400, "null_character"),
    "lone_surrogate": (lambda props: json.dumps(_every(props, "\ud800")), 400, "lone_surrogate"),
    "lone_surrogate_in_a_key": (lambda props: '{"\\udfff": 1}', 400, "lone_surrogate"),
    "nested_10000_deep": (lambda props: deep_array(DEEP), 400, "too_deep"),
    "nested_65_deep_in_a_field": (
        lambda props: json.dumps(_every(props, json.loads(deep_array(65)))), 400, "too_deep"
    ),
    "nan": (lambda props: '{"field": NaN}', 400, "malformed_json"),
    "overflowing_float": (lambda props: '{"field": 1e400}', 400, "malformed_json"),
    "huge_integer_literal": (lambda props: '{"field": ' + "9" * 5000 + "}", 400, "malformed_json"),
    "not_utf8": (lambda props: b'{"field": "\xff\xfe"}', 400, "malformed_json"),
    "truncated": (lambda props: '{"field": ', 400, "malformed_json"),
    "body_over_the_cap": (
        lambda props: json.dumps({"field": "x" * (3 * 1024 * 1024)}), 413, "body_too_large"
    ),
}

# Bodies the parser takes but no operation can: each is a 4xx problem+json that changes nothing, with a
# code that depends on the operation (validation, a missing field, a refused state).
REFUSED_SHAPES = {
    "a_list": lambda props: "[]",
    "a_string": lambda props: '"text"',
    "null": lambda props: "null",
    "a_number": lambda props: "7",
    "oversized_fields": lambda props: json.dumps(_every(props, "x" * 30_000)),
    "one_megabyte_field": lambda props: json.dumps({name: "x" * 1_000_000 for name in list(props)[:1]}),
}

# Bodies some operations take (a PATCH of nothing, "²" as a name): never a 5xx, and a refusal is
# problem+json.
ODD_SHAPES = {
    "empty_object": lambda props: "{}",
    "non_ascii_digits": lambda props: json.dumps(_every(props, "²")),
    "arabic_indic_digits": lambda props: json.dumps(_every(props, "١٢")),
    "huge_numbers": lambda props: json.dumps(_every(props, 10**30)),
    "negative_numbers": lambda props: json.dumps(_every(props, -(2**63))),
    "objects_everywhere": lambda props: json.dumps(_every(props, {"a": {"b": [1, {"c": None}]}})),
    "lists_everywhere": lambda props: json.dumps(_every(props, [[], [None], ["x"]])),
    "control_characters": lambda props: json.dumps(_every(props, "a\u0001\u001f\u007fb")),
    "booleans_everywhere": lambda props: json.dumps(_every(props, True)),
}

IF_MATCH = ["¹", 'W/"²"', "٣", "9" * 40, "1 OR 1=1", "\u0000"]
PATH_SEGMENTS = ["a%00", "a%00b", "%1F", "a%0Ab", "%7F"]
QUERY_VALUES = ["\u0000", "a\u0000b"]
NUMBER_QUERY_VALUES = ["²", "١", "1e999", "-", "9" * 400]


def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(methods):
    """(method, path template, operation) for every operation of the OpenAPI schema with a method in
    `methods`, in schema order."""
    return [
        (method, path, operation)
        for path, item in schema()["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]


def request_properties(document, operation):
    """The property names of an operation's JSON request body (empty when it has none)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    body = content["schema"]
    if "$ref" in body:
        body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body.get("properties", {})


def header_names(operation):
    return {param["name"] for param in operation.get("parameters", []) if param["in"] == "header"}


def query_params(operation):
    return [
        (param["name"], param.get("schema", {}).get("type"))
        for param in operation.get("parameters", [])
        if param["in"] == "query"
    ]


def fingerprint():
    """Row counts of every table, history included: a refused request leaves them all as they were."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def assert_not_a_server_error(response):
    """Below 500; a refusal is problem+json."""
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']!r}"
    assert response.status_code < 500, (where, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM, (where, response["Content-Type"])


def assert_problem(response, *, status=None, code=None):
    """A 4xx problem+json (the given status and code when named), never a 5xx."""
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']!r}"
    assert 400 <= response.status_code < 500, (where, response.status_code, response.content[:300])
    if response.request["PATH_INFO"].startswith("/v0/"):
        # The MCP registry API answers in the registry's shape (its openapi.yaml): {"error": "..."} as JSON.
        assert response["Content-Type"] == "application/json", (where, response["Content-Type"])
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str), (where, body)
        assert status is None or response.status_code == status, (where, response.status_code, body)
        return body
    assert response["Content-Type"] == PROBLEM, (where, response["Content-Type"])
    body = response.json()
    if status is not None:
        assert response.status_code == status, (where, response.status_code, body)
    if code is not None:
        assert body["code"] == code, (where, body)
    return body
