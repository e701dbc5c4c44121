"""Validation (the card's "sandbox result"): checks a draft's whole content against the MCP contract
and the live registries, and stores pass/fail with findings tied to the revision it checked.

Each finding names the stage it belongs to, so the card and the API report what the draft's current
stage still lacks (`WorkbenchDraft.stage_lacks`): `definition` is the connector itself (id, name,
version, tools, packaging, portability, skills), `scoping` its scopes and the tools they grant,
`policy` the firearm and KPI decisions, `verification` what only the live registries can say (version
above the latest published, engaged locks, ownership, skill versions free). The verdict is about the
whole draft, whatever its stage: publish needs it to pass, at `verification`."""

from collections import Counter

from django.db import transaction

from workbench.contract import (
    contract_validator,
    declared_entitlements,
    finding,
    is_destructive,
    json_schema_findings,
    named,
    packaging_problems,
    policy_validator,
    schema_findings,
    strings,
)
from workbench.kit import identifiers as ids
from workbench.models import WorkbenchDraft

from .errors import not_editable
from .probe_results import probe_findings
from .registry_state import check_registry_state
from .revisions import check_revision, lock_draft_for_change, record_validation

ENTITLEMENT_STORE_MISSING = "missing dependency: entitlement store"

VERIFICATION_CODES = frozenset(
    {"version_not_above_published", "lock_conflict", "not_connector_owner", "skill_version_taken"}
)
SCOPING_CODES = frozenset({"no_scopes", "unknown_tool", "tool_without_scope"})
PACKAGING = "spec_snapshot.packaging"
PACKAGING_CODES = {"version": "inexact_package_version", "identifier": "invalid_package_identifier"}


def finding_stage(item):
    """The stage a finding belongs to (see the module's docstring)."""
    if item["code"] in VERIFICATION_CODES:
        return WorkbenchDraft.Stage.VERIFICATION.value
    if item["path"].startswith("policy_snapshot"):
        return WorkbenchDraft.Stage.POLICY.value
    if item["code"] in SCOPING_CODES or item["path"].startswith("spec_snapshot.scopes"):
        return WorkbenchDraft.Stage.SCOPING.value
    return WorkbenchDraft.Stage.DEFINITION.value


def _as_list(value):
    return value if isinstance(value, list) else []


def _as_dict(value):
    return value if isinstance(value, dict) else {}


def _tools_and_scopes(spec, found):
    tools = named(spec.get("tools"))
    for index, tool in enumerate(_as_list(spec.get("tools"))):
        if not isinstance(tool, dict):
            continue
        for key in ("inputSchema", "outputSchema"):
            if isinstance(tool.get(key), dict):
                found.extend(json_schema_findings(tool[key], f"spec_snapshot.tools[{index}].{key}"))
    names = Counter(tool.get("name") for tool in tools)
    for name, count in names.items():
        if count > 1:
            found.append(
                finding("spec_snapshot.tools", f"Tool {name!r} is listed {count} times.", code="duplicate")
            )
    scopes = named(spec.get("scopes"))
    scope_names = Counter(scope.get("name") for scope in scopes)
    for name, count in scope_names.items():
        if count > 1:
            found.append(
                finding("spec_snapshot.scopes", f"Scope {name!r} is defined {count} times.", code="duplicate")
            )
    granted = set()
    for index, scope in enumerate(scopes):
        for tool_name in strings(scope.get("tools")):
            granted.add(tool_name)
            if tool_name not in names:
                found.append(
                    finding(
                        f"spec_snapshot.scopes[{index}].tools",
                        f"Scope {scope.get('name')!r} grants tool {tool_name!r}, which is not a tool.",
                        code="unknown_tool",
                    )
                )
    for name in names:
        if name not in granted:
            found.append(
                finding(
                    "spec_snapshot.tools",
                    f"Tool {name!r} is in no scope, so nobody can be allowed to call it.",
                    severity="warning",
                    code="tool_without_scope",
                )
            )
    if not scopes:
        found.append(finding("spec_snapshot.scopes", "The connector has no scopes.", code="no_scopes"))
    return {tool.get("name"): tool for tool in tools}, [scope.get("name") for scope in scopes], scopes


def _policy(spec_tools, scope_names, scopes, policy, found):
    firearms = _as_dict(policy.get("firearms"))
    kpis = _as_dict(policy.get("kpis"))
    for name in scope_names:
        if name not in firearms:
            found.append(
                finding(
                    f"policy_snapshot.firearms.{name}",
                    f"Scope {name!r} has no firearm decision: choose a firearm or NONE.",
                    code="firearm_undecided",
                )
            )
    for name in firearms:
        if name not in scope_names:
            found.append(
                finding(
                    f"policy_snapshot.firearms.{name}",
                    f"No scope {name!r} in the spec.",
                    code="unknown_scope",
                )
            )
    for name in kpis:
        if name not in scope_names:
            found.append(
                finding(
                    f"policy_snapshot.kpis.{name}", f"No scope {name!r} in the spec.", code="unknown_scope"
                )
            )
    for scope in scopes:
        name = scope.get("name")
        if name in firearms and firearms[name] is None:
            destructive = [
                t for t in strings(scope.get("tools")) if t in spec_tools and is_destructive(spec_tools[t])
            ]
            if destructive:
                found.append(
                    finding(
                        f"policy_snapshot.firearms.{name}",
                        f"Scope {name!r} has destructive tools ({', '.join(destructive[:5])}), no firearm.",
                        severity="warning",
                        code="destructive_without_firearm",
                    )
                )
    return firearms


def _packaging(spec, found):
    # The one packaging rule of the MCP import page and the API's import-mcp, so validation passes no
    # packaging they refuse. A given, non-empty string can only be wrong in its form (an exact version,
    # the registry's identifier form): those keep codes of their own; the rest is the contract's shape.
    if "packaging" in spec:
        packaging = spec["packaging"]
        for path, messages in packaging_problems(packaging, prefix=PACKAGING).items():
            field = path.removeprefix(f"{PACKAGING}.")
            value = packaging.get(field) if isinstance(packaging, dict) else None
            code = PACKAGING_CODES.get(field, "contract") if isinstance(value, str) and value else "contract"
            found.extend(finding(path, message, code=code) for message in messages)
    for entitlement in declared_entitlements(spec):
        found.append(
            finding(
                "spec_snapshot.portability.entitlements",
                f"{ENTITLEMENT_STORE_MISSING} (declares {entitlement!r}; no entitlement store exists).",
                severity="warning",
                code="missing_entitlement_store",
            )
        )
    skills = named(spec.get("skills"), "spec_id")
    for spec_id, count in Counter(skill.get("spec_id") for skill in skills).items():
        if count > 1:
            found.append(
                finding(
                    "spec_snapshot.skills", f"Skill {spec_id!r} is listed {count} times.", code="duplicate"
                )
            )


def check_draft_content(*, connector_id, spec, policy, tenant_id=None):
    """All findings for draft content, errors first, each with its stage. A fixed number of queries,
    whatever the size."""
    found = _content_findings(connector_id=connector_id, spec=spec, policy=policy, tenant_id=tenant_id)
    for item in found:
        item["stage"] = finding_stage(item)
    return sorted(found, key=lambda item: item["severity"] != "error")


def _content_findings(*, connector_id, spec, policy, tenant_id):
    found = []
    # The packaging is judged whole by `_packaging` (the same schema, and more): its schema findings
    # would come twice.
    judged_apart = isinstance(spec, dict) and "packaging" in spec
    found.extend(
        item
        for item in schema_findings(contract_validator(), spec, "spec_snapshot")
        if not (judged_apart and _under(item["path"], PACKAGING))
    )
    found.extend(schema_findings(policy_validator(), policy, "policy_snapshot"))
    if not isinstance(spec, dict) or not isinstance(policy, dict):
        return found
    if spec.get("id") != connector_id:
        found.append(finding("spec_snapshot.id", f"The spec id must be the connector ID {connector_id!r}."))
    if not ids.validate_connector_id.regex.match(connector_id or ""):
        found.append(finding("connector_id", "Connector ID has an invalid format."))
    spec_tools, scope_names, scopes = _tools_and_scopes(spec, found)
    _policy(spec_tools, scope_names, scopes, policy, found)
    _packaging(spec, found)
    found.extend(
        check_registry_state(connector_id=connector_id, spec=spec, policy=policy, tenant_id=tenant_id)
    )
    return found


def _under(path, prefix):
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def passes(findings):
    return not any(item["severity"] == "error" for item in findings)


def _refuse_unless_open(draft):
    # A published draft keeps the passing result it was published with; an abandoned one is reopened
    # first. Either way a new result would overwrite the record of what was checked.
    if draft.status == WorkbenchDraft.Status.PUBLISHED:
        raise not_editable(
            f"Draft {draft.pk} is published as version {draft.published_version}; its validation result "
            "stays as it was at publish. Start a new draft to validate a change."
        )
    if draft.status != WorkbenchDraft.Status.DRAFT:
        raise not_editable(f"Draft {draft.pk} is {draft.status}; reopen it (status draft) to validate.")


def draft_validate(*, draft_id, user, expected_revision=None):
    """Validate the draft's current revision and store the result on it (a history row, same revision).
    Only a draft whose status is `draft` is validated (409 draft_not_editable otherwise). With
    `expected_revision`, only if the draft is still at that revision when its row is locked (412)."""
    with transaction.atomic():
        draft = lock_draft_for_change(draft_id=draft_id, user=user)
        check_revision(draft, expected_revision)
        _refuse_unless_open(draft)
        findings = check_draft_content(
            connector_id=draft.connector_id,
            spec=draft.spec_snapshot,
            policy=draft.policy_snapshot,
            tenant_id=draft.tenant_id,
        )
        findings = sorted([*findings, *probe_findings(draft)], key=lambda item: item["severity"] != "error")
        record_validation(
            draft=draft,
            user=user,
            passed=passes(findings),
            findings=findings,
            checked_revision=draft.revision,
        )
    return draft
