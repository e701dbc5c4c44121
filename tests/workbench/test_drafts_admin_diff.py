"""Draft admin pages of issue 14: the side-by-side diff with its from/to choice, restore with a preview
(the version never goes down), the publish confirmation that says which drafts would be refused, and
the "Validate selected drafts" action; plus the API's structured diff."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.drafts_admin_kit import PERMS, staff_member, url
from tests.workbench.factories import (
    MembershipFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
    token_client,
)
from tests.workbench.publish_kit import ready_draft
from workbench.models import WorkbenchDraft
from workbench.services.drafts import PUBLISH_PERMISSION, draft_update
from workbench.tenancy.models import Membership

pytestmark = pytest.mark.django_db


def limit_tool(kind):
    schema = {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": kind}}}
    return draft_tool("search_notes", read_only=True, inputSchema=schema)


def notes_draft(user, version="1.2.0"):
    """Revision 1 with `limit` a string, revision 2 with it an integer (and version 1.3.0)."""
    scopes = [{"name": "read", "tools": ["search_notes"]}]
    draft = WorkbenchDraftFactory(
        tenant=user.memberships.get().tenant,
        connector_id="notes",
        spec_snapshot=draft_spec("notes", version, tools=[limit_tool("string")], scopes=scopes),
        policy_snapshot={"firearms": {"read": None}, "kpis": {}},
    )
    spec = draft_spec("notes", "1.3.0", tools=[limit_tool("integer")], scopes=scopes)
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"spec_snapshot": spec})
    return WorkbenchDraft.objects.get(pk=draft.pk)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_diff_page_shows_a_property_type_change_side_by_side(client):
    user = staff_member()
    draft = notes_draft(user)
    client.force_login(user)
    page = client.get(url("diff", draft.pk) + "?from=1&to=2")
    assert page.status_code == 200
    rows = [row for group in page.context["groups"] for row in group["rows"]]
    limit = next(row for row in rows if row["what"] == "inputSchema.properties.limit.type")
    assert (limit["change"], limit["before"], limit["after"]) == ("changed", "string", "integer")
    html = page.content.decode()
    assert '<span class="diff-badge diff-changed">changed</span>' in html  # a text label, not colour only
    assert '<option value="1" selected>revision 1</option>' in html
    assert '<option value="2" selected>revision 2 (current)</option>' in html
    assert 'href="/static/workbench/diff.css"' in html and "<script>" not in html and "onclick" not in html
    # Live on either side, and back again.
    assert client.get(url("diff", draft.pk) + "?from=2&to=live").status_code == 200
    assert client.get(url("diff", draft.pk) + "?from=live&to=live").context["groups"] == []
    bad = client.get(url("diff", draft.pk) + "?from=x&to=2", follow=True)
    assert "Cannot compare" in " ".join(messages_of(bad))
    assert client.get(url("diff", draft.pk) + "?from=%00&to=2").status_code == 400


def test_the_history_links_each_restore_to_its_preview(client):
    user = staff_member()
    draft = notes_draft(user)
    client.force_login(user)
    html = client.get(url("history", draft.pk)).content.decode()
    assert f'href="{url("restore", draft.pk)}?revision=1"' in html
    assert 'type="submit" value="Restore' not in html  # no restore in one click


def test_restore_preview_shows_the_diff_then_the_confirm_restores_keeping_the_version(client):
    user = staff_member()
    draft = notes_draft(user)
    client.force_login(user)
    preview = client.get(url("restore", draft.pk) + "?revision=1")
    assert preview.status_code == 200
    rows = [row for group in preview.context["groups"] for row in group["rows"]]
    limit = next(row for row in rows if row["what"] == "inputSchema.properties.limit.type")
    assert (limit["before"], limit["after"]) == ("integer", "string")
    # The version does not go back, so it is no change of the preview; the page says why.
    assert not any(row["what"] == "spec_snapshot.version" for row in rows)
    html = preview.content.decode()
    assert "Version kept at 1.3.0 (revision 1 had 1.2.0)" in html
    assert 'name="base_revision" value="2"' in html and 'id="confirm-restore"' in html
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 2  # a GET writes nothing

    done = client.post(url("restore", draft.pk), {"revision": 1, "base_revision": 2}, follow=True)
    restored = WorkbenchDraft.objects.get(pk=draft.pk)
    assert (restored.revision, restored.version) == (3, "1.3.0")
    assert restored.spec_snapshot["tools"][0]["inputSchema"]["properties"]["limit"]["type"] == "string"
    assert messages_of(done) == [
        "Revision 1 restored as revision 3, at stage verification. The version stays 1.3.0 (revision 1 had "
        "1.2.0): a restore never lowers the version."
    ]
    assert done.redirect_chain[-1][0] == url("change", draft.pk)

    stale = client.post(url("restore", draft.pk), {"revision": 1, "base_revision": 2}, follow=True)
    (message,) = messages_of(stale)
    assert message.startswith("Not restored: ") and "now revision 3" in message
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 3


def test_restore_preview_of_nothing_to_change_offers_no_confirm_and_bad_revisions_go_back(client):
    user = staff_member()
    draft = notes_draft(user)
    client.force_login(user)
    same = client.get(url("restore", draft.pk) + "?revision=2")
    assert same.context["groups"] == [] and 'id="confirm-restore" disabled' in same.content.decode()
    pick = client.get(url("restore", draft.pk))
    assert pick.status_code == 200 and '<option value="1">revision 1</option>' in pick.content.decode()
    assert client.get(url("restore", draft.pk), {"revision": "\x00"}).status_code == 400
    for bad in ("9", "x", "²", "1" * 40):
        response = client.get(url("restore", draft.pk), {"revision": bad}, follow=True)
        assert response.status_code == 200 and "has no revision" in " ".join(messages_of(response)), bad
    for posted in ({}, {"revision": "1"}, {"revision": "¹", "base_revision": "2"}):
        response = client.post(url("restore", draft.pk), posted, follow=True)
        assert "Not restored" in " ".join(messages_of(response))
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 2


def test_restore_preview_is_for_writers_only(client):
    owner = staff_member()
    draft = notes_draft(owner)
    viewer = staff_member(perms=PERMS)
    Membership.objects.filter(user=viewer).update(tenant=draft.tenant, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    assert client.get(url("restore", draft.pk) + "?revision=1").status_code == 403
    assert client.post(url("restore", draft.pk), {"revision": 1, "base_revision": 2}).status_code == 403
    assert "restore-link" not in client.get(url("history", draft.pk)).content.decode()
    client.force_login(staff_member())  # another tenant: no such draft
    assert client.get(url("restore", draft.pk) + "?revision=1").status_code == 404


# -- publish confirmation ------------------------------------------------------------------------------


def publisher_of(draft):
    user = staff_member(tenant=draft.tenant, perms=[*PERMS, PUBLISH_PERMISSION])
    Membership.objects.filter(user=user).update(role=Membership.Role.EDITOR)
    return user


def test_the_confirmation_disables_publish_when_every_draft_would_be_refused(client):
    draft = ready_draft()
    other = ready_draft(connector_id="notes", tenant=draft.tenant)
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": "policy"})
    draft_update(draft_id=other.pk, user=other.owner, base_revision=1, changes={"status": "abandoned"})
    client.force_login(publisher_of(draft))
    selected = {"action": "publish_selected", "_selected_action": [draft.pk, other.pk]}
    page = client.post(url("changelist"), selected)
    assert page.status_code == 200 and page.context["all_refused"]
    reasons = {item["draft"].pk: item["refusal"].code for item in page.context["items"]}
    assert reasons == {draft.pk: "wrong_stage", other.pk: "draft_not_open"}
    html = page.content.decode()
    assert 'id="confirm-publish" disabled' in html
    assert "publish happens only from verification" in html and f"Draft {other.pk} is abandoned" in html


def test_the_confirmation_offers_publish_when_one_draft_would_go_through(client):
    draft = ready_draft()
    other = ready_draft(connector_id="notes", tenant=draft.tenant)
    draft_update(draft_id=other.pk, user=other.owner, base_revision=1, changes={"stage": "policy"})
    client.force_login(publisher_of(draft))
    selected = {"action": "publish_selected", "_selected_action": [draft.pk, other.pk]}
    page = client.post(url("changelist"), selected)
    assert not page.context["all_refused"]
    assert 'id="confirm-publish">' in page.content.decode()
    assert {item["draft"].pk: item["refusal"] is None for item in page.context["items"]} == {
        draft.pk: True,
        other.pk: False,
    }


# -- Validate selected drafts --------------------------------------------------------------------------


def validate(client, drafts):
    return client.post(
        url("changelist"),
        {"action": "validate_selected", "_selected_action": [d.pk for d in drafts]},
        follow=True,
    )


def test_validate_selected_reports_each_draft_and_one_refusal_stops_no_other(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    passing = WorkbenchDraftFactory(tenant=tenant, connector_id="passes")
    failing = WorkbenchDraftFactory(
        tenant=tenant, connector_id="fails", policy_snapshot={"firearms": {}, "kpis": {}}
    )
    abandoned = WorkbenchDraftFactory(tenant=tenant, connector_id="gone", status="abandoned")
    client.force_login(user)
    done = validate(client, [passing, failing, abandoned])
    text = sorted(messages_of(done))
    # The factory's draft: one warning (a destructive tool, no firearm) and a note (no probe), which is
    # no warning; the admin capitalises a message's first letter, so it starts with "Draft".
    severities = [f["severity"] for f in WorkbenchDraft.objects.get(pk=passing.pk).validation_findings]
    assert sorted(severities) == ["info", "warning"]
    assert f"Draft {passing.pk}: revision 1 passed validation (1 warning)." in text
    findings = WorkbenchDraft.objects.get(pk=failing.pk).validation_findings
    errors = sum(1 for finding in findings if finding["severity"] == "error")
    warnings = sum(1 for finding in findings if finding["severity"] == "warning")
    assert errors == 2 and warnings == 0, findings
    assert f"Draft {failing.pk}: revision 1 failed validation: 2 errors, 0 warnings." in text
    refused = f"Draft {abandoned.pk}: not validated. Draft {abandoned.pk} is abandoned"
    assert any(message.startswith(refused) for message in text)
    assert WorkbenchDraft.objects.get(pk=passing.pk).validation_passed is True
    assert WorkbenchDraft.objects.get(pk=abandoned.pk).validation_passed is None


def test_validate_selected_needs_the_change_permission_and_a_writers_role(client):
    draft = WorkbenchDraftFactory()
    reader = staff_member(tenant=draft.tenant, perms=["workbench.view_workbenchdraft"])
    client.force_login(reader)
    form = client.get(url("changelist")).context["action_form"]
    assert form is None or "validate_selected" not in dict(form.fields["action"].choices)
    validate(client, [draft])
    assert WorkbenchDraft.objects.get(pk=draft.pk).validation_passed is None
    viewer = staff_member(perms=PERMS)
    Membership.objects.filter(user=viewer).update(tenant=draft.tenant, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    (message,) = messages_of(validate(client, [draft]))
    assert message.startswith(f"Draft {draft.pk}: not validated. You can read draft {draft.pk}")
    assert WorkbenchDraft.objects.get(pk=draft.pk).validation_passed is None


def test_validate_selected_sends_a_fixed_number_of_statements_per_draft(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    drafts = [WorkbenchDraftFactory(tenant=tenant, connector_id=f"c{i}") for i in range(5)]
    client.force_login(user)
    validate(client, drafts[:1])  # warm: sessions, permissions, content types
    counts = []
    for size in (1, 2, 4):
        with CaptureQueriesContext(connection) as queries:
            validate(client, drafts[:size])
        counts.append(len(queries))
    per_draft = counts[1] - counts[0]
    assert counts[2] - counts[1] == 2 * per_draft  # linear: one validation per draft, nothing more
    assert per_draft <= 12, per_draft


# -- API ----------------------------------------------------------------------------------------------


def test_the_api_diff_is_the_structured_diff():
    owner = UserFactory(perms=PERMS)
    MembershipFactory(user=owner, role=Membership.Role.EDITOR)
    draft = notes_draft(owner)
    client = token_client(owner)
    body = client.get(f"/api/v1/drafts/{draft.pk}/diff/?from=1&to=2").json()
    assert (body["from"], body["to"]) == ("1", "2")
    (tool,) = [entry for entry in body["changes"] if entry["area"] == "tools"]
    assert tool["summary"] == "tool search_notes: inputSchema changed"
    assert tool["details"] == [
        {
            "path": "inputSchema.properties.limit.type",
            "change": "changed",
            "aspect": "type",
            "summary": "inputSchema property limit: type string -> integer",
            "before": "string",
            "after": "integer",
        }
    ]
    version = next(entry for entry in body["changes"] if entry["path"] == "spec_snapshot.version")
    assert (version["before"], version["after"], version["details"]) == ("1.2.0", "1.3.0", [])
    restored = client.post(
        f"/api/v1/drafts/{draft.pk}/restore/", {"revision": 1}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert restored.status_code == 200 and restored.json()["spec_snapshot"]["version"] == "1.3.0"
    assert copy.deepcopy(restored.json()["spec_snapshot"]["tools"]) == [limit_tool("string")]
