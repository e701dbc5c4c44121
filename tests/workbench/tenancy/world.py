"""The world the authorization matrix runs in: tenants A and B, the platform tenant, one user per role, and
one row of every model, in tenant A where the model is a tenant's, else platform-wide.

Roles hold every model permission of the three apps (the dev groups' situation: tenants' owners holding
the same model permissions), except the viewer and the auditor, who hold the view permissions only; so
what separates them is the access table, not the model permissions.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Permission

from policies.models import Firearm
from tests.policies import factories as pf
from tests.registries import factories as rf
from tests.workbench import factories as wf
from workbench.models import Membership
from workbench.services.audit import audit_record
from workbench.services.drafts import draft_validate

APPS = ("workbench", "registries", "policies", "auth", "knox")
OWNER, EDITOR, VIEWER = Membership.Role.OWNER, Membership.Role.EDITOR, Membership.Role.VIEWER


@dataclass
class Role:
    name: str
    user: object = None
    tenant_a: str = ""  # role in tenant A
    tenant_b: str = ""
    platform: str = ""  # role in the platform tenant
    superuser: bool = False
    auditor: bool = False
    perms: set = field(default_factory=set)

    @property
    def signed_in(self):
        return self.user is not None

    @property
    def platform_staff(self):
        return self.superuser or self.platform in (OWNER, EDITOR)

    def has(self, perm):
        return self.superuser or perm in self.perms


ROLE_NAMES = [
    "anonymous",
    "viewer_a",
    "editor_a",
    "owner_a",
    "owner_b",
    "platform_editor",
    "superuser",
    "auditor",
]


def _perms(view_only):
    perms = Permission.objects.filter(content_type__app_label__in=APPS).exclude(codename="audit_tenants")
    if view_only:
        perms = perms.filter(codename__startswith="view_")
    return [f"{app}.{codename}" for app, codename in perms.values_list("content_type__app_label", "codename")]


def make_roles(tenant_a, tenant_b, platform):
    every, views = _perms(False), _perms(True)

    def staff(name, perms, memberships=(), **flags):
        user = wf.StaffFactory(
            username=f"matrix-{name}", perms=perms, is_superuser=flags.get("superuser", False)
        )
        role = Role(name=name, user=user, perms=set(perms), **flags)
        for tenant, tenant_role, attr in memberships:
            wf.MembershipFactory(tenant=tenant, user=user, role=tenant_role)
            setattr(role, attr, tenant_role)
        return role

    roles = {
        "anonymous": Role("anonymous"),
        "viewer_a": staff("viewer_a", views, [(tenant_a, VIEWER, "tenant_a")]),
        "editor_a": staff("editor_a", every, [(tenant_a, EDITOR, "tenant_a")]),
        "owner_a": staff("owner_a", every, [(tenant_a, OWNER, "tenant_a")]),
        "owner_b": staff("owner_b", every, [(tenant_b, OWNER, "tenant_b")]),
        "platform_editor": staff("platform_editor", every, [(platform, EDITOR, "platform")]),
        "superuser": staff("superuser", [], superuser=True),
        "auditor": staff("auditor", [*views, "workbench.audit_tenants"], auditor=True),
    }
    return roles


def draft_spec():
    return wf.draft_spec("matrix-conn", "1.1.0")


def build():
    """Every row the matrix addresses, by the name its URLs use. Returns (roles, rows)."""
    tenant_a = wf.TenantFactory(slug="tenant-a")
    tenant_b = wf.TenantFactory(slug="tenant-b")
    platform = wf.platform_tenant()
    roles = make_roles(tenant_a, tenant_b, platform)
    owner_a, viewer_a, editor_a = (roles[name].user for name in ("owner_a", "viewer_a", "editor_a"))

    firearm = pf.FirearmFactory(firearm_id="firearm.external_write")
    critical = pf.FirearmFactory(firearm_id="firearm.matrix_critical", severity=Firearm.Severity.CRITICAL)
    kpi = pf.KpiDefinitionFactory(kpi_id="kpi.matrix")
    corridor = pf.KpiCorridorFactory(kpi=kpi)
    lock = pf.StrategyLockFactory(name="matrix-lock")
    spec = rf.ComponentSpecFactory(spec_id="matrix-atom")
    skill = rf.SkillFactory(spec_id="matrix-skill")
    connector = rf.ConnectorFactory(
        connector_id="matrix-conn",
        owner=tenant_a,
        latest_spec=rf.ConnectorSpecFactory(
            spec_id="matrix-conn", version="1.0.0", schema=wf.draft_spec("matrix-conn", "1.0.0")
        ),
    )
    scope = rf.ScopeFactory(connector=connector, name="admin_write")
    binding = pf.FirearmBindingFactory(action_name="matrix-conn:admin_write", firearm=firearm)
    kpi_binding = pf.KpiToolBindingFactory(action_name="matrix-conn:admin_write", kpi=kpi)
    route = rf.EngineRouteFactory(pattern="/matrix/*", connector=connector)
    routing = rf.RoutingConfigFactory(resource_kind="matrix_kind")
    tool = rf.ToolDefinitionFactory(name="matrix.tool")
    tool_permission = rf.ToolPermissionFactory(name="use:matrix")
    registry_import = rf.ToolRegistryImportFactory(imported_by=None)
    budget_a = pf.BudgetPolicyFactory(budget_id="budget-a", tenant=tenant_a, limit=Decimal("10"))
    budget_all = pf.BudgetPolicyFactory(budget_id="budget-all", tenant=None, limit=Decimal("10"))
    grant = pf.FirearmGrantFactory(
        firearm=firearm, tenant=tenant_a, principal_type="user", user=viewer_a, granted_by=owner_a
    )
    critical_grant = pf.FirearmGrantFactory(
        firearm=critical,
        tenant=tenant_a,
        principal_type="user",
        user=viewer_a,
        granted_by=owner_a,
        needs_approval=True,
    )
    receipt = rf.ToolReceiptFactory(user=editor_a, tenant=tenant_a)
    usage = pf.UsageEventFactory(user=editor_a, tenant=tenant_a, connector=connector)
    domain = {
        "lead": rf.LeadFactory(tenant=tenant_a),
        "mediaasset": rf.MediaAssetFactory(tenant=tenant_a),
        "memory": rf.MemoryFactory(tenant=tenant_a),
        "patternscore": rf.PatternScoreFactory(tenant=tenant_a),
        "boundary": rf.BoundaryFactory(tenant=tenant_a),
        "task": rf.TaskFactory(tenant=tenant_a),
    }
    membership = Membership.objects.get(tenant=tenant_a, user=viewer_a)
    # At verification and revision 1 (as the factory makes it): every operation of the matrix, publish
    # included, then answers by role alone, whatever the stage path says.
    draft = wf.WorkbenchDraftFactory(
        tenant=tenant_a,
        owner=owner_a,
        membership=Membership.Role.OWNER,
        connector_id="matrix-conn",
        spec_snapshot=draft_spec(),
        policy_snapshot={
            "firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}
        },
    )
    draft = draft_validate(draft_id=draft.pk, user=owner_a)
    assert draft.validation_passed, draft.validation_findings
    token = wf.api_token_row(viewer_a)
    rows = {
        "user": viewer_a, "group": wf.GroupFactory(name="matrix-group"), "token": token,
        "tenant_a": tenant_a,
        "tenant_b": tenant_b,
        "platform": platform,
        "firearm": firearm,
        "critical": critical,
        "kpi": kpi,
        "corridor": corridor,
        "lock": lock,
        "spec": spec,
        "skill": skill,
        "connector": connector,
        "scope": scope,
        "binding": binding,
        "kpi_binding": kpi_binding,
        "route": route,
        "routing": routing,
        "tool": tool,
        "tool_permission": tool_permission,
        "registry_import": registry_import,
        "budget_a": budget_a,
        "budget_all": budget_all,
        "grant": grant,
        "critical_grant": critical_grant,
        "receipt": receipt,
        "usage": usage,
        "membership": membership,
        "draft": draft,
        "probe": wf.ProbeFactory(draft=draft),
        "security_event": audit_record(kind="membership_changed", subject="matrix", tenant=tenant_a),
        **domain,
        "exchange": scope,
    }
    return roles, rows
