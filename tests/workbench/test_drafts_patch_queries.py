"""What a PATCH of a big draft costs: a fixed handful of statements, the row it locked answering."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import (
    MembershipFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
    token_client,
)
from workbench.services.drafts import draft_validate

pytestmark = pytest.mark.django_db

PERMS = ["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"]
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")


def big_spec(tools=120, scopes=40):
    """A spec of about 40 KB as JSON at 120 tools (each with three parameters) and 40 scopes."""
    properties = {f"p{k}": {"type": "string", "description": "a parameter"} for k in range(3)}
    schema = {"type": "object", "properties": properties}
    return draft_spec(
        "big-server",
        tools=[draft_tool(f"tool_{i}", read_only=i % 3 == 0, inputSchema=schema) for i in range(tools)],
        scopes=[
            {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, tools, scopes)]}
            for i in range(scopes)
        ],
    )


def big_draft(owner, **kwargs):
    return WorkbenchDraftFactory(
        connector_id="big-server", owner=owner, spec_snapshot=big_spec(), stage="definition", **kwargs
    )


def statements(captured):
    return [q["sql"] for q in captured if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]


def test_patch_of_a_120_tool_draft_sends_at_most_ten_statements(django_assert_max_num_queries):
    owner = UserFactory(perms=PERMS)
    draft = big_draft(owner)
    client = token_client(owner)
    spec = big_spec()
    spec["tools"][0]["description"] = "changed"
    # Besides transaction control (here the SAVEPOINT/RELEASE of the service's atomic block inside the
    # test's transaction; BEGIN/COMMIT when served), at most 10 statements:
    #  1-2  token authentication (the token with its user) and the model permissions (one UNION,
    #       workbench.kit.auth)
    #  3-4  the write check before the body (tenancy: platform staff? a writing membership?)
    #  5    the draft locked (SELECT ... FOR UPDATE, with its tenant, owner and whether the user is an
    #       author already: an author is not inserted again); drafts_editable_by does not ask
    #       "platform staff?" again, since the drafts rule gives platform staff nothing more
    #  6    UPDATE of the draft
    #  7    the snapshots (INSERT ... ON CONFLICT DO NOTHING: only the changed spec is stored)
    #  8    the history row, referring to them
    # The answer is the locked row: no second read, no second decode of the 40 KB spec.
    with django_assert_max_num_queries(8 + 2), CaptureQueriesContext(connection) as captured:
        response = client.patch(
            f"/api/v1/drafts/{draft.pk}/", {"spec_snapshot": spec}, format="json", HTTP_IF_MATCH='"1"'
        )
    assert response.status_code == 200, response.json()
    sent = statements(captured)
    assert len(sent) == 8, sent
    assert sum(sql.startswith('SELECT "workbench_workbenchdraft"') for sql in sent) == 1, sent
    assert response.json()["revision"] == 2 and response.json()["spec_snapshot"] == spec


def test_the_answer_of_a_save_is_what_a_read_answers():
    owner = UserFactory(perms=PERMS)
    draft = big_draft(owner)
    other = UserFactory(perms=PERMS)
    MembershipFactory(tenant=draft.tenant, user=other)
    draft_validate(draft_id=draft.pk, user=other)  # someone else validated it
    client = token_client(other)
    for body in ({"stage": "scoping"}, {"spec_snapshot": big_spec(tools=3, scopes=1)}, {"stage": "scoping"}):
        etag = client.get(f"/api/v1/drafts/{draft.pk}/")["ETag"]
        saved = client.patch(f"/api/v1/drafts/{draft.pk}/", body, format="json", HTTP_IF_MATCH=etag)
        assert saved.status_code == 200, saved.json()
        read = client.get(f"/api/v1/drafts/{draft.pk}/")
        assert saved.json() == read.json() and saved["ETag"] == read["ETag"]
    validated = client.post(f"/api/v1/drafts/{draft.pk}/validate/")
    assert validated.json() == client.get(f"/api/v1/drafts/{draft.pk}/").json()
    assert validated.json()["validation"]["validated_by"] == other.username
    assert validated.json()["owner"] == owner.username and validated.json()["tenant"] == draft.tenant.slug
