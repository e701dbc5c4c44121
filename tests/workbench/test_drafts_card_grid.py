"""The draft card's tools x scopes grid: each field once, saves through the grid (tools added, removed
and edited, membership, a new tool into a new scope), hints not set kept, one message per mistake with a
summary on top and every typed value kept, the weight and queries of a 300-tool card, and viewers."""

import json
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.policies.factories import FirearmFactory, KpiDefinitionFactory
from tests.workbench.drafts_admin_kit import PERMS, form_data, staff_member, url
from tests.workbench.factories import MembershipFactory, WorkbenchDraftFactory, draft_spec, draft_tool

pytestmark = pytest.mark.django_db


class Controls(HTMLParser):
    """Every control of the card form outside <template>: (tag, name, type, disabled)."""

    def __init__(self, html, form_id="draft-card-form"):
        super().__init__()
        self.controls, self.template, self.inside, self.form_id = [], 0, False, form_id
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        self.template += tag == "template"
        if self.inside and tag in ("input", "select", "textarea", "button") and not self.template:
            self.controls.append((tag, attrs.get("name"), attrs.get("type"), "disabled" in attrs))

    def handle_endtag(self, tag):
        self.template -= tag == "template"
        self.inside = self.inside and tag != "form"


def card_draft(tenant, tools=3, scopes=2, **extra):
    spec = draft_spec(
        "notes",
        tools=[draft_tool(f"tool_{i}", read_only=i % 2 == 0) for i in range(tools)],
        scopes=[
            {"name": f"scope_{j}", "description": f"scope {j}",
             "tools": [f"tool_{i}" for i in range(j, tools, scopes)]}
            for j in range(scopes)
        ],
        **extra,
    )
    return WorkbenchDraftFactory(
        tenant=tenant, connector_id="notes", spec_snapshot=spec, policy_snapshot={"firearms": {}, "kpis": {}}
    )


@pytest.fixture
def editor(client):
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.change_failure_rate")
    user = staff_member()
    client.force_login(user)
    return client, user.memberships.get().tenant


def post(client, draft, **changes):
    data = form_data(client.get(url("change", draft.pk)))
    data.update(changes)
    return client.post(url("change", draft.pk), data)


def test_every_card_field_is_rendered_once(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    controls = Controls(client.get(url("change", draft.pk)).content.decode()).controls
    names = Counter(name for _, name, _, _ in controls if name)
    assert {name: count for name, count in names.items() if count > 1} == {}
    # The version is typed in one place: the card's, not again under packaging.
    assert names["version"] == 1 and names["package_version"] == 1
    assert {"t0.n", "t0.0", "t2.1", "s0.n", "s0.f", "s0.k", "s1.n", "tn", "sn"} <= set(names)
    # A stored tool's schema editor is filled when opened; ?schemas=all writes each one in the page.
    assert "t0.s" not in names
    every = Counter(name for _, name, _, _ in Controls(
        client.get(url("change", draft.pk) + "?schemas=all").content.decode()).controls if name)
    assert every["t0.s"] == every["t2.s"] == 1 and max(every.values()) == 1


def test_grid_saves_edits_removals_membership_and_a_new_tool_into_a_new_scope(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    saved = post(
        client, draft,
        **{"t0.d": "renamed description", "t1.z": "on", "t2.0": "on",
           "tn": "4", "t3.n": "append_note", "t3.s": '{"type": "object", "required": ["text"]}',
           "t3.x": "on", "t3.w": "on",
           "sn": "3", "s2.n": "notes_write", "s2.d": "", "s2.f": "firearm.external_write",
           "s2.k": ["kpi.change_failure_rate"], "t3.2": "on", "s1.f": "__none__"},
    )
    assert saved.status_code == 302, saved.context and saved.context["error_links"]
    draft.refresh_from_db()
    spec = draft.spec_snapshot
    assert [tool["name"] for tool in spec["tools"]] == ["tool_0", "tool_2", "append_note"]
    assert spec["tools"][0]["description"] == "renamed description"
    new_schema = {"type": "object", "required": ["text"]}
    assert spec["tools"][2] == {"name": "append_note", "inputSchema": new_schema}
    assert [(scope["name"], scope["tools"]) for scope in spec["scopes"]] == [
        ("scope_0", ["tool_0", "tool_2"]),
        ("scope_1", []),
        ("notes_write", ["append_note"]),
    ]
    assert draft.policy_snapshot == {
        "firearms": {"scope_1": None, "notes_write": "firearm.external_write"},
        "kpis": {"notes_write": ["kpi.change_failure_rate"]},
    }
    card = client.get(url("change", draft.pk)).content.decode()
    chips = (
        '<span class="chip fire">firearm.external_write</span>'
        '<span class="chip">kpi.change_failure_rate</span>'
    )
    assert chips in card


def test_hints_not_set_stay_not_set_and_a_changed_hint_is_set(editor):
    client, tenant = editor
    unannotated = {"name": "bare", "inputSchema": {"type": "object"}}
    explicit = draft_tool("careful", destructive=False)  # readOnlyHint false, destructiveHint false
    spec = draft_spec("notes", tools=[unannotated, explicit], scopes=[])
    draft = WorkbenchDraftFactory(tenant=tenant, connector_id="notes", spec_snapshot=spec, policy_snapshot={})
    page = client.get(url("change", draft.pk))
    data = form_data(page)
    # Not set: the boxes show what the product assumes (destructive, open world) and are marked.
    assert data["t0.x"] == "on" and data["t0.w"] == "on" and "t0.r" not in data
    assert 'class=u><input type=checkbox name=t0.x checked>' in page.content.decode()
    data["t1.d"] = "a description"  # a save that touches another field of the second tool only
    assert client.post(url("change", draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.spec_snapshot["tools"][0] == unannotated
    assert draft.spec_snapshot["tools"][1]["annotations"] == {"readOnlyHint": False, "destructiveHint": False}

    data = form_data(client.get(url("change", draft.pk)))
    data["t0.r"] = "on"
    assert client.post(url("change", draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.spec_snapshot["tools"][0]["annotations"] == {"readOnlyHint": True}


def test_an_untouched_schema_keeps_its_key_order_and_number_types(editor):
    client, tenant = editor
    schema = {"type": "object", "properties": {"n": {"type": "number", "maximum": 1.0}}, "$comment": "x"}
    spec = draft_spec("notes", tools=[{"name": "t", "inputSchema": schema}], scopes=[])
    draft = WorkbenchDraftFactory(tenant=tenant, connector_id="notes", spec_snapshot=spec, policy_snapshot={})
    assert post(client, draft, **{"t0.t": "A title"}).status_code == 302
    draft.refresh_from_db()
    assert draft.spec_snapshot["tools"][0] == {"name": "t", "inputSchema": schema, "title": "A title"}


def test_a_bad_schema_is_one_error_on_its_row_with_a_summary_on_top(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    refused = post(client, draft, **{"t1.s": '{"type": "objekt"}'})
    assert refused.status_code == 200
    rows = refused.context["grid"].rows
    assert [bool(row.errors) for row in rows] == [False, True, False]
    assert len(rows[1].errors) == 1 and rows[1].errors[0].startswith("inputSchema")
    html = refused.content.decode()
    assert "Please correct the 1 error below." in html
    assert html.index('id="error-summary"') < html.index('id="draft-card-form"')
    assert '<a href="#t1">Tool tool_1</a>' in html and "<tr id=t1>" in html


def test_a_bad_scope_name_gets_one_message_and_every_typed_value_is_kept(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    typed = {
        "version": "1.3.0", "t0.t": "typed title", "t2.1": "on", "s0.f": "firearm.external_write",
        "s1.k": ["kpi.change_failure_rate"], "tn": "4", "t3.n": "new_tool", "t3.s": '{"type": "object"}',
        "sn": "3", "s2.n": "Bad Name", "t3.2": "on", "s2.f": "__none__",
    }
    refused = post(client, draft, **typed)
    assert refused.status_code == 200
    ((anchor, label, message),) = refused.context["error_links"]
    assert (anchor, label) == ("c2", "Scope Bad Name") and "scope name" in message.lower()
    assert "A scope needs a name" not in refused.content.decode()
    kept = form_data(refused)
    for name, value in typed.items():
        assert kept.get(name) in (value, *value) if isinstance(value, list) else kept.get(name) == value, name
    assert "t1.0" not in kept and kept["t1.1"] == "on"  # unticked stays unticked, ticked stays ticked
    draft.refresh_from_db()
    assert draft.revision == 1


def test_a_blank_added_scope_is_ignored_and_a_nameless_used_one_is_one_message(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    assert post(client, draft, **{"sn": "3", "s2.n": "", "s2.f": ""}).status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 1  # nothing changed
    refused = post(client, draft, **{"sn": "3", "s2.n": "", "s2.f": "", "t0.2": "on"})
    assert [message for _, _, message in refused.context["error_links"]] == ["A scope needs a name."]


def test_tampered_counts_and_choices_are_form_errors_not_500s(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    for changes in ({"tn": "99999999"}, {"sn": "x"}, {"s0.f": "firearm.nope"}, {"t0.n": "a\x00b"},
                    {"s0.k": ["kpi.nope"]}, {"t0.s": "[" * 100 + "]" * 100}):
        refused = post(client, draft, **changes)
        assert refused.status_code == 200 and refused.context["error_links"], changes
    draft.refresh_from_db()
    assert draft.revision == 1


def test_version_typed_on_the_card_is_the_version_saved(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    assert post(client, draft, version="1.3.0", package_version="1.2.0").status_code == 302
    draft.refresh_from_db()
    assert draft.version == "1.3.0" and draft.spec_snapshot["packaging"]["version"] == "1.2.0"


def realistic_schema(i):
    """An input schema as MCP servers write them: a few typed properties with descriptions, an enum and
    required ones (about 400 bytes as compact JSON)."""
    return {
        "type": "object",
        "properties": {
            "owner": {"type": "string", "description": "Account that owns the repository"},
            "repo": {"type": "string", "description": f"Repository name (tool {i})"},
            "path": {"type": "string", "description": "Path of the file, e.g. docs/README.md"},
            "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        "required": ["owner", "repo"],
    }


def big_card(tenant):
    FirearmFactory.create_batch(4)
    KpiDefinitionFactory.create_batch(3)
    draft = card_draft(tenant, tools=300, scopes=10)
    for i, tool in enumerate(draft.spec_snapshot["tools"]):
        tool["inputSchema"] = realistic_schema(i)
    draft.policy_snapshot = {"firearms": {f"scope_{j}": None for j in range(0, 10, 2)}, "kpis": {}}
    draft.save()
    return draft


def test_a_300_tool_10_scope_card_weighs_under_300_kb(editor):
    client, tenant = editor
    draft = big_card(tenant)
    page = client.get(url("change", draft.pk))
    assert page.status_code == 200
    assert len(page.content) < 300 * 1024, len(page.content)
    assert len(page.context["grid"].rows) == 300 and len(page.context["grid"].columns) == 10
    # The schemas are not in the page: each editor is filled when opened, from ?schemas=json (compact).
    assert '"per_page"' not in page.content.decode()
    schemas = client.get(url("change", draft.pk) + "?schemas=json").json()["schemas"]
    assert len(schemas) == 300 and json.loads(schemas[7]) == realistic_schema(7)
    assert schemas[7] == json.dumps(json.loads(schemas[7]), separators=(",", ":"))  # compact


def test_card_queries_do_not_grow_with_tools_and_scopes(editor):
    client, tenant = editor
    small, big = card_draft(tenant, tools=2, scopes=1), big_card(tenant)
    client.get(url("change", small.pk))  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        client.get(url("change", small.pk))
    with CaptureQueriesContext(connection) as many:
        client.get(url("change", big.pk))
    assert len(few) == len(many) == 8, [query["sql"] for query in many.captured_queries]


def test_a_viewer_sees_the_card_as_text_and_is_told_it_is_their_role(client):
    draft = card_draft(MembershipFactory().tenant)
    viewer = staff_member(tenant=draft.tenant, perms=[*PERMS, "workbench.publish_workbenchdraft"])
    viewer.memberships.update(role="viewer")
    client.force_login(viewer)
    page = client.get(url("change", draft.pk))
    assert page.status_code == 200 and not page.context["can_change"]
    assert not page.context["can_publish"] and 'id="publish-button"' not in page.content.decode()
    html = page.content.decode()
    assert "changing it needs the editor or owner role" in html
    assert "status" not in page.context["read_only_reason"]
    controls = Controls(html).controls
    only_the_token = [("input", "csrfmiddlewaretoken", "hidden")]
    assert [(tag, name, kind) for tag, name, kind, _ in controls] == only_the_token
    assert 'id="save-button"' not in html and 'id="add-scope"' not in html
    assert "scope_0" in html and "tool_2" in html  # shown as text
    assert client.post(url("change", draft.pk), form_data(page)).status_code == 403


def test_an_editor_of_a_published_or_abandoned_draft_is_told_the_status(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    WorkbenchDraftFactory._meta.model.objects.filter(pk=draft.pk).update(status="abandoned")
    page = client.get(url("change", draft.pk))
    assert "the status is abandoned" in page.content.decode() and page.context["read_only_reason"] == ""
    names = {c[1] for c in Controls(page.content.decode()).controls}
    assert "s0.f" in names and "t0.n" not in names
    WorkbenchDraftFactory._meta.model.objects.filter(pk=draft.pk).update(status="published")
    page = client.get(url("change", draft.pk))
    assert "This draft is published" in page.content.decode()


def test_an_abandoned_draft_saves_firearm_decisions_and_kpis_but_keeps_tools_and_scopes(editor):
    client, tenant = editor
    draft = card_draft(tenant)
    type(draft).objects.filter(pk=draft.pk).update(status="abandoned")
    before = draft.spec_snapshot
    # Posted tool and scope fields are not the card's to take while the draft is abandoned.
    saved = post(client, draft, **{"s0.f": "firearm.external_write", "s1.k": ["kpi.change_failure_rate"],
                                   "t0.n": "renamed", "tn": "3", "sn": "2", "s0.n": "renamed_scope"})
    assert saved.status_code == 302, saved.context and saved.context["error_links"]
    draft.refresh_from_db()
    assert draft.spec_snapshot == before
    assert draft.policy_snapshot == {
        "firearms": {"scope_0": "firearm.external_write"}, "kpis": {"scope_1": ["kpi.change_failure_rate"]}
    }


def test_markup_in_tool_text_is_shown_as_text_and_saves_back_unchanged(editor):
    client, tenant = editor
    hostile = '</textarea><script>alert("x")</script> & <b>'
    tool = {**draft_tool("odd"), "title": hostile, "description": hostile,
            "inputSchema": {"type": "object", "description": hostile}}
    spec = draft_spec("notes", tools=[tool], scopes=[{"name": "s", "description": hostile, "tools": ["odd"]}])
    draft = WorkbenchDraftFactory(tenant=tenant, connector_id="notes", spec_snapshot=spec,
                                  policy_snapshot={"firearms": {}, "kpis": {}})
    page = client.get(url("change", draft.pk))
    assert "<script>" not in page.content.decode()
    assert client.post(url("change", draft.pk), form_data(page)).status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 1 and draft.spec_snapshot == spec
