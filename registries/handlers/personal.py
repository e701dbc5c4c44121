"""Personal: `personal.boundary_set` (keyed by `key`: the first value set for a key is the one kept)."""

from registries.models import Boundary

from ._kit import create_row, iso


def boundary_set(input, *, context):
    boundary = Boundary(
        key=input["key"],
        value=input["value"],
        reason=input.get("reason", ""),
        call_id=context.call_id,
        tenant=context.tenant,
    )
    create_row(boundary, what="boundary", key="key")
    return {
        "boundary_id": boundary.pk,
        "key": boundary.key,
        "value": boundary.value,
        "set_at": iso(boundary.created_at),
    }
