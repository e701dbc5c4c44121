"""What the admin tests share: one case per model admin (how to make a realistic row, what the admin
allows), URLs, users with given permissions, and re-posting a change form exactly as it was rendered."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import admin
from django.db import connection
from django.forms import MultiWidget
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.models import (
    BudgetPolicy,
    Firearm,
    FirearmBinding,
    FirearmGrant,
    KpiCorridor,
    KpiDefinition,
    KpiToolBinding,
    StrategyLock,
    UsageEvent,
)
from registries.models import (
    Boundary,
    ComponentSpec,
    Connector,
    EngineRoute,
    Lead,
    MediaAsset,
    Memory,
    PatternScore,
    RoutingConfig,
    Scope,
    Skill,
    Task,
    ToolDefinition,
    ToolPermission,
    ToolReceipt,
    ToolRegistryImport,
)
from tests.policies import factories as pf
from tests.registries import factories as rf
from tests.workbench import factories as wf
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.models import Membership, Probe, SecurityEvent, Tenant, TsvExchange, WorkbenchDraft
from workbench.services.audit import audit_record


def _connector():
    connector = rf.ConnectorFactory()
    rf.ScopeFactory.create_batch(2, connector=connector)
    return connector


def _firearm():
    firearm = pf.FirearmFactory()
    pf.FirearmGrantFactory(firearm=firearm)
    pf.FirearmBindingFactory(firearm=firearm)
    return firearm


def _grant():
    # Every principal type, so the list shows users, groups and tenants alike.
    kind = _grant.counter % 3
    _grant.counter += 1
    if kind == 0:
        return pf.FirearmGrantFactory()
    if kind == 1:
        return pf.FirearmGrantFactory(principal_type="group", user=None, group=wf.GroupFactory())
    return pf.FirearmGrantFactory(principal_type="tenant", user=None, tenant=wf.TenantFactory())


_grant.counter = 0


def _lock():
    lock = pf.StrategyLockFactory(actions=["leads.create"])
    lock.connectors.add(rf.ConnectorFactory())
    lock.firearms.add(pf.FirearmFactory())
    return lock


def _kpi():
    corridor = pf.KpiCorridorFactory()
    pf.KpiToolBindingFactory(kpi=corridor.kpi)
    return corridor.kpi


def _tenant():
    membership = wf.MembershipFactory()
    return membership.tenant


@dataclass(frozen=True)
class AdminCase:
    model: type
    make: object
    addable: bool = True
    changeable: bool = True  # False: existing rows are shown read-only (view permission)
    history: bool = False
    identity: tuple = field(default=())
    # Rows only members of their tenant see (drafts): the generic page checks, which use staff outside
    # any tenant, do not apply; tests/workbench/test_drafts_admin.py checks access with memberships.
    tenant_scoped: bool = False
    # Pages opened by the permissions of what they show rather than the model's own view permission
    # (the TSV exchange page: the view permissions of the policy matrix).
    view_perms: tuple = field(default=())

    def __str__(self):
        return self.model._meta.label

    @property
    def perm_prefix(self):
        return f"{self.model._meta.app_label}."

    def perm(self, action):
        return f"{self.perm_prefix}{action}_{self.model._meta.model_name}"

    def perms(self, action):
        if action == "view" and self.view_perms:
            return list(self.view_perms)
        return [self.perm(action)]

    def url(self, view, *args):
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


CASES = [
    AdminCase(ComponentSpec, rf.ComponentSpecFactory, identity=("spec_id", "version")),
    AdminCase(Skill, rf.SkillFactory, identity=("spec_id", "version")),
    AdminCase(Connector, _connector, addable=False, changeable=False),
    AdminCase(Scope, rf.ScopeFactory, addable=False, changeable=False),
    AdminCase(RoutingConfig, rf.RoutingConfigFactory, identity=("resource_kind",)),
    AdminCase(EngineRoute, rf.EngineRouteFactory, identity=("pattern",)),
    AdminCase(Firearm, _firearm, history=True, identity=("firearm_id",)),
    AdminCase(FirearmGrant, _grant, changeable=False, history=True),
    AdminCase(FirearmBinding, pf.FirearmBindingFactory, history=True, identity=("action_name",)),
    AdminCase(StrategyLock, _lock, history=True, identity=("name",)),
    AdminCase(KpiDefinition, _kpi, history=True, identity=("kpi_id",)),
    AdminCase(KpiCorridor, pf.KpiCorridorFactory, history=True, identity=("kpi",)),
    AdminCase(KpiToolBinding, pf.KpiToolBindingFactory, history=True, identity=("action_name", "kpi")),
    AdminCase(
        BudgetPolicy,
        lambda: pf.BudgetPolicyFactory(tenant=wf.TenantFactory(), connector=rf.ConnectorFactory(),
                                       limit=Decimal("10")),
        history=True, identity=("budget_id",),
    ),
    AdminCase(
        UsageEvent,
        lambda: pf.UsageEventFactory(tenant=wf.TenantFactory(), user=wf.UserFactory(),
                                     connector=rf.ConnectorFactory()),
        addable=False, changeable=False,
    ),
    AdminCase(Tenant, _tenant, identity=("slug",)),
    AdminCase(Membership, wf.MembershipFactory, identity=("tenant", "user")),
    AdminCase(WorkbenchDraft, wf.WorkbenchDraftFactory, history=True, tenant_scoped=True),
    # Sandbox probes: read-only, seen by their tenant's members (tests/workbench/probes/test_admin.py).
    AdminCase(Probe, wf.ProbeFactory, addable=False, changeable=False, tenant_scoped=True),
    AdminCase(
        TsvExchange, rf.ScopeFactory, addable=False, changeable=False,
        view_perms=PolicyMatrixResource.export_permissions,
    ),
    # Tool registry and gateway (registries/admin/tools/)
    # Tools change only by importing tools.registry.json: the admin shows them read-only.
    AdminCase(ToolDefinition, rf.ToolDefinitionFactory, addable=False, changeable=False, history=True),
    AdminCase(ToolPermission, rf.ToolPermissionFactory, history=True, identity=("name",)),
    AdminCase(ToolReceipt, lambda: rf.ToolReceiptFactory(user=wf.UserFactory(), tenant=wf.TenantFactory()),
              addable=False, changeable=False),
    AdminCase(ToolRegistryImport, lambda: rf.ToolRegistryImportFactory(imported_by=wf.UserFactory()),
              addable=False, changeable=False),
    # The audit trail: events of a tenant (staff here are auditors, who read every tenant's).
    AdminCase(SecurityEvent, lambda: audit_record(kind="unlocked", subject="x", tenant=wf.TenantFactory()),
              addable=False, changeable=False),
    *(AdminCase(model, make, addable=False, changeable=False) for model, make in [
        (Lead, rf.LeadFactory), (MediaAsset, rf.MediaAssetFactory), (Memory, rf.MemoryFactory),
        (PatternScore, rf.PatternScoreFactory), (Boundary, rf.BoundaryFactory), (Task, rf.TaskFactory),
    ]),
]

# Apps whose every registered model admin must have a case above.
PROJECT_APPS = ("registries", "policies", "workbench")


def cases_for(app_label):
    return [case for case in CASES if case.model._meta.app_label == app_label and not case.tenant_scoped]


def registered_project_models():
    return {model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS}


def logged_in(client, user):
    client.force_login(user)
    return client


def staff(perms=()):
    """Platform staff holding `perms` and reading every tenant's rows: the generic page checks are about
    model permissions; tests/workbench/test_authorization_matrix.py covers every role and scope."""
    return wf.platform_staff(perms)


def changelist_query_counts(client, case, more=20):
    """Queries of the changelist with one row, then with `more` rows added."""
    case.make()
    client.get(case.url("changelist"))  # warm per-process caches (content types) before counting
    with CaptureQueriesContext(connection) as one:
        assert client.get(case.url("changelist")).status_code == 200
    for _ in range(more):
        case.make()
    with CaptureQueriesContext(connection) as many:
        response = client.get(case.url("changelist"))
        assert response.status_code == 200
    assert response.context["cl"].result_count == case.model._default_manager.count() >= more + 1
    return one, many


def _put(data, bound_field):
    if bound_field.field.disabled:
        return
    value = bound_field.value()
    widget = bound_field.field.widget
    if isinstance(widget, MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        for suffix, part in zip(widget.widgets_names, parts, strict=True):
            data[bound_field.html_name + suffix] = "" if part is None else part
    elif isinstance(value, bool):
        if value:
            data[bound_field.html_name] = "on"
    elif isinstance(value, list | tuple):
        data[bound_field.html_name] = [str(item) for item in value]
    else:
        data[bound_field.html_name] = "" if value is None else value


def rendered_form_data(response):
    """POST data equal to what a browser submits for the change form (and inlines) as rendered."""
    data = {}
    for bound_field in response.context["adminform"].form:
        _put(data, bound_field)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound_field in formset.management_form:
            _put(data, bound_field)
        for form in formset.forms:
            for bound_field in form:
                _put(data, bound_field)
    return data


PAGES = ("changelist", "add", "change", "history")


def _page_url(case, page):
    if page in ("changelist", "add"):
        return case.url(page)
    return case.url(page, case.make().pk)


def check_page_access(client, case, page):
    """The page answers 200 to staff holding the permission, 403 to staff without it, and sends
    non-staff (even with every permission) to the login page. Read-only models have no add page at all."""
    if page == "history" and not case.history:
        return
    url = _page_url(case, page)
    every_perm = [perm for action in ("view", "add", "change", "delete") for perm in case.perms(action)]
    needed = {
        "changelist": "view",
        "add": "add",
        "change": "change" if case.changeable else "view",
        "history": "view",
    }[page]

    if page == "add" and not case.addable:
        for user in (wf.SuperuserFactory(), staff(every_perm)):
            assert logged_in(client, user).get(url).status_code == 403, url
    else:
        assert logged_in(client, staff(case.perms(needed))).get(url).status_code == 200, url
        others = [perm for perm in every_perm if perm not in case.perms(needed)]
        if page in ("add",):
            # Holding other permissions of the model is not enough.
            assert logged_in(client, staff(others)).get(url).status_code == 403, url

    assert logged_in(client, staff()).get(url).status_code == 403, url

    response = logged_in(client, wf.UserFactory(perms=every_perm)).get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith(reverse("admin:login")), url


def check_changelist_queries_flat(client, case):
    """The changelist costs the same number of queries for one row as for twenty (no N+1)."""
    # A superuser who is also an auditor: superuser status alone lists no tenant's rows.
    logged_in(client, wf.platform_staff(auditor=True, is_superuser=True))
    one, many = changelist_query_counts(client, case)
    extra = "\n".join(query["sql"] for query in many.captured_queries[len(one):])
    assert len(many) == len(one), f"{case}: {len(one)} queries for one row, {len(many)} for many:\n{extra}"


def check_identity_frozen(client, case):
    """Identity fields are typed on the add form and shown read-only on the change form."""
    logged_in(client, wf.SuperuserFactory())
    add_fields = client.get(case.url("add")).context["adminform"].form.fields
    change = client.get(case.url("change", case.make().pk))
    change_fields = change.context["adminform"].form.fields
    readonly = {field["field"] for field in _readonly_names(change.context["adminform"])}
    for name in case.identity:
        assert name in add_fields, (case, name)
        assert name not in change_fields, (case, name)
        assert name in readonly, (case, name)


def _readonly_names(adminform):
    for fieldset in adminform:
        for line in fieldset:
            for admin_field in line:
                if admin_field.is_readonly:
                    yield admin_field.field


def action_names(changelist_response):
    form = changelist_response.context["action_form"]
    return set(dict(form.fields["action"].choices)) - {""} if form is not None else set()
