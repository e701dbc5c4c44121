"""Portability, declared entitlements and skills on the admin draft card (RECON 01: portability metadata
on the connector definition; skills and walkthroughs; billing entitlements as a missing dependency):
each rendered once, round-tripped, checked against the MCP contract with errors on their field."""

import json
import re

import pytest

from tests.workbench.drafts_admin_kit import form_data, staff_member, url
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec
from workbench.services.drafts import draft_validate

pytestmark = pytest.mark.django_db

SKILL = {
    "spec_id": "github.getting-started",
    "name": "Getting started",
    "description": "First steps",
    "markdown": "# Getting started\n\nInstall the server, then call `get_file_contents`.",
}


def shown(form, name):
    """The text a field shows in the page."""
    return form.fields[name].prepare_value(form[name].value())


@pytest.fixture
def card(client):
    """(client, draft, its card page) for a staff editor of the draft's tenant."""
    user = staff_member()
    spec = draft_spec(
        "github",
        portability={"runtimes": ["node"], "entitlements": ["billing.seats"]},
        skills=[SKILL],
    )
    tenant = user.memberships.get().tenant
    draft = WorkbenchDraftFactory(tenant=tenant, connector_id="github", spec_snapshot=spec)
    client.force_login(user)
    return client, draft, client.get(url("change", draft.pk))


def test_each_field_is_rendered_once_with_the_stored_value(card):
    _, _, page = card
    html = page.content.decode()
    for name in ("portability", "entitlements", "skills", "version", "package_version", "tn"):
        assert len(re.findall(rf'\sname="{name}"', html)) == 1, name
    form = page.context["card"]
    assert json.loads(shown(form, "portability")) == {"runtimes": ["node"]}
    assert shown(form, "entitlements") == "billing.seats"
    assert json.loads(shown(form, "skills")) == [SKILL]


def test_an_unchanged_card_saves_no_revision(card):
    client, draft, page = card
    assert client.post(url("change", draft.pk), form_data(page)).status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 1


def test_the_values_are_saved_and_come_back(card):
    client, draft, page = card
    data = form_data(page)
    data["portability"] = json.dumps({"runtimes": ["node", "bun"], "os": ["linux"]})
    data["entitlements"] = "billing.seats\n  billing.overage  \n\n"
    data["skills"] = json.dumps([SKILL, {**SKILL, "spec_id": "github.review", "name": "Review a PR"}])

    assert client.post(url("change", draft.pk), data).status_code == 302

    draft.refresh_from_db()
    spec = draft.spec_snapshot
    assert draft.revision == 2
    assert spec["portability"] == {
        "runtimes": ["node", "bun"], "os": ["linux"], "entitlements": ["billing.seats", "billing.overage"]
    }
    assert [skill["spec_id"] for skill in spec["skills"]] == ["github.getting-started", "github.review"]
    again = client.get(url("change", draft.pk)).context["card"]
    assert shown(again, "entitlements") == "billing.seats\nbilling.overage"
    assert json.loads(shown(again, "portability")) == {"runtimes": ["node", "bun"], "os": ["linux"]}
    # Validation reads the same declarations: each entitlement is a missing dependency.
    findings = draft_validate(draft_id=draft.pk, user=draft.owner).validation_findings
    assert [f["code"] for f in findings if f["code"] == "missing_entitlement_store"] == [
        "missing_entitlement_store"
    ] * 2


def test_clearing_entitlements_and_skills_writes_empty_lists(card):
    client, draft, page = card
    data = {**form_data(page), "entitlements": "", "skills": "[]"}
    assert client.post(url("change", draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.spec_snapshot["portability"] == {"runtimes": ["node"], "entitlements": []}
    assert draft.spec_snapshot["skills"] == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("portability", "[1, 2]", "Portability must be a JSON object."),
        ("portability", "{not json", "The value"),
        ("portability", '{"note": "a\\u0000b"}', "$.note: Text must not contain NUL"),
        ("portability", '{"entitlements": ["x"]}', "Declared entitlements have their own field"),
        ("entitlements", "billing.seats\nbilling.seats", "non-unique"),
        ("skills", '{"spec_id": "github.x"}', "Skills must be a JSON array."),
        ("skills", '[{"spec_id": "github.x", "name": "X"}]', "skills[0]: 'markdown' is a required property"),
        ("skills", '[{"spec_id": "Not Valid", "name": "X", "markdown": "m"}]', "skills[0].spec_id"),
        ("skills", '[{"spec_id": "github.x", "name": "X", "markdown": "m", "extra": 1}]', "skills[0]"),
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_nothing_is_written(card, field, value, message):
    client, draft, page = card
    data = {**form_data(page), field: value, "version": "1.3.0"}

    response = client.post(url("change", draft.pk), data)

    assert response.status_code == 200
    errors = response.context["card"].errors
    assert list(errors) == [field], errors
    assert any(message in error for error in errors[field]), errors[field]
    row = response.content.decode().split(f'<div class="form-row field-{field}">', 1)[1]
    assert row.lstrip().startswith('<ul class="errorlist"')  # the error is shown on its field
    draft.refresh_from_db()
    assert (draft.revision, draft.version, draft.history.count()) == (1, "1.2.0", 1)
