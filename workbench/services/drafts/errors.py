"""Refusals the draft services share (everything else they refuse is a plain Refusal on the spot)."""

from workbench.kit.refusals import Refusal, field_error


def stale_revision(draft, base_revision):
    """412: the change was based on a revision someone else has already replaced; names who and when."""
    who = draft.revised_by.get_username() if draft.revised_by_id else None
    when = draft.revised_at.strftime("%Y-%m-%d %H:%M:%S UTC") if draft.revised_at else "an unknown time"
    return Refusal(
        412,
        "precondition_failed",
        f"Draft {draft.pk} was changed by {who or 'someone'} at {when} (now revision {draft.revision}); "
        f"your change was based on revision {base_revision} and was not applied. "
        "Reload, then apply it again.",
        current_revision=draft.revision,
        changed_by=who,
        changed_at=draft.revised_at.isoformat() if draft.revised_at else None,
    )


def not_editable(detail):
    """409: the draft's status does not allow the change (published, abandoned)."""
    return Refusal(409, "draft_not_editable", detail)


def wrong_stage(detail, *, stage, field="stage", **extra):
    """409: the draft is not at a stage that allows this (a skipped stage, a publish before verification)."""
    return Refusal(
        409, "wrong_stage", detail, errors=[field_error(field, "wrong_stage", detail)], stage=stage, **extra
    )
