"""Helpers of the publish tests: a publisher, and a draft validated and ready to publish."""

from tests.policies.factories import FirearmFactory
from tests.workbench.factories import UserFactory, WorkbenchDraftFactory, draft_spec
from workbench.services.drafts import PUBLISH_PERMISSION, draft_validate


def publisher(**kwargs):
    return UserFactory(perms=[PUBLISH_PERMISSION], **kwargs)


def ready_draft(
    connector_id="github", version="1.2.0", firearms=None, kpis=None, owner=None, tenant=None, **spec_extra
):
    """A validated, passing draft (firearm.external_write on admin_write unless told), in `tenant` (a new
    one unless told: republishing a connector takes a draft of the tenant owning it)."""
    tenant_kwargs = {"tenant": tenant} if tenant is not None else {}
    FirearmFactory(firearm_id="firearm.external_write")
    firearms = (
        firearms if firearms is not None else {"admin_write": "firearm.external_write", "read_public": None}
    )
    draft = WorkbenchDraftFactory(
        connector_id=connector_id,
        owner=owner or publisher(),
        spec_snapshot=draft_spec(connector_id, version, **spec_extra),
        policy_snapshot={"firearms": firearms, "kpis": kpis or {}},
        **tenant_kwargs,
    )
    draft_validate(draft_id=draft.pk, user=draft.owner)
    draft.refresh_from_db()
    assert draft.publishable, draft.validation_findings
    return draft
