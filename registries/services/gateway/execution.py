"""Running a claimed call: the handler inside one transaction, bounded by the tool's timeout_ms.

Timeout enforcement, without threads, signals or process-wide state:
- the database stops the handler's statements at the deadline: on PostgreSQL `statement_timeout` is set
  for the transaction (`set_config(..., is_local=true)`), on SQLite a progress handler interrupts any
  statement once the deadline has passed;
- after the handler returns, a wall-clock check: a run past timeout_ms is rolled back like any error.
Either way an overrun commits nothing: the receipt says `timeout`, the caller gets a 504. Pure-Python
work inside a handler is not interrupted mid-way (that would need killing threads); it is only never
committed. The success path commits the handler's rows and the finished receipt in one transaction,
and only if the receipt is still `running` (a call taken over after its deadline cannot commit late).
The usage event was recorded when the call was claimed (see idempotency) and stays: a failed or timed-out
call ran, so it costs.

A handler's ValidationError (a model's full_clean) is the caller's input at fault: 400 with each field
as `input.<field>`, like the input-schema errors (handlers name their rows' fields after the input's).
"""

import json
import logging
import time
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from registries.models import ToolReceipt
from registries.schemas import dialect_for
from registries.schemas.safety import ValidationTooSlow, errors_within, safe_validator
from workbench.kit.jsontext import list_index
from workbench.kit.refusals import Refusal

from .errors import CallTakenOver, ToolError, ToolTimeout
from .idempotency import canonical_json

logger = logging.getLogger("registries.gateway")
QUERY_CANCELED = "57014"


@contextmanager
def database_deadline(timeout_ms, deadline, *, nested):
    """Make the database refuse work past the deadline, for the current transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            previous = None
            if nested:
                # Inside an outer transaction the setting would outlive our savepoint: put it back after.
                cursor.execute("SELECT current_setting('statement_timeout')")
                previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])
        yield
        if previous is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)
    else:
        yield


def as_json(value):
    """The handler's result as plain JSON values (dates as ISO strings); TypeError if it is not JSON."""
    return json.loads(canonical_json(value)) if value is not None else None


def output_mismatches(tool, result):
    schema = tool.output_schema
    if not schema:
        return []
    validator = safe_validator(dialect_for(schema), schema)
    try:
        errors = errors_within(validator, result)
    except (ValidationTooSlow, RecursionError):
        return [{"path": "result", "message": "The result took too long to check against output_schema."}]
    return [
        {
            "path": "result"
            + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path),
            "message": error.message,
        }
        for error in errors
    ]


def extract_receipt_fields(tool, result):
    values = {}
    for path in tool.receipt_fields or []:
        node = {"result": result}
        for part in path.split("."):
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and (index := list_index(part)) is not None and index < len(node):
                node = node[index]
            else:
                node = None
        values[path] = node
    return values


def input_field_errors(error):
    """A handler's ValidationError as the gateway's field entries: `input.<field>`, `input` for the rest."""
    entries = []
    fields = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.error_list}
    for name, errors in fields.items():
        field = "input" if name == NON_FIELD_ERRORS else f"input.{name}"
        for item in errors:
            message = item.message % item.params if item.params else item.message
            entries.append({"field": field, "code": item.code or "invalid", "message": str(message)})
    return entries


def _finish(tool, receipt, *, status, started, **values):
    """Close a running receipt (conditional on it still running); False if it was taken over."""
    finished_at = timezone.now()
    values.update(
        status=status, finished_at=finished_at, duration_ms=int((time.monotonic() - started) * 1000)
    )
    if status != ToolReceipt.Status.SUCCEEDED:
        values.update(call_slot=None, key_slot=None)
    updated = ToolReceipt.objects.filter(pk=receipt.pk, status=ToolReceipt.Status.RUNNING).update(**values)
    if not updated:
        return False
    for name, value in values.items():
        setattr(receipt, name, value)
    return True


def _is_overrun(error, deadline):
    cause = getattr(error, "__cause__", None)
    return time.monotonic() > deadline or getattr(cause, "sqlstate", None) == QUERY_CANCELED


def _fail(tool, receipt, started, status, code, detail):
    with transaction.atomic():
        _finish(tool, receipt, status=status, started=started, error={"code": code, "detail": detail})


def run_claimed_call(*, tool, receipt, handler, input, context):
    """Run the handler for a receipt this process claimed, and close the receipt whatever happens."""
    started = time.monotonic()
    deadline = started + tool.timeout_ms / 1000
    nested = connection.in_atomic_block
    try:
        with transaction.atomic():
            with database_deadline(tool.timeout_ms, deadline, nested=nested):
                result = handler(input, context=context)
            if time.monotonic() > deadline:
                raise ToolTimeout()
            result = as_json(result)
            mismatches = output_mismatches(tool, result)
            if mismatches:
                logger.warning(
                    "Output of %s (call %s) does not match its output_schema: %s",
                    tool.name,
                    receipt.call_id,
                    mismatches,
                )
            closed = _finish(
                tool,
                receipt,
                status=ToolReceipt.Status.SUCCEEDED,
                started=started,
                result=result,
                receipt_fields=extract_receipt_fields(tool, result),
                output_errors=mismatches,
                error={},
            )
            if not closed:
                raise CallTakenOver()
    except (ToolTimeout, CallTakenOver):
        detail = f"{tool.name} ran past its timeout of {tool.timeout_ms} ms; nothing it did was kept."
        _fail(tool, receipt, started, ToolReceipt.Status.TIMEOUT, "timeout", detail)
        raise Refusal(504, "timeout", detail, receipt=str(receipt.uid)) from None
    except ToolError as error:
        _fail(tool, receipt, started, ToolReceipt.Status.FAILED, error.code, error.detail)
        raise Refusal(
            error.status, error.code, error.detail, errors=error.errors, receipt=str(receipt.uid)
        ) from error
    except ValidationError as error:
        errors = input_field_errors(error)
        fields = ", ".join(sorted({entry["field"] for entry in errors}))
        detail = f"{tool.name} refused the input: invalid {fields}."
        messages = "; ".join(error.messages)
        _fail(tool, receipt, started, ToolReceipt.Status.FAILED, "validation_error", messages)
        raise Refusal(400, "validation_error", detail, errors=errors, receipt=str(receipt.uid)) from error
    except DatabaseError as error:
        if _is_overrun(error, deadline):
            detail = f"{tool.name} ran past its timeout of {tool.timeout_ms} ms; the database stopped it."
            _fail(tool, receipt, started, ToolReceipt.Status.TIMEOUT, "timeout", detail)
            raise Refusal(504, "timeout", detail, receipt=str(receipt.uid)) from None
        _handler_crashed(tool, receipt, started, error)
    except Exception as error:  # noqa: BLE001 - a handler bug is the tool's failure, never a 500
        if time.monotonic() > deadline:
            detail = f"{tool.name} ran past its timeout of {tool.timeout_ms} ms."
            _fail(tool, receipt, started, ToolReceipt.Status.TIMEOUT, "timeout", detail)
            raise Refusal(504, "timeout", detail, receipt=str(receipt.uid)) from None
        _handler_crashed(tool, receipt, started, error)
    return receipt


def _handler_crashed(tool, receipt, started, error):
    logger.exception("Handler of %s failed (call %s)", tool.name, receipt.call_id)
    detail = f"The handler of {tool.name} failed: {type(error).__name__}."
    _fail(tool, receipt, started, ToolReceipt.Status.FAILED, "tool_failed", detail)
    raise Refusal(502, "tool_failed", detail, receipt=str(receipt.uid)) from error
