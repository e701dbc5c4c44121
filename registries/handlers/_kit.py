"""Helpers the handlers share: saving one domain row, reading input date-times, shaping values as JSON."""

from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from registries.services.gateway.errors import ToolError


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _bad_input(name, code, message):
    field = f"input.{name}"
    return ToolError(
        400,
        "validation_error",
        f"Invalid {field}: {message}",
        errors=[{"field": field, "code": code, "message": message}],
    )


def input_datetime(input, name):
    """The RFC 3339 date-time `input[name]` as an aware datetime (None when absent or empty).

    The schema checks the format; a valid format can still name an instant no datetime can hold, e.g.
    `9999-12-31T23:59:59-23:59` is in year 10000 in UTC. Such values are the caller's to fix: 400
    naming the field, never a failed tool or a row no one can read back.
    """
    text = input.get(name)
    if not text:
        return None
    try:
        # Upper-casing accepts RFC 3339's lower-case 't'/'z' too.
        value = parse_datetime(str(text).upper())
    except ValueError as error:
        raise _bad_input(name, "invalid", f"not a valid date-time ({error}).") from None
    if value is None or value.tzinfo is None:
        raise _bad_input(name, "invalid", "expected an RFC 3339 date-time with an offset.")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise _bad_input(
            name, "out_of_range", "the date-time is outside 0001-01-01 to 9999-12-31 in UTC."
        ) from None
    return value


def create_row(row, *, what, key):
    """Validate and insert one row; an existing natural key is a 409 refusal, not a duplicate."""
    # Uniqueness is the database's to decide (race-safe): a clash is the 409 below.
    row.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise ToolError(409, "already_exists", f"A {what} with this {key} already exists.") from error
    return row
