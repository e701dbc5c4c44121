"""The "Publish selected drafts" admin action: confirmation with diff and risk flags, the publish
permission, tenants, refusals as messages, and the revision the page showed is the one published."""


import threading

import pytest
from django.db import connection
from django.test import Client

from registries.models import Connector
from tests.policies.factories import FirearmFactory
from tests.workbench.drafts_admin_kit import PERMS, form_data, staff_member, url
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import PUBLISH_PERMISSION, draft_update, draft_validate

pytestmark = pytest.mark.django_db


def test_publish_action_confirms_with_diff_and_risk_flags_then_publishes(client):
    FirearmFactory(firearm_id="firearm.external_write")
    user = staff_member(perms=[*PERMS, PUBLISH_PERMISSION])
    draft = WorkbenchDraftFactory(
        tenant=user.memberships.get().tenant, connector_id="github", spec_snapshot=draft_spec("github")
    )
    client.force_login(user)
    client.post(url("validate", draft.pk))
    confirm = client.post(url("changelist"), {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert confirm.status_code == 200
    (item,) = confirm.context["items"]
    assert "destructive tool in a scope without a firearm: admin_write (delete_file)" in item["flags"]
    assert "scope admin_write added with 1 tool" in [c["summary"] for c in item["changes"]]
    confirmed = {
        "action": "publish_selected",
        "_selected_action": [draft.pk],
        "confirm": "yes",
        f"revision_{draft.pk}": confirm.context["items"][0]["draft"].revision,
    }
    done = client.post(url("changelist"), confirmed, follow=True)
    published = f"Draft {draft.pk}: published github 1.2.0 (revision 1)."
    assert published in [str(m) for m in done.context["messages"]]
    assert Connector.objects.get(connector_id="github").latest_spec.version == "1.2.0"
    again = client.post(url("changelist"), confirmed, follow=True)
    (message,) = [str(m) for m in again.context["messages"]]
    assert message.startswith(f"Draft {draft.pk}: not published. ")


def test_publish_action_needs_the_publish_permission(client):
    user = staff_member()
    client.force_login(user)
    response = client.get(url("changelist"))
    form = response.context["action_form"]
    assert form is None or "publish_selected" not in dict(form.fields["action"].choices)
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant)
    refused = client.post(
        url("changelist"), {"action": "publish_selected", "_selected_action": [draft.pk], "confirm": "yes"}
    )
    assert refused.status_code in (200, 302, 403)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_publish_action_ignores_other_tenants_drafts(client):
    user = staff_member(perms=[*PERMS, PUBLISH_PERMISSION])
    theirs = WorkbenchDraftFactory(connector_id="theirs")
    client.force_login(user)
    response = client.post(
        url("changelist"), {"action": "publish_selected", "_selected_action": [theirs.pk], "confirm": "yes"}
    )
    assert response.status_code in (200, 302)
    theirs.refresh_from_db()
    assert theirs.status == "draft" and not Connector.objects.exists()


@pytest.mark.parametrize("version", ["1.0.9999999999", "1.0.99999999999999999999"])
def test_publish_action_with_an_oversized_version_reports_instead_of_a_500(client, version):
    FirearmFactory(firearm_id="firearm.external_write")
    user = staff_member(perms=[*PERMS, PUBLISH_PERMISSION])
    draft = WorkbenchDraftFactory(
        tenant=user.memberships.get().tenant,
        connector_id="github",
        spec_snapshot=draft_spec("github", version),
    )
    client.force_login(user)
    client.post(url("validate", draft.pk))
    draft.refresh_from_db()
    assert draft.validation_passed is False
    assert ("contract", "spec_snapshot.version") in {
        (f["code"], f["path"]) for f in draft.validation_findings
    }
    publish = {
        "action": "publish_selected",
        "_selected_action": [draft.pk],
        "confirm": "yes",
        f"revision_{draft.pk}": draft.revision,
    }
    refused = client.post(url("changelist"), publish, follow=True)
    assert refused.status_code == 200 and "not published" in refused.content.decode()
    assert "failed; fix the findings" in refused.content.decode()
    # A passing result stored before the cap (validated under the looser rule) is refused at publish too.
    WorkbenchDraft.objects.filter(pk=draft.pk).update(validation_passed=True, validation_findings=[])
    refused = client.post(url("changelist"), publish, follow=True)
    assert refused.status_code == 200 and "not published" in refused.content.decode()
    assert "The registries refuse this content" in refused.content.decode()
    assert not Connector.objects.exists()
    draft.refresh_from_db()
    assert draft.status == "draft"


# -- the revision the page showed, across two sessions (PostgreSQL: real row locks and connections) ----


def _publisher_and_editor():
    FirearmFactory(firearm_id="firearm.external_write")
    publisher = staff_member(perms=[*PERMS, PUBLISH_PERMISSION], username="pat")
    tenant = publisher.memberships.get().tenant
    editor = staff_member(tenant=tenant, username="eve")
    draft = WorkbenchDraftFactory(
        tenant=tenant,
        connector_id="github",
        spec_snapshot=draft_spec("github"),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
    )
    draft_validate(draft_id=draft.pk, user=publisher)
    return publisher, editor, draft


def _in_own_session(call):
    """Run `call` in a thread: its own database connection, as a second app server would have."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    return outcome.get("value")


def _confirm(client, draft):
    page = client.post(url("changelist"), {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert page.status_code == 200
    (item,) = page.context["items"]
    return {
        "action": "publish_selected",
        "_selected_action": [draft.pk],
        "confirm": "yes",
        item["revision_field"]: item["draft"].revision,
    }


@pytest.mark.django_db(transaction=True)
def test_a_save_between_the_confirmation_page_and_the_click_publishes_nothing(on_postgres):
    publisher, editor, draft = _publisher_and_editor()
    pat, eve = Client(), Client()
    pat.force_login(publisher)
    eve.force_login(editor)
    confirmed = _confirm(pat, draft)  # Pat reads revision 1 on the confirmation page

    def eve_saves():
        data = form_data(eve.get(url("change", draft.pk)))
        data["stage"] = "policy"
        return eve.post(url("change", draft.pk), data).status_code

    assert _in_own_session(eve_saves) == 302  # Eve saves revision 2 in her own session
    done = pat.post(url("changelist"), confirmed, follow=True)

    errors = [str(m) for m in done.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "not published" in errors[0], errors
    assert "changed by eve" in errors[0] and "now revision 2" in errors[0]
    assert not Connector.objects.exists()
    draft.refresh_from_db()
    assert (draft.status, draft.revision, draft.stage) == ("draft", 2, "policy")


@pytest.mark.django_db(transaction=True)
def test_confirm_and_a_concurrent_save_never_publish_a_revision_nobody_confirmed(on_postgres):
    publisher, editor, draft = _publisher_and_editor()
    pat = Client()
    pat.force_login(publisher)
    confirmed = _confirm(pat, draft)
    barrier = threading.Barrier(2)
    results = {}

    def eve_saves():
        barrier.wait(timeout=10)
        try:
            draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"stage": "policy"})
            results["save"] = "saved"
        except Refusal as refusal:
            results["save"] = refusal.code

    def pat_confirms():
        barrier.wait(timeout=10)
        done = pat.post(url("changelist"), confirmed, follow=True)
        results["publish"] = [m.level_tag for m in done.context["messages"]]

    threads = [threading.Thread(target=_own_connection(fn)) for fn in (eve_saves, pat_confirms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    draft.refresh_from_db()
    if draft.status == WorkbenchDraft.Status.PUBLISHED:
        # Pat's publish took the row first: revision 1 (the one confirmed) is live; Eve's save was refused.
        assert results == {"publish": ["success"], "save": "draft_not_editable"}, results
        assert draft.published_spec.schema == draft_spec("github") and draft.revision == 1
    else:
        # Eve's save took the row first: nothing is published.
        assert results == {"publish": ["error"], "save": "saved"}, results
        assert draft.revision == 2 and not Connector.objects.exists()


def _own_connection(fn):
    def run():
        try:
            fn()
        finally:
            connection.close()

    return run


# -- the confirmation's queries ------------------------------------------------------------------------


def _live_drafts_with_a_changed_firearm(tenant, count):
    """`count` drafts of live connectors (1.0.0 bound to firearm.external_write on admin_write), each
    moving admin_write to firearm.destructive_op at 1.1.0, validated and passing: every one is diffed
    against live, flagged with today's grants, and re-checked against the registries."""
    from tests.policies.factories import FirearmBindingFactory, FirearmGrantFactory
    from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
    from tests.workbench.publish_kit import ready_draft

    old = FirearmFactory(firearm_id="firearm.external_write")
    new = FirearmFactory(firearm_id="firearm.destructive_op")
    FirearmGrantFactory(firearm=old)
    drafts = []
    for index in range(count):
        connector_id = f"live{index}"
        ConnectorFactory(
            connector_id=connector_id,
            owner=tenant,
            latest_spec=ConnectorSpecFactory(
                spec_id=connector_id, version="1.0.0", schema=draft_spec(connector_id, "1.0.0")
            ),
        )
        FirearmBindingFactory(action_name=f"{connector_id}:admin_write", firearm=old)
        drafts.append(
            ready_draft(
                connector_id,
                "1.1.0",
                firearms={"admin_write": new.firearm_id, "read_public": None},
                tenant=tenant,
            )
        )
    return drafts


def test_the_confirmation_reads_the_same_number_of_queries_for_one_draft_or_many(client):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    user = staff_member(perms=[*PERMS, PUBLISH_PERMISSION])
    tenant = user.memberships.get().tenant
    user.memberships.update(role="editor")
    drafts = _live_drafts_with_a_changed_firearm(tenant, 4)
    client.force_login(user)
    def confirmation(size):
        selected = [draft.pk for draft in drafts[:size]]
        return client.post(url("changelist"), {"action": "publish_selected", "_selected_action": selected})

    confirmation(1)  # warm: session, permissions, content types
    counts = []
    for size in (1, 2, 4):
        with CaptureQueriesContext(db) as queries:
            page = confirmation(size)
        assert page.status_code == 200 and len(page.context["items"]) == size
        # Each draft went through everything the page reads: a diff against live, grant counts in its
        # flags, and the registries' re-check (it would go through).
        for item in page.context["items"]:
            assert item["refusal"] is None, item["refusal"]
            assert any(entry["area"] == "firearms" for entry in item["changes"])
            assert any("1 active grant of firearm.external_write" in flag for flag in item["flags"])
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
