"""What a restore brings back: the revision's content, except that the version never goes down. The
restore service and its preview page both read it from here, so the preview shows what the restore
writes."""

from workbench.kit import semver


def restored_spec(current_spec, spec):
    """(spec, note): a revision's `spec` as a restore writes it, and what the history says about the
    version. A restored version below the current one keeps the current one (published versions only go
    up, and the card's version only moves up), the note saying so; otherwise the spec comes back as
    saved and the note is empty."""
    if not isinstance(spec, dict) or not isinstance(current_spec, dict):
        return spec, ""
    current, restored = current_spec.get("version"), spec.get("version")
    current_parts, restored_parts = semver.parse(current), semver.parse(restored)
    if current_parts is None or (restored_parts is not None and restored_parts >= current_parts):
        return spec, ""
    # Short: the history's reason column holds 100 characters, the stage's note included.
    return {**spec, "version": current}, f"version kept at {current}"
