"""Issue 11 behind gunicorn on PostgreSQL, production settings: the first paragraph's requests answer 4xx
problem+json, and a database that goes away is a 503 with Retry-After (the probes say so) until it comes
back, when the same server answers again without a restart."""

import json

import pytest
from django.db import connection

from registries.models import ToolReceipt
from tests.registries.gateway_kit import load_seed_registry
from tests.workbench.factories import MembershipFactory, SuperuserFactory, WorkbenchDraftFactory, api_token
from tests.workbench.hostile.corpus import DEEP, deep_array
from tests.workbench.hostile.outage import DatabaseProxy, production_server, request
from workbench.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)

PROBLEM = "application/problem+json"


@pytest.fixture
def live(on_postgres):
    """(port, proxy, auth headers, draft id): a server reaching the test database through the proxy."""
    user = SuperuserFactory()
    draft = WorkbenchDraftFactory()
    MembershipFactory(tenant=draft.tenant, user=user, role=Membership.Role.OWNER)
    load_seed_registry()
    auth = {"Authorization": f"Token {api_token(user)}", "Content-Type": "application/json"}
    db = connection.settings_dict
    proxy = DatabaseProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.up()
    url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    try:
        with production_server(url) as port:
            yield port, proxy, auth, draft.pk
    finally:
        proxy.down()


def problem(answer, status, code=None):
    got_status, headers, body = answer
    assert got_status == status, (got_status, body[:300])
    assert headers["Content-Type"] == PROBLEM, headers
    parsed = json.loads(body)
    if code is not None:
        assert parsed["code"] == code, parsed
    return parsed


def test_the_reported_requests_are_4xx_behind_gunicorn(live):
    port, _, auth, draft = live
    spec = {"spec_snapshot": {"id": "x", "tools": [{"name": "a", "description": "nul \u0000"}]}}
    nul = request(port, "PUT", f"/api/v1/drafts/{draft}/", json.dumps(spec), {**auth, "If-Match": '"1"'})
    assert problem(nul, 400, "null_character")["errors"][0]["field"] == "$.spec_snapshot.tools[0].description"
    surrogate = b'{"call_id": "c1", "input": {"status": "\\ud800"}}'
    invoke = request(port, "POST", "/api/v1/tools/os.list_tasks/invoke/", surrogate, auth)
    problem(invoke, 400, "lone_surrogate")
    assert not ToolReceipt.objects.exists()
    problem(request(port, "POST", "/api/v1/drafts/", deep_array(DEEP), auth), 400, "too_deep")
    patch = json.dumps({"stage": "policy"})
    problem(
        request(port, "PATCH", f"/api/v1/drafts/{draft}/", patch, {**auth, "If-Match": "¹"}),
        428,
        "precondition_required",
    )
    problem(request(port, "GET", f"/api/v1/drafts/{draft}/diff/?to=%C2%B2", None, auth), 400)
    problem(request(port, "GET", "/api/v1/budgets/a%00/", None, auth), 404, "not_found")
    big = json.dumps({"firearm_id": "firearm.big", "name": "Big", "description": "x" * 1_000_000})
    assert problem(request(port, "POST", "/api/v1/firearms/", big, auth), 400)["errors"][0]["field"] == (
        "description"
    )
    huge = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    problem(request(port, "POST", "/api/v1/firearms/", huge, auth), 413, "body_too_large")
    problem(request(port, "GET", "/api/v1/no-such-thing/", None, auth), 404, "not_found")


def test_a_lost_database_is_503_and_the_same_server_recovers(live):
    port, proxy, auth, _ = live
    assert request(port, "GET", "/readyz")[0] == 200
    assert request(port, "GET", "/api/v1/firearms/", None, auth)[0] == 200

    proxy.down()
    for _ in range(4):  # every worker, whatever connection it held
        answer = request(port, "GET", "/api/v1/firearms/", None, auth)
        problem(answer, 503, "database_unavailable")
        assert answer[1]["Retry-After"] == "5"
        # A session cookie makes the admin look its user up: the database is needed.
        status, headers, body = request(port, "GET", "/admin/", None, {"Cookie": "sessionid=" + "x" * 32})
        assert (status, headers.get("Retry-After")) == (503, "5"), (status, body[:300])
        assert headers["Content-Type"].startswith("text/plain") and b"Traceback" not in body
    ready = request(port, "GET", "/readyz")
    assert (ready[0], ready[1]["Retry-After"]) == (503, "5")
    assert request(port, "GET", "/healthz")[0] == 200

    proxy.up()
    for _ in range(4):
        assert request(port, "GET", "/api/v1/firearms/", None, auth)[0] == 200
    assert request(port, "GET", "/readyz")[0] == 200
