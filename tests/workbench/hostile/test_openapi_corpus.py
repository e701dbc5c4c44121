"""Issue 11's fuzzing that would have caught it: the hostile corpus replayed against every operation of
the OpenAPI schema, on the dev environment. Every answer is a 4xx problem+json and no row changes."""

import pytest

from tests.workbench.hostile import corpus
from tests.workbench.hostile.world import fill

pytestmark = pytest.mark.django_db

DOCUMENT = corpus.schema()
WRITES = corpus.operations({"post", "put", "patch", "delete"})
WITH_BODY = [op for op in WRITES if "requestBody" in op[2]]
WITH_PATH = [op for op in corpus.operations({"get", "post", "put", "patch", "delete"}) if "{" in op[1]]
WITH_IF_MATCH = [op for op in WRITES if "If-Match" in corpus.header_names(op[2])]
WITH_QUERY = [op for op in corpus.operations({"get"}) if corpus.query_params(op[2])]


def label(operation):
    return f"{operation[0].upper()} {operation[1]}"


def send(client, method, path, body=None, **headers):
    if method == "get":
        return client.get(path, **headers)
    data = body.encode() if isinstance(body, str) else body
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def revision_header(client, path, operation):
    """The If-Match of the operation's draft as it stands, so the request gets past the revision check."""
    if "If-Match" not in corpus.header_names(operation):
        return {}
    draft = path.split("/")[4]
    return {"HTTP_IF_MATCH": client.get(f"/api/v1/drafts/{draft}/")["ETag"]}


def test_the_corpus_reaches_every_write_operation():
    assert len(WRITES) >= 40 and len(WITH_BODY) >= 30
    assert {"/api/v1/drafts/", "/api/v1/tools/{name}/invoke/", "/api/v1/budgets/{budget_id}/"} <= {
        path for _, path, _ in WITH_BODY
    }


def body_sender(dev_world, operation):
    """send(body builder) -> the operation's answer to the body built from its property names, with the
    draft's current If-Match where the operation takes one."""
    client, ids = dev_world
    method, template, spec = operation
    path = fill(template, ids)
    properties = corpus.request_properties(DOCUMENT, spec)

    def send_body(body):
        return send(client, method, path, body(properties), **revision_header(client, path, spec))

    return send_body


@pytest.mark.parametrize("operation", WITH_BODY, ids=label)
def test_every_body_the_parser_refuses_is_refused_by_every_operation(dev_world, operation):
    send_body = body_sender(dev_world, operation)
    before = corpus.fingerprint()
    for name, (body, status, code) in corpus.BODIES.items():
        problem = corpus.assert_problem(send_body(body), status=status, code=code)
        if status == 400:
            assert problem["errors"][0]["field"].startswith("$"), (name, problem)
    assert corpus.fingerprint() == before


@pytest.mark.parametrize("operation", WITH_BODY, ids=label)
def test_bodies_of_the_wrong_shape_or_size_are_4xx_and_change_nothing(dev_world, operation):
    send_body = body_sender(dev_world, operation)
    before = corpus.fingerprint()
    for body in corpus.REFUSED_SHAPES.values():
        corpus.assert_problem(send_body(body))
    assert corpus.fingerprint() == before


@pytest.mark.parametrize("operation", WITH_BODY, ids=label)
def test_odd_values_in_every_field_are_never_a_server_error(dev_world, operation):
    send_body = body_sender(dev_world, operation)
    for body in corpus.ODD_SHAPES.values():
        corpus.assert_not_a_server_error(send_body(body))


@pytest.mark.parametrize("operation", WITH_PATH, ids=label)
def test_a_control_character_in_a_path_parameter_is_404(dev_world, operation):
    client, ids = dev_world
    method, template, _ = operation
    for segment in corpus.PATH_SEGMENTS:
        response = send(client, method, fill(template, ids, segment), "{}")
        corpus.assert_problem(response, status=404, code="not_found")


@pytest.mark.parametrize("operation", WITH_IF_MATCH, ids=label)
def test_an_if_match_that_is_not_ascii_digits_is_428(dev_world, operation):
    client, ids = dev_world
    method, template, _ = operation
    before = corpus.fingerprint()
    for value in corpus.IF_MATCH:
        response = send(client, method, fill(template, ids), "{}", HTTP_IF_MATCH=value)
        corpus.assert_problem(response, status=428, code="precondition_required")
    assert corpus.fingerprint() == before


@pytest.mark.parametrize("operation", WITH_QUERY, ids=label)
def test_hostile_query_values_are_400(dev_world, operation):
    client, ids = dev_world
    _, template, spec = operation
    path = fill(template, ids)
    for name, kind in corpus.query_params(spec):
        for value in corpus.QUERY_VALUES:
            corpus.assert_problem(client.get(path, {name: value}), status=400, code="null_character")
        if kind in ("integer", "number"):
            for value in corpus.NUMBER_QUERY_VALUES:
                corpus.assert_problem(client.get(path, {name: value}), status=400)
