"""Whether publishing a draft would be refused, and why: the publish service's own preconditions
(permission, status, stage, a passing validation of the current revision, with WORKBENCH_REQUIRE_PROBE a
passing probe of it, four-eyes review), written
once here so that `draft_publish` raises exactly what the confirmation page announces.

`draft_publish` checks them again under the draft's row lock; the page's answer is a forecast for the
revision it shows. The registries' re-check (version above the latest published, engaged locks) is the
validation service's, so `publish_forecast` in the publish service adds it to these."""

from django.conf import settings

from registries.models import Connector
from workbench.kit.refusals import Refusal, field_error
from workbench.models import Probe, WorkbenchDraft

from .drafts import drafts_editable_by
from .probes import latest_check_of_revision

PUBLISH_PERMISSION = "workbench.publish_workbenchdraft"


def publish_permission_refusal(user):
    """403 unless the user holds the publish permission, else None."""
    if not user.has_perm(PUBLISH_PERMISSION):
        return Refusal(403, "permission_denied", "You do not have the permission to publish drafts.")
    return None


_UNREAD = object()


def probe_required_refusal(draft, probe):
    """409 `probe_required` unless `probe` (the newest finished check of the draft's current revision, or
    None) succeeded without error findings, else None. Validation already says so, but a probe finished
    after it (a later check of the same revision that failed) or the setting turned on after it would
    otherwise let the revision through."""
    if probe is None:
        why = "has not been probed"
    elif probe.status != Probe.Status.SUCCEEDED:
        why = f"failed its latest probe ({probe.pk}: {probe.reason})"
    elif any(isinstance(item, dict) and item.get("severity") == "error" for item in probe.findings or []):
        why = f"does not match its live server (latest probe {probe.pk} found errors)"
    else:
        return None
    return Refusal(
        409,
        "probe_required",
        f"Publishing needs a passing sandbox probe of the revision (WORKBENCH_REQUIRE_PROBE): revision "
        f"{draft.revision} of draft {draft.pk} {why}. Check it against the live server, then validate.",
        probe=probe.pk if probe is not None else None,
    )


def publish_state_refusal(draft, user, *, review_waived="", is_author=None, latest_probe=_UNREAD):
    """The refusal publishing `draft` (as read) meets for its status, stage, validation, probe or the
    review rule, or None. `is_author`: whether the user wrote part of it, when the caller already knows;
    `latest_probe`: the newest finished check of the current revision, when the caller has read it (read
    here otherwise, only with WORKBENCH_REQUIRE_PROBE)."""
    if draft.status == WorkbenchDraft.Status.PUBLISHED:
        return Refusal(
            409,
            "already_published",
            f"Draft {draft.pk} is already published as version {draft.published_version}.",
        )
    if draft.status != WorkbenchDraft.Status.DRAFT:
        return Refusal(
            409, "draft_not_open", f"Draft {draft.pk} is {draft.status}; reopen it before publishing."
        )
    if draft.stage != WorkbenchDraft.Stage.VERIFICATION:
        detail = (
            f"Draft {draft.pk} is at stage {draft.stage}: publish happens only from verification. Move it "
            "forward one stage at a time (definition -> scoping -> policy -> verification), validate, "
            "then publish."
        )
        errors = [field_error("stage", "wrong_stage", detail)]
        return Refusal(409, "wrong_stage", detail, errors=errors, stage=draft.stage)
    if draft.validated_revision != draft.revision or draft.validation_passed is None:
        last = (
            f" (the last validation was of revision {draft.validated_revision})"
            if draft.validated_revision is not None and draft.validation_passed is not None
            else ""
        )
        return Refusal(
            409,
            "validation_required",
            f"Revision {draft.revision} of draft {draft.pk} has not been validated{last}; validate it first.",
        )
    if not draft.validation_passed:
        return Refusal(
            409,
            "validation_failed",
            f"Validation of revision {draft.revision} failed; fix the findings and validate again.",
        )
    if settings.WORKBENCH_REQUIRE_PROBE:
        if latest_probe is _UNREAD:
            latest_probe = latest_check_of_revision(draft_id=draft.pk, revision=draft.revision)
        refusal = probe_required_refusal(draft, latest_probe)
        if refusal is not None:
            return refusal
    if settings.WORKBENCH_REQUIRE_REVIEW and not review_waived:
        if is_author is None:
            is_author = draft.authors.filter(pk=user.pk).exists()
        if is_author:
            authors = ", ".join(sorted(author.get_username() for author in draft.authors.all()))
            return Refusal(
                403,
                "review_required",
                f"Review is required: you wrote part of draft {draft.pk} (its authors: {authors}), so "
                "someone else must publish it.",
                authors=authors.split(", "),
            )
    return None


def connector_owner_refusal(draft, owner_id, owner_slug=None):
    """403 `not_connector_owner` when the live connector belongs to another tenant, else None (the rule
    `draft_publish` applies under the connector's row lock)."""
    if owner_id is None or owner_id == draft.tenant_id:
        return None
    return Refusal(
        403,
        "not_connector_owner",
        f"Connector {draft.connector_id} belongs to tenant {owner_slug!r}: only its members draft and "
        "publish its versions (platform staff can transfer it).",
        owner=owner_slug,
    )


def publish_refusals(drafts, user):
    """{draft pk: the Refusal publishing it would meet now, or None} for the drafts as read, in a fixed
    number of queries: who may write them, who wrote them, who owns their connectors."""
    drafts = list(drafts)
    ids = [draft.pk for draft in drafts]
    denied = publish_permission_refusal(user)
    writable = set(drafts_editable_by(user).filter(pk__in=ids).values_list("pk", flat=True))
    authored = set()
    if settings.WORKBENCH_REQUIRE_REVIEW:
        authored = set(
            WorkbenchDraft.authors.through.objects.filter(
                workbenchdraft_id__in=ids, user_id=user.pk
            ).values_list("workbenchdraft_id", flat=True)
        )
    probes = latest_probes_of_current_revisions(drafts) if settings.WORKBENCH_REQUIRE_PROBE else {}
    owners = {
        row["connector_id"]: (row["owner_id"], row["owner__slug"])
        for row in Connector.objects.filter(
            connector_id__in={draft.connector_id for draft in drafts}
        ).values("connector_id", "owner_id", "owner__slug")
    }
    out = {}
    for draft in drafts:
        out[draft.pk] = (
            denied
            or (
                None
                if draft.pk in writable
                else Refusal(
                    403,
                    "permission_denied",
                    f"You can read draft {draft.pk} but your role in its tenant cannot change it.",
                )
            )
            or publish_state_refusal(
                draft, user, is_author=draft.pk in authored, latest_probe=probes.get(draft.pk)
            )
            or connector_owner_refusal(draft, *owners.get(draft.connector_id, (None, None)))
        )
    return out


def latest_probes_of_current_revisions(drafts):
    """{draft pk: the newest finished check probe of its current revision} for the drafts that have one.
    One query."""
    revisions = {draft.pk: draft.revision for draft in drafts}
    latest = {}
    probes = Probe.objects.filter(
        kind=Probe.Kind.CHECK, draft_id__in=list(revisions), status__in=Probe.FINISHED
    ).order_by("-created_at", "-id")
    for probe in probes:
        if probe.draft_revision == revisions[probe.draft_id]:
            latest.setdefault(probe.draft_id, probe)
    return latest
