import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.policies.factories import FirearmFactory, KpiDefinitionFactory
from tests.workbench.drafts_admin_kit import PERMS, draft_links, form_data, form_fields, staff_member, url
from tests.workbench.factories import (
    MembershipFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
)
from workbench.models import WorkbenchDraft
from workbench.services.drafts import PUBLISH_PERMISSION, draft_update

pytestmark = pytest.mark.django_db

def test_changelist_and_pages_show_only_the_staff_members_tenant(client):
    mine = WorkbenchDraftFactory()
    theirs = WorkbenchDraftFactory()
    client.force_login(staff_member(tenant=mine.tenant))
    listed = client.get(url("changelist"))
    assert listed.status_code == 200
    assert [d.pk for d in listed.context["cl"].result_list] == [mine.pk]
    for page in ("change", "history", "diff"):
        assert client.get(url(page, mine.pk)).status_code == 200, page
        assert client.get(url(page, theirs.pk)).status_code == 404, page
    assert client.post(url("validate", theirs.pk)).status_code == 404
    assert client.post(url("restore", theirs.pk), {"revision": 1, "base_revision": 1}).status_code == 404


def test_pages_need_the_permissions(client):
    draft = WorkbenchDraftFactory()
    client.force_login(staff_member(tenant=draft.tenant, perms=[]))
    assert client.get(url("changelist")).status_code == 403
    assert client.get(url("change", draft.pk)).status_code == 403
    assert client.get(url("add")).status_code == 403
    assert client.get(url("import_mcp")).status_code == 403
    client.force_login(staff_member(tenant=draft.tenant, perms=["workbench.view_workbenchdraft"]))
    card = client.get(url("change", draft.pk))
    assert card.status_code == 200 and not card.context["can_change"]
    assert client.post(url("change", draft.pk), {}).status_code == 403


def test_changelist_queries_do_not_grow_with_rows(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    WorkbenchDraftFactory(tenant=tenant)
    client.force_login(user)
    client.get(url("changelist"))
    with CaptureQueriesContext(connection) as one:
        client.get(url("changelist"))
    WorkbenchDraftFactory.create_batch(10, tenant=tenant)
    with CaptureQueriesContext(connection) as many:
        client.get(url("changelist"))
    assert len(one) == len(many)


def big_draft(tenant, tools=120, scopes=40):
    spec = draft_spec(
        "big-server",
        tools=[draft_tool(f"tool_{i}", read_only=i % 2 == 0) for i in range(tools)],
        scopes=[
            {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, tools, scopes)]}
            for i in range(scopes)
        ],
    )
    return WorkbenchDraftFactory(
        tenant=tenant, connector_id="big-server", spec_snapshot=spec, policy_snapshot={}
    )


def test_card_saves_firearm_decisions_kpis_and_version_as_a_revision_with_the_admin_user(client):
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.change_failure_rate")
    user = staff_member()
    draft = big_draft(user.memberships.get().tenant)
    client.force_login(user)
    card = client.get(url("change", draft.pk))
    assert card.status_code == 200
    assert len(card.context["grid"].columns) == 40  # one column per scope, none blank
    data = form_data(card)
    data.update(
        {
            "version": "1.3.0",
            "s0.f": "firearm.external_write",
            "s1.f": "__none__",
            "s0.k": ["kpi.change_failure_rate"],
            "reason": "decided two scopes",
        }
    )
    saved = client.post(url("change", draft.pk), data)
    assert saved.status_code == 302, saved.context["card"].errors if saved.context else saved
    draft.refresh_from_db()
    assert draft.revision == 2 and draft.version == "1.3.0"
    assert draft.policy_snapshot["firearms"] == {"scope_0": "firearm.external_write", "scope_1": None}
    assert draft.policy_snapshot["kpis"] == {"scope_0": ["kpi.change_failure_rate"]}
    assert len(draft.spec_snapshot["scopes"]) == 40 and len(draft.spec_snapshot["tools"]) == 120
    latest = draft.history.first()
    assert (latest.history_user, latest.history_change_reason) == (user, "decided two scopes")


def test_card_edits_scopes_and_tools_in_the_grid_and_checks_each_tool_on_its_row(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    client.force_login(user)
    data = form_data(client.get(url("change", draft.pk)))
    # A new tool row and a new scope column in one save, the tool ticked in the new scope's column.
    data.update(
        {
            "tn": "3",
            "t2.n": "create_issue",
            "t2.s": '{"type": "object"}',
            "t2.x": "on",  # as the new row shows them: destructive and open world, not set
            "t2.w": "on",
            "t2.p": "on",
            "sn": "3",
            "s2.n": "issues",
            "s2.f": "__none__",
            "t2.2": "on",
            "s1.z": "on",
        }
    )
    assert client.post(url("change", draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert [s["name"] for s in draft.spec_snapshot["scopes"]] == ["admin_write", "issues"]
    assert draft.spec_snapshot["scopes"][1]["tools"] == ["create_issue"]
    created = draft.spec_snapshot["tools"][2]
    # Only the hint that was changed from what the product assumes is set.
    assert created == {"name": "create_issue", "inputSchema": {"type": "object"},
                       "annotations": {"idempotentHint": True}}
    assert draft.policy_snapshot["firearms"] == {"admin_write": None, "issues": None}

    data = form_data(client.get(url("change", draft.pk)))
    data.update({"t0.n": "x y", "t0.s": '{"type": "object", "properties": 5}'})
    refused = client.post(url("change", draft.pk), data)
    assert refused.status_code == 200
    row = refused.context["grid"].rows[0]
    assert any(message.startswith("name:") for message in row.errors)
    assert any(message.startswith("inputSchema") for message in row.errors)
    data["t0.s"] = "[not json"
    row = client.post(url("change", draft.pk), data).context["grid"].rows[0]
    assert len(row.errors) == 1 and "is not JSON" in row.errors[0]


def test_stale_save_is_refused_naming_who_changed_it_and_when(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    other = MembershipFactory(tenant=draft.tenant).user
    client.force_login(user)
    data = form_data(client.get(url("change", draft.pk)))
    draft_update(draft_id=draft.pk, user=other, base_revision=1, changes={"stage": "policy"})
    data["stage"] = "scoping"
    response = client.post(url("change", draft.pk), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"was changed by {other.username} at" in text and "was not applied" in text
    assert response.context["card"]["stage"].value() == "scoping"  # what the user chose is kept
    draft.refresh_from_db()
    assert draft.stage == "policy" and draft.revision == 2


def test_card_rules_in_the_admin_version_up_only_and_scopes_frozen_unless_draft(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    client.force_login(user)
    data = form_data(client.get(url("change", draft.pk)))
    data["version"] = "1.0.0"
    response = client.post(url("change", draft.pk), data)
    assert "Version can only move up from 1.2.0." in response.context["card"].errors["version"]
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"status": "abandoned"})
    card = client.get(url("change", draft.pk))
    names = {name for name, _ in form_fields(card)}
    assert not card.context["grid"].editable and "t0.n" not in names and "s0.n" not in names
    assert {"s0.f", "status"} <= names  # firearm decisions, KPIs and the status stay editable


def test_validate_history_diff_and_restore(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    client.force_login(user)
    assert client.post(url("validate", draft.pk)).status_code == 302
    draft.refresh_from_db()
    assert draft.validation_passed is True
    card = client.get(url("change", draft.pk)).content.decode()
    assert "passed" in card and "destructive tools (delete_file), no firearm" in card
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"stage": "policy"})
    history = client.get(url("history", draft.pk))
    assert [r.revision for r in history.context["records"]] == [2, 1, 1]
    diff = client.get(url("diff", draft.pk) + "?from=1&to=2")
    assert [c["summary"] for c in diff.context["changes"]] == ["stage verification -> policy"]
    restored = client.post(url("restore", draft.pk), {"revision": 1, "base_revision": 2})
    assert restored.status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 3 and draft.stage == "verification"
    stale = client.post(url("restore", draft.pk), {"revision": 1, "base_revision": 2}, follow=True)
    assert "Not restored" in stale.content.decode()


def tools_list_json():
    return json.dumps(
        {
            "tools": [
                draft_tool("search_code", read_only=True),
                draft_tool("create_issue", destructive=False),
                draft_tool("delete_repo"),
            ]
        }
    )


def test_add_and_import_from_an_mcp_server(client):
    user = staff_member()
    client.force_login(user)
    tenant = user.memberships.get().tenant
    created = client.post(
        url("add"), {"tenant": tenant.pk, "connector_id": "notes", "name": "Notes", "version": "0.1.0"}
    )
    assert created.status_code == 302
    assert WorkbenchDraft.objects.get(connector_id="notes").spec_snapshot["name"] == "Notes"
    imported = client.post(
        url("import_mcp"),
        {
            "tenant": tenant.pk,
            "connector_id": "github",
            "name": "GitHub",
            "version": "1.0.0",
            "tools_json": tools_list_json(),
        },
        follow=True,
    )
    draft = WorkbenchDraft.objects.get(connector_id="github")
    assert imported.redirect_chain[-1][0] == url("change", draft.pk)
    assert "proposed scopes: read_only (1), write (1), destructive (1)" in imported.content.decode()
    assert draft.policy_snapshot == {"firearms": {}, "kpis": {}}
    bad = client.post(
        url("import_mcp"),
        {
            "tenant": tenant.pk,
            "connector_id": "broken",
            "version": "1.0.0",
            "tools_json": json.dumps({"tools": [{"name": "no_schema"}]}),
        },
    )
    assert bad.status_code == 200 and "tools[0]" in " ".join(bad.context["problems"])
    assert not WorkbenchDraft.objects.filter(connector_id="broken").exists()


# "draft_22..." and "draft_40..." unquote to 'draft"..' and "draft@..": a link with the raw id would
# open the wrong (no) draft, so every link must carry the id quoted as the changelist does.
@pytest.mark.parametrize("draft_id", [None, "draft_22ab34cd0123", "draft_40ab34cd0123"])
def test_changelist_and_card_links_open_the_draft(client, draft_id):
    user = staff_member()
    extra = {"id": draft_id} if draft_id else {}
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant, **extra)
    client.force_login(user)
    listed = client.get(url("changelist"))
    (card_href,) = [href for href in draft_links(listed, draft) if href.endswith("/change/")]
    card = client.get(card_href)
    assert card.status_code == 200 and card.context["draft"] == draft
    pages = draft_links(card, draft)
    assert {page.rsplit("/", 2)[-2] for page in pages} == {"change", "history", "diff", "validate", "probe"}
    for page in pages:
        if page.endswith("/validate/"):
            validated = client.post(page)
            assert validated.status_code == 302 and validated.url == card_href
        else:
            assert client.get(page).status_code == 200, page
    history = client.get(url("history", draft.pk))
    for page in draft_links(history, draft):
        if not page.endswith("/restore/"):
            assert client.get(page).status_code == 200, page
    draft.refresh_from_db()
    assert draft.validated_revision == 1


def test_card_of_a_stored_draft_with_non_object_packaging_renders_and_saves(client):
    user = staff_member(perms=[*PERMS, PUBLISH_PERMISSION])
    spec = draft_spec("github", packaging="npm", portability=["x"])
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant, connector_id="github")
    # Written directly, as drafts stored before the service refused non-object packaging are.
    WorkbenchDraft.objects.filter(pk=draft.pk).update(spec_snapshot=spec)
    client.force_login(user)
    card = client.get(url("change", draft.pk))
    assert card.status_code == 200
    assert card.context["card"]["identifier"].value() == ""
    assert client.get(url("diff", draft.pk)).status_code == 200
    confirm = client.post(url("changelist"), {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert confirm.status_code == 200
    data = form_data(card)
    data.update({"identifier": "@acme/github-mcp", "package_version": "1.2.0", "registry_type": "npm"})
    saved = client.post(url("change", draft.pk), data)
    assert saved.status_code == 302, saved.context["card"].errors
    draft.refresh_from_db()
    assert draft.spec_snapshot["packaging"] == {
        "registry_type": "npm",
        "identifier": "@acme/github-mcp",
        "version": "1.2.0",
    }
    assert draft.spec_snapshot["portability"] == {} and draft.revision == 2


def test_validate_button_and_page_refuse_published_and_abandoned_drafts(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"status": "abandoned"})
    client.force_login(user)
    card = client.get(url("change", draft.pk))
    assert card.status_code == 200 and url("validate", draft.pk) not in draft_links(card, draft)
    refused = client.post(url("validate", draft.pk), follow=True)
    assert refused.status_code == 200 and "reopen it" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.validation_passed is None


