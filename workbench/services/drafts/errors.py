"""Refusals of draft services. They are API problems (status + stable code) so the API answers them
as problem+json, and plain exceptions the admin turns into messages."""

from workbench.api.errors import Problem


class DraftProblem(Problem):
    status = 409
    code = "conflict"

    def __init__(self, detail, *, code=None, status=None, errors=None, **extra):
        super().__init__(status or self.status, code or self.code, detail, errors=errors, **extra)

    @property
    def message(self):
        return str(self.detail)


class StaleRevision(DraftProblem):
    """The save was based on a revision someone else has already replaced."""

    status = 412
    code = "precondition_failed"

    def __init__(self, draft, base_revision):
        who = draft.revised_by.get_username() if draft.revised_by_id else "someone"
        when = draft.revised_at.strftime("%Y-%m-%d %H:%M:%S UTC") if draft.revised_at else "an unknown time"
        super().__init__(
            f"Draft {draft.pk} was changed by {who} at {when} (now revision {draft.revision}); your changes "
            f"were based on revision {base_revision} and were not saved. Reload, then apply them again.",
            current_revision=draft.revision,
            changed_by=who if draft.revised_by_id else None,
            changed_at=draft.revised_at.isoformat() if draft.revised_at else None,
        )
        self.current_revision = draft.revision
        self.changed_by = who
        self.changed_at = draft.revised_at


class DraftNotEditable(DraftProblem):
    code = "draft_not_editable"


class PublishRefused(DraftProblem):
    code = "publish_refused"


class PublishConflict(DraftProblem):
    code = "publish_conflict"


class PublishForbidden(DraftProblem):
    status = 403
    code = "permission_denied"
