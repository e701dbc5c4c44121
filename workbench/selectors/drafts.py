"""Which drafts a person may see or change, their history, and the live state they are compared with."""

import re

from django.contrib.auth import get_user_model

from registries.models import ComponentSpec, Connector
from workbench.kit import access
from workbench.kit.refusals import Refusal, field_error
from workbench.models import Tenant, WorkbenchDraft
from workbench.tenancy.access import tenant_ids, writable_tenants

# ASCII digits only (str.isdigit() would take "²", which int() refuses), at most 9 of them.
REVISION_NUMBER = re.compile(r"[0-9]{1,9}")

def tenants_of(user, *, writable=False):
    """Tenants the user is a member of; with `writable`, those where the access table lets them write
    drafts (their owners and editors)."""
    if writable:
        return writable_tenants(user, WorkbenchDraft)
    if not getattr(user, "is_authenticated", False):
        return Tenant.objects.none()
    return Tenant.objects.filter(pk__in=tenant_ids(user))


def drafts_visible_to(user):
    """Drafts the user may read (the access table): their tenants' drafts, every draft for an auditor.
    Superuser status alone opens no other tenant's draft."""
    # Subqueries rather than joins keep the queryset lockable with select_for_update on PostgreSQL.
    return access.readable(user, WorkbenchDraft.objects.all())


def drafts_editable_by(user):
    """Drafts the user may write (the access table): their tenants' drafts where they are an owner or an
    editor; viewers and auditors only read, platform staff do not write other tenants' drafts."""
    return access.writable(user, WorkbenchDraft.objects.all())


PEOPLE = ("owner", "revised_by", "validated_by", "published_by")


def with_people(draft, user):
    """The draft with its tenant and the people an answer names loaded: `user` where it is them, the rest
    in one query at most (none when the row was read with them, as a locked draft is with its owner)."""
    missing = {}
    for name in PEOPLE:
        field = WorkbenchDraft._meta.get_field(name)
        pk = getattr(draft, field.attname)
        if pk is None or field.is_cached(draft):
            continue
        if pk == getattr(user, "pk", None):
            setattr(draft, name, user)
        else:
            missing.setdefault(pk, []).append(name)
    if missing:
        people = get_user_model().objects.in_bulk(missing)
        for pk, names in missing.items():
            for name in names:
                setattr(draft, name, people.get(pk))
    if not WorkbenchDraft._meta.get_field("tenant").is_cached(draft):
        draft.tenant = Tenant.objects.get(pk=draft.tenant_id)
    return draft


def draft_history(draft):
    """History rows of a draft, newest first, with who saved them."""
    return draft.history.select_related("history_user").order_by("-history_date", "-history_id")


def draft_revision_record(draft, revision):
    """The latest history row holding `revision` of the draft's content, or None; its `spec_snapshot` and
    `policy_snapshot` read from the stored snapshots it refers to (joined here)."""
    return (
        draft.history.filter(revision=revision)
        .select_related("spec_content", "policy_content")
        .order_by("-history_date", "-history_id")
        .first()
    )


def draft_revision_numbers(draft):
    return sorted(set(draft.history.values_list("revision", flat=True)))


def latest_published_connector_spec(connector_id):
    """The highest published version of the connector (by semver, not by date), or None."""
    return (
        ComponentSpec.objects.filter(spec_id=connector_id, kind=ComponentSpec.Kind.COMPONENT)
        .order_by("-version_major", "-version_minor", "-version_patch")
        .first()
    )


def live_connector_snapshot(connector_id):
    """What is live for the connector, in draft shape: (spec_snapshot, policy_snapshot), or (None, None).

    The firearm decisions and KPIs are read from today's bindings of the latest version's scopes, so a
    binding changed outside a draft shows up in a diff against live.
    """
    from policies.models import FirearmBinding, KpiToolBinding

    connector = Connector.objects.select_related("latest_spec").filter(connector_id=connector_id).first()
    if connector is None or connector.latest_spec is None:
        return None, None
    spec = dict(connector.latest_spec.schema or {})
    scope_names = [scope.get("name") for scope in spec.get("scopes") or [] if isinstance(scope, dict)]
    actions = {f"{connector_id}:{name}": name for name in scope_names if name}
    firearms = dict.fromkeys(scope_names)
    for action, firearm_id in FirearmBinding.objects.filter(action_name__in=actions).values_list(
        "action_name", "firearm__firearm_id"
    ):
        firearms[actions[action]] = firearm_id
    kpis = {}
    for action, kpi_id in (
        KpiToolBinding.objects.filter(action_name__in=actions)
        .values_list("action_name", "kpi__kpi_id")
        .order_by("action_name", "kpi__kpi_id")
    ):
        kpis.setdefault(actions[action], []).append(kpi_id)
    return spec, {"firearms": firearms, "kpis": kpis}


def draft_side(draft, key, *, param="from"):
    """One side of a draft comparison, in draft shape: "live" (the connector's live version and today's
    bindings) or a revision number of the draft. The one reading of `from`/`to` the API and the admin
    share. Refusals: 400 when `key` is neither (ASCII digits only), 404 for a revision the draft never had."""
    key = str(key)
    if key == "live":
        spec, policy = live_connector_snapshot(draft.connector_id)
        return {"spec_snapshot": spec or {}, "policy_snapshot": policy or {}}
    if not REVISION_NUMBER.fullmatch(key):
        message = f"'{param}' must be a revision number or 'live'."
        raise Refusal.invalid([field_error(param, "invalid", message)], message)
    record = draft_revision_record(draft, int(key))
    if record is None:
        raise Refusal(404, "revision_not_found", f"Draft {draft.pk} has no revision {key}.")
    return {
        "stage": record.stage,
        "status": record.status,
        "spec_snapshot": record.spec_snapshot,
        "policy_snapshot": record.policy_snapshot,
    }
