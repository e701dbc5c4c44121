"""The draft card after review 14: packaging judged by the contract's one rule on its own field, a
version that may not move refused with the form's other mistakes in one round, the registry and
transport choices the contract allows, no Publish button for a viewer, and stored scope items that
are not named objects kept as stored tools are."""

import pytest

from tests.workbench import test_drafts_card_grid as card_grid
from tests.workbench.drafts_admin_kit import PERMS, form_data, staff_member, url
from tests.workbench.factories import MembershipFactory, WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.admin.drafts.creating_forms import ImportMcpForm
from workbench.admin.drafts.forms import CardForm
from workbench.contract import packaging_choices
from workbench.schemas import load_schema

pytestmark = pytest.mark.django_db

# The card grid tests' staff editor fixture and card helpers, shared rather than written again.
editor = card_grid.editor
card_draft, post = card_grid.card_draft, card_grid.post




@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"registry_type": "oci", "identifier": "not a ref!!"}, "identifier", "OCI image reference"),
        ({"package_version": "^1.0.0"}, "package_version", "exact version"),
        ({"registry_type": "npm", "identifier": "Upper/Case"}, "identifier", "npm package name"),
        ({"identifier": ""}, "identifier", "Required when a package is given"),
    ],
)
def test_packaging_the_import_page_refuses_is_refused_on_its_field(editor, changes, field, words):
    client, tenant = editor
    draft = card_draft(tenant)
    refused = post(client, draft, **changes)
    assert refused.status_code == 200
    card = refused.context["card"]
    assert list(card.errors) == [field] and words in " ".join(card.errors[field])
    ((anchor, _label, _message),) = refused.context["error_links"]
    assert anchor == f"id_{field}"
    draft.refresh_from_db()
    assert draft.revision == 1


def test_an_unknown_registry_type_is_one_message(editor):
    client, tenant = editor
    refused = post(client, card_draft(tenant), registry_type="cargo")
    assert [(anchor, message[:22]) for anchor, _, message in refused.context["error_links"]] == [
        ("id_registry_type", "Select a valid choice.")
    ]


def test_good_packaging_and_no_packaging_save(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    saved = post(client, draft, registry_type="oci", identifier="ghcr.io/acme/notes-mcp:1.2.0",
                 package_version="1.2.0", transport="stdio")
    assert saved.status_code == 302, saved.context and saved.context["error_links"]
    draft.refresh_from_db()
    assert draft.spec_snapshot["packaging"]["identifier"] == "ghcr.io/acme/notes-mcp:1.2.0"
    cleared = {"registry_type": "", "identifier": "", "package_version": "", "bin": "", "transport": ""}
    assert post(client, draft, **cleared).status_code == 302
    draft.refresh_from_db()
    assert draft.spec_snapshot["packaging"] == {}


def test_a_version_that_may_not_move_is_listed_with_the_other_mistakes_in_one_round(editor):
    client, tenant = editor
    draft = card_draft(tenant)  # at 1.2.0
    refused = post(client, draft, version="1.1.0", **{"s0.n": "Bad Name", "t0.s": "{"})
    assert refused.status_code == 200
    links = {anchor: message for anchor, _, message in refused.context["error_links"]}
    assert set(links) == {"id_version", "c0", "t0"}
    assert links["id_version"] == "Version can only move up from 1.2.0."
    # The same sentence the draft service refuses with (one rule, asked by the form first).
    from workbench.services.drafts.card import version_move_problem

    assert version_move_problem("1.2.0", "1.1.0") == links["id_version"]
    assert version_move_problem("1.2.0", "1.2.0") == "" and version_move_problem("1.2.0", "1.3.0") == ""
    same = post(client, draft, version="1.2.0", description="kept version")
    assert same.status_code == 302


def test_the_registry_and_transport_choices_are_the_contracts_in_both_forms():
    packaging = load_schema("mcp_contract")["$defs"]["packaging"]["properties"]
    for key in ("registry_type", "transport"):
        allowed = packaging[key]["enum"]
        assert [value for value, _ in packaging_choices(key)] == allowed
        card = [value for value, _ in CardForm.base_fields[key].choices if value]
        importing = [value for value, _ in ImportMcpForm.base_fields[key].choices if value]
        assert card == importing == allowed, key


def test_a_viewer_with_the_publish_permission_sees_no_publish_button(client):
    draft = card_draft(MembershipFactory().tenant)
    viewer = staff_member(tenant=draft.tenant, perms=[*PERMS, "workbench.publish_workbenchdraft"])
    viewer.memberships.update(role="viewer")
    client.force_login(viewer)
    page = client.get(url("change", draft.pk))
    assert page.status_code == 200 and page.context["can_publish"] is False
    assert 'id="publish-button"' not in page.content.decode()


def test_an_editor_with_the_publish_permission_sees_the_publish_button(client):
    editor = staff_member(perms=[*PERMS, "workbench.publish_workbenchdraft"])
    draft = card_draft(editor.memberships.get().tenant)
    client.force_login(editor)
    page = client.get(url("change", draft.pk))
    assert page.context["can_publish"] is True and 'id="publish-button"' in page.content.decode()


def test_stored_scope_items_that_are_not_named_objects_are_kept_on_save(editor):
    client, tenant = editor
    odd = ["not a scope", {"description": "no name"}, {"name": 7}]
    spec = draft_spec(
        "notes", tools=[draft_tool("tool_0")], scopes=[{"name": "s", "tools": ["tool_0"]}, *odd]
    )
    draft = WorkbenchDraftFactory(tenant=tenant, connector_id="notes", spec_snapshot=spec,
                                  policy_snapshot={"firearms": {}, "kpis": {}})
    page = client.get(url("change", draft.pk))
    assert len(page.context["grid"].columns) == 1
    saved = post(client, draft, **{"sn": "2", "s1.n": "added", "s1.f": "__none__", "t0.1": "on"})
    assert saved.status_code == 302, saved.context and saved.context["error_links"]
    draft.refresh_from_db()
    scopes = draft.spec_snapshot["scopes"]
    assert scopes[:2] == [{"name": "s", "tools": ["tool_0"]}, {"name": "added", "tools": ["tool_0"]}]
    assert scopes[2:] == odd


@pytest.mark.parametrize(
    ("posted", "annotations"),
    [
        # The card's script ticked the dashed destructive box when read-only was unticked: still not set.
        ({"js": "1", "t0.x": "on"}, {"readOnlyHint": False}),
        # ...and the user unticked it again: that is a decision, the hint is set.
        ({"js": "1"}, {"readOnlyHint": False, "destructiveHint": False}),
        # Without the script the box kept what it showed: untouched, not set (so destructive).
        ({}, {"readOnlyHint": False}),
    ],
)
def test_unticking_read_only_leaves_a_destructive_hint_not_set_as_the_page_showed_it(
    editor, posted, annotations
):
    client, tenant = editor
    draft = card_draft(tenant)  # tool_0: readOnlyHint true, destructiveHint not set
    data = form_data(client.get(url("change", draft.pk)))
    assert data.pop("t0.r") == "on" and "t0.x" not in data
    data.update(posted)
    saved = client.post(url("change", draft.pk), data)
    assert saved.status_code == 302, saved.context and saved.context["error_links"]
    draft.refresh_from_db()
    assert draft.spec_snapshot["tools"][0]["annotations"] == annotations


def test_a_stored_schema_is_written_only_when_posted_and_kept_on_a_refused_save(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    refused = post(client, draft, **{"t1.s": '{"type":"object","required":["x"]}', "s0.n": "Bad Name"})
    html = refused.content.decode()
    # The opened editor comes back with what was typed; the others stay to be filled when opened.
    typed = '{"type":"object","required":["x"]}'
    assert f'<textarea name=t1.s aria-label="Input schema">{typed}</textarea>' in html
    assert "name=t0.s" not in html and "name=t2.s" not in html
    kept = form_data(refused)
    kept["s0.n"] = "scope_0"
    assert client.post(url("change", draft.pk), kept).status_code == 302
    draft.refresh_from_db()
    tools = draft.spec_snapshot["tools"]
    assert tools[1]["inputSchema"] == {"type": "object", "required": ["x"]}
    assert tools[0]["inputSchema"] == tools[2]["inputSchema"] == {"type": "object", "properties": {}}


def test_grid_inputs_have_accessible_names_and_rows_have_a_row_header(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    html = client.get(url("change", draft.pk)).content.decode()
    assert '<tr id=t0><th scope=row><input name=t0.n aria-label=Name value="tool_0">' in html
    assert "<input name=t0.t aria-label=Title>" in html
    assert "<textarea name=t0.d aria-label=Description>" in html
    assert html.count('<th scope="col"') >= 9 + 2  # tool columns and one header per scope
    template = html[html.index('<template id="tool-template">'):]
    assert 'aria-label="Name"' in template and 'aria-label="Input schema"' in template
