"""After a TSV import in the admin, the messages link to each draft the import created or updated (issue 14,
item 6), escaped like any other message."""

import pytest
from django.contrib.messages import get_messages

from tests.admin_helpers import logged_in
from workbench.admin.drafts.views import draft_admin_url
from workbench.models import WorkbenchDraft

from .kit import confirm_in_admin, import_in_admin, like_google_sheets, matrix

pytestmark = pytest.mark.django_db


def import_edits(client, editor, tenant, edits):
    logged_in(client, editor)
    text = like_google_sheets(matrix(editor), edits)
    response = confirm_in_admin(client, import_in_admin(client, text, tenant))
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_messages_link_to_the_drafts_the_import_created_and_updated(client, live, tenant):
    created = import_edits(
        client, live, tenant,
        {
            ("github", "read_public"): "firearm.data_export",
            ("slack", "post_message"): "firearm.external_write",
        },
    )
    drafts = {draft.connector_id: draft for draft in WorkbenchDraft.objects.filter(status="draft")}
    assert set(drafts) == {"github", "slack"}, created
    for connector_id, draft in drafts.items():
        link = f'<a href="{draft_admin_url("change", draft.pk)}">{draft.pk}</a>'
        [message] = [m for m in created if f"{link} of {connector_id} " in m]
        assert message.startswith(f"Created draft {link} of {connector_id}")
        assert client.get(draft_admin_url("change", draft.pk)).status_code == 200
    # A second import updates the open draft: its message links to the same card.
    updated = import_edits(client, live, tenant, {("github", "read_public"): "NONE"})
    github = drafts["github"]
    [message] = [m for m in updated if github.pk in m]
    link = f'<a href="{draft_admin_url("change", github.pk)}">{github.pk}</a>'
    assert message.startswith(f"Updated draft {link} of github")


def test_the_note_in_a_linked_message_is_escaped(client, live, tenant, monkeypatch):
    from workbench.exchange import drafting

    def hostile_note(self, draft, what, count, *, dry_run):
        return f"<b>{what}</b> draft {draft.pk} <script>alert(1)</script>"

    monkeypatch.setattr(drafting.DraftImportResource, "draft_note", hostile_note)
    [message] = [
        m for m in import_edits(client, live, tenant, {("github", "read_public"): "firearm.data_export"})
        if "draft_" in m
    ]
    assert "<script>" not in message and "<b>" not in message
    assert message.startswith("&lt;b&gt;created&lt;/b&gt; draft <a href=")
    assert message.endswith("</a> &lt;script&gt;alert(1)&lt;/script&gt;.")
