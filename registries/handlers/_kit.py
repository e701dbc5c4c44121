"""Helpers the handlers share: saving one domain row and shaping values as JSON."""

from django.db import IntegrityError, transaction

from registries.services.gateway.errors import ToolError


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def create_row(row, *, what, key):
    """Validate and insert one row; an existing natural key is a 409 refusal, not a duplicate."""
    row.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise ToolError(409, "already_exists", f"A {what} with this {key} already exists.") from error
    return row
