"""The card's rules (CONTRACT B3): what a save may change on a draft.

Name/ID never change after creation; the version only moves up (semver); scopes and tools change
only while the draft's status is `draft`; firearm decisions and KPIs may change; the validation
result is written by validation alone; a published draft never changes (change is a new draft).
Stages are a path (definition, scoping, policy, verification): a save moves a draft one stage forward
at a time, or back to any earlier stage (409 `wrong_stage` otherwise). A restore always brings the
content back and takes the revision's stage only where such a save could go (`restore_stage`).
"""

import copy

from workbench.kit import semver
from workbench.kit.jsontext import same_json
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.models.drafts import STAGE_PATH, stage_index, stage_moves

from .errors import not_editable, wrong_stage

EDITABLE_FIELDS = ("stage", "status", "spec_snapshot", "policy_snapshot", "connector_id")
SPEC_DEFAULTS = {"description": "", "tools": [], "scopes": [], "packaging": {}, "portability": {}}
STATUS_MOVES = {("draft", "abandoned"), ("abandoned", "draft")}


OBJECT_SECTIONS = ("packaging", "portability")


def normalized_spec(spec, connector_id, *, owned=False):
    """The spec with its defaults filled in. Packaging and portability are objects by contract, and
    the card reads them field by field, so anything else is refused here (400 naming the field).
    `owned`: the spec is the caller's own (just decoded), filled in place instead of copied first."""
    spec = copy.deepcopy(spec) if isinstance(spec, dict) and not owned else spec
    if isinstance(spec, dict):
        spec.setdefault("id", connector_id)
        for key, default in SPEC_DEFAULTS.items():
            spec.setdefault(key, copy.deepcopy(default))
        wrong = {}
        for key in OBJECT_SECTIONS:
            if not isinstance(spec[key], dict):
                got = repr(spec[key])
                got = got if len(got) <= 40 else got[:37] + "..."
                wrong[f"spec_snapshot.{key}"] = f"{key.capitalize()} must be a JSON object, not {got}."
        if wrong:
            raise Refusal.fields(wrong)
    return spec


def normalized_policy(policy):
    policy = copy.deepcopy(policy) if isinstance(policy, dict) else policy
    if isinstance(policy, dict):
        policy.setdefault("firearms", {})
        policy.setdefault("kpis", {})
    return policy


def check_stage_move(current, new):
    """Refuse a move that skips a stage: forward one stage at a time, back to any earlier stage. A new
    draft counts as saved at `definition`, so it starts there or one stage on (an MCP import, whose
    tools are its definition, starts at `scoping`)."""
    if new not in STAGE_PATH:
        raise Refusal.fields({"stage": f"Stage must be one of {', '.join(STAGE_PATH)}."})
    allowed = stage_moves(current)
    if new not in allowed:
        raise wrong_stage(
            f"A draft moves one stage forward at a time, or back to any earlier stage: from {current} it "
            f"may go to {', '.join(s for s in allowed if s != current)}, not {new} "
            f"(the path is {' -> '.join(STAGE_PATH)}).",
            stage=current,
            allowed=allowed,
        )


def restore_stage(current, revision_stage):
    """(stage, note) of a restore from `current` of a revision saved at `revision_stage`. Any revision can
    be restored (PRODUCT section 4), so the stage rule never refuses one: the draft takes the revision's
    stage when a save could move there (back, or one forward), otherwise it stays where it is (the
    stages in between are walked by saves, as always). The note says what happened, for the history."""
    if revision_stage == current:
        return current, ""
    if revision_stage in stage_moves(current):
        direction = "back" if stage_index(revision_stage) < stage_index(current) else "on"
        return revision_stage, f"stage {direction} to {revision_stage}"
    ahead = stage_index(revision_stage) - stage_index(current)
    return current, f"stage stays {current}, {revision_stage} is {ahead} stages on"


def version_move_problem(old_version, new_version):
    """Why a save may not move the version from `old_version` to `new_version` ("" when it may): a
    version only moves up (semver). The card's form asks this too, so its mistakes come in one round."""
    if new_version == old_version:
        return ""
    if semver.parse(new_version) is None:
        return "Version must be MAJOR.MINOR.PATCH with parts of at most 9 digits, e.g. 1.2.0."
    if semver.parse(old_version) and semver.parse(new_version) <= semver.parse(old_version):
        return f"Version can only move up from {old_version}."
    return ""


def apply_changes(draft, changes, *, restoring=False):
    """Apply `changes` to the (locked) draft in memory, refusing what the card forbids. A spec in
    `changes` is the caller's no longer: the draft takes it (with its defaults filled in)."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise Refusal.fields({name: "This field cannot be changed by a save." for name in unknown})
    if draft.status == WorkbenchDraft.Status.PUBLISHED:
        raise not_editable(
            f"Draft {draft.pk} is published as version {draft.published_version} and never changes; "
            "start a new draft with a higher version."
        )
    if changes.get("stage", draft.stage) != draft.stage:
        check_stage_move(draft.stage, changes["stage"])
    errors = {}
    if "connector_id" in changes and changes["connector_id"] != draft.connector_id:
        errors["connector_id"] = "The connector ID is fixed after creation."

    old_spec = draft.spec_snapshot or {}
    # The spec a save sends becomes the draft's, filled in place rather than copied (40 KB at 120 tools):
    # callers pass one decoded or built for this save (the API's body, the admin's form, a history row).
    given = "spec_snapshot" in changes
    new_spec = old_spec
    if given:
        new_spec = normalized_spec(changes["spec_snapshot"], draft.connector_id, owned=True)
    if isinstance(new_spec, dict):
        if new_spec.get("id") != draft.connector_id:
            errors["spec_snapshot.id"] = "The ID is fixed after creation."
        if old_spec.get("name") and new_spec.get("name") != old_spec.get("name"):
            errors["spec_snapshot.name"] = "The name is fixed after creation."
        version_problem = None if restoring else version_move_problem(
            old_spec.get("version"), new_spec.get("version")
        )
        if version_problem:
            errors["spec_snapshot.version"] = version_problem
        scopes_or_tools_changed = any(
            not same_json(new_spec.get(key), old_spec.get(key)) for key in ("scopes", "tools")
        )
        if scopes_or_tools_changed and draft.status != WorkbenchDraft.Status.DRAFT:
            errors["spec_snapshot.scopes"] = (
                f"Scopes and tools are editable only while the status is draft (it is {draft.status})."
            )

    new_status = changes.get("status", draft.status)
    if new_status != draft.status and (draft.status, new_status) not in STATUS_MOVES:
        errors["status"] = (
            "Only publishing marks a draft published."
            if new_status == WorkbenchDraft.Status.PUBLISHED
            else f"A draft cannot move from {draft.status} to {new_status}."
        )
    if errors:
        raise Refusal.fields(errors)

    if given:
        draft.spec_snapshot = new_spec
    if "policy_snapshot" in changes:
        draft.policy_snapshot = normalized_policy(changes["policy_snapshot"])
    if "stage" in changes:
        draft.stage = changes["stage"]
    draft.status = new_status
    return draft

