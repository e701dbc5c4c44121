"""The access table: each model's scope and who writes and reads its rows (see `access` for the checks
and README "Who may change what", which `markdown_table()` renders)."""

from dataclasses import dataclass

from workbench.tenancy.models import Membership

PLATFORM, TENANT, LIVE = "platform", "tenant", "live"
OWNER, EDITOR, VIEWER = Membership.Role.OWNER, Membership.Role.EDITOR, Membership.Role.VIEWER


@dataclass(frozen=True)
class Rule:
    scope: str
    #: tenant rows: the path from a row to its tenant
    tenant: str = ""
    #: tenant rows: the roles of the row's tenant that write them
    writers: tuple = ()
    #: tenant rows: platform staff write them too
    platform_writes: bool = True
    #: tenant rows whose tenant is empty are platform rows (tenant-less budgets)
    empty_is_platform: bool = False
    #: tenant rows: the path to the user a row is about, who reads it too (their own calls)
    caller: str = ""
    #: rows nobody writes by hand: who writes them
    written_by: str = ""

    @property
    def who_writes(self):
        if self.written_by:
            return self.written_by
        if self.scope == PLATFORM:
            return "platform staff"
        roles = " and ".join(f"{role}s" for role in self.writers)
        staff = ", and platform staff" if self.platform_writes else ""
        platform = "; without a tenant: platform staff" if self.empty_is_platform else ""
        return f"the tenant's {roles}{staff}{platform}"

    @property
    def who_reads(self):
        if self.scope != TENANT:
            return "anyone with the view permission"
        own = ", and the caller of each call" if self.caller else ""
        platform = "; without a tenant: anyone with the view permission" if self.empty_is_platform else ""
        return f"the tenant's members and auditors{own}{platform}"


def _platform(**kwargs):
    return Rule(PLATFORM, **kwargs)


def _tenant(writers=(), **kwargs):
    return Rule(TENANT, tenant="tenant", writers=writers, **kwargs)


GATEWAY = "the tool gateway"
PUBLISHED_BY = "publish and environment loads"

#: model label -> rule. A model missing here is refused everywhere and fails the authorization matrix.
TABLE = {
    # workbench: how it changes
    "workbench.tenant": _platform(),
    "workbench.membership": _tenant(writers=(OWNER,)),
    "workbench.workbenchdraft": _tenant(writers=(OWNER, EDITOR), platform_writes=False),
    "workbench.tsvexchange": Rule(LIVE, written_by=PUBLISHED_BY),
    "workbench.probe": _tenant(written_by="sandbox probes (started by its draft owners and editors)"),
    # Events without a tenant (sign-ins, platform writes) are read by auditors and platform staff only.
    "workbench.securityevent": _tenant(written_by="the audit trail, with the change each records"),
    # registries: what exists
    "registries.componentspec": _platform(),
    "registries.skill": _platform(),
    "registries.connector": Rule(LIVE, written_by=f"{PUBLISHED_BY}; platform staff transfer ownership"),
    "registries.scope": Rule(LIVE, written_by=PUBLISHED_BY),
    "registries.routingconfig": _platform(),
    "registries.engineroute": _platform(),
    "registries.tooldefinition": _platform(),
    "registries.toolpermission": _platform(),
    "registries.toolregistryimport": _platform(written_by="tool registry imports (platform staff)"),
    "registries.toolreceipt": _tenant(caller="user", written_by=GATEWAY),
    "registries.lead": _tenant(written_by=GATEWAY),
    "registries.mediaasset": _tenant(written_by=GATEWAY),
    "registries.memory": _tenant(written_by=GATEWAY),
    "registries.patternscore": _tenant(written_by=GATEWAY),
    "registries.boundary": _tenant(written_by=GATEWAY),
    "registries.task": _tenant(written_by=GATEWAY),
    # policies: what is allowed
    "policies.firearm": _platform(),
    "policies.firearmgrant": _tenant(writers=(OWNER,)),
    "policies.firearmbinding": Rule(LIVE, written_by=PUBLISHED_BY),
    "policies.strategylock": _platform(),
    "policies.kpidefinition": _platform(),
    "policies.kpicorridor": _platform(),
    "policies.kpitoolbinding": Rule(LIVE, written_by=PUBLISHED_BY),
    "policies.budgetpolicy": _tenant(writers=(OWNER,), empty_is_platform=True),
    "policies.usageevent": _tenant(caller="user", written_by=GATEWAY),
    # accounts: who may sign in, with which permissions and tokens
    "auth.user": _platform(),
    "auth.group": _platform(),
    "knox.authtoken": _platform(),
}


def rule_for(model):
    label = model._meta.label_lower
    try:
        return TABLE[label]
    except KeyError:
        raise LookupError(f"{label} is not in the access table (workbench/tenancy/access.py).") from None


# -- the README table ------------------------------------------------------------------------------


def markdown_table():
    """The "Who may change what" table of the README, generated from TABLE (a test keeps them equal)."""
    from django.apps import apps

    lines = ["| model | scope | who writes | who reads |", "| --- | --- | --- | --- |"]
    for label, rule in TABLE.items():
        model = apps.get_model(label)
        lines.append(
            f"| `{label}` ({model._meta.verbose_name_plural}) | {rule.scope} | {rule.who_writes} "
            f"| {rule.who_reads} |"
        )
    return "\n".join(lines)
