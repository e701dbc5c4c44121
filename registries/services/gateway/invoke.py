"""`tool_invoke`: the one way a registered tool is called (API, admin "try this tool", tests, bench).

Checks, in this order, each answered with its own problem code:
 1. a signed-in caller (401 not_authenticated); tool known (404 tool_not_found) and enabled
    (409 tool_disabled)
 2. handler configured (501 not_configured)
 3. call_id and input valid against input_schema, formats included (400 validation_error, one entry
    per field); a keyed tool's key field present (400)
 4. the caller's tenant: the one named must be theirs (403 not_a_member); naming none is allowed only
    with at most one membership (400 tenant_required), so a tenant's budgets and grants always apply
 5. idempotency, from the receipts holding the call's slots (all scoped to the tenant of step 4;
    for a call made for no tenant, to the caller): a replay (200, replayed) returns the stored result
    before any policy check (seed 002: "receipt exists for same call_id -> return existing result";
    keyed: "prior receipt for same tool + key value"), still running (409 call_in_progress), reuse
    with another input (422 idempotency_mismatch)
 6. a new call only: firearm bound to the tool held by the caller (403 firearm_required)
 7. no engaged strategy lock covering the tool, its connector or its firearm (423 strategy_locked)
 8. no exhausted budget (429 budget_exhausted): in one transaction the budgets are locked and
    checked, the cost recorded as a usage event and the `running` receipt inserted. A call refused
    at 6-8 whose slot a concurrent call took meanwhile is answered from that call's receipt (step 5)
    instead.
 9. the handler within timeout_ms (504 timeout), then output validation (recorded, never blocking);
    the receipt is closed. The usage event stays whatever the outcome: an executed call costs.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from registries.models import ToolDefinition, ToolReceipt
from registries.schemas import dialect_for, json_path
from registries.schemas.safety import ValidationTooSlow, errors_within, safe_validator
from workbench.kit.jsontext import unstorable_text
from workbench.kit.refusals import Refusal
from workbench.tenancy.models import Membership

from .dispatch import resolve_handler
from .execution import run_claimed_call
from .idempotency import claim_call, digest, slots_for
from .policy import with_bound_firearm

MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class ToolContext:
    """What a handler knows about the call besides its input."""

    tool: ToolDefinition
    call_id: str
    user: object
    tenant: object
    receipt: ToolReceipt


@dataclass(frozen=True)
class InvokeOutcome:
    receipt: ToolReceipt
    replayed: bool
    # A keyed replay of another caller's call (same tenant): the caller gets the result and the
    # receipt's uid and status, never that caller's input.
    foreign: bool = False

    @property
    def result(self):
        return self.receipt.result


def _field_error(field, code, message):
    return {"field": field, "code": code, "message": message}


def _invalid(errors):
    fields = sorted({e["field"] for e in errors if e["field"]})
    return Refusal(400, "validation_error", f"Invalid {', '.join(fields)}.", errors=errors)


def _check_call(call_id, input, idempotency_key):
    errors = []
    if not isinstance(call_id, str) or not call_id.strip():
        errors.append(_field_error("call_id", "required", "call_id is required: a string naming this call."))
    elif len(call_id) > MAX_ID_LENGTH:
        errors.append(
            _field_error("call_id", "max_length", f"call_id has at most {MAX_ID_LENGTH} characters.")
        )
    elif not call_id.isprintable():
        errors.append(_field_error("call_id", "invalid", "call_id must not contain control characters."))
    if not isinstance(input, dict):
        errors.append(_field_error("input", "invalid", "input must be a JSON object."))
    else:
        errors += [
            _field_error(json_path("input", parts), code, message)
            for parts, code, message in unstorable_text(input)
        ]
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str)
        or len(idempotency_key) > MAX_ID_LENGTH
        or not idempotency_key.isprintable()
    ):
        errors.append(
            _field_error(
                "idempotency_key",
                "invalid",
                f"The Idempotency-Key is a printable string of at most {MAX_ID_LENGTH} characters.",
            )
        )
    if errors:
        raise _invalid(errors)


def input_errors(tool, input):
    """One entry per offending field of `input` against the tool's input_schema (formats checked)."""
    schema = tool.input_schema or {}
    validator = safe_validator(dialect_for(schema), schema)
    errors, seen = [], set()
    try:
        found = errors_within(validator, input)
    except (ValidationTooSlow, RecursionError):
        # Refused, not run: the input takes too long to check against the tool's schema.
        return [_field_error("input", "validation_budget", "The input took too long to validate; send less.")]
    for error in found:
        parts = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            names = [name for name in error.validator_value if name not in error.instance]
            entries = [
                (json_path("input", [*parts, name]), "required", f"{name!r} is required.") for name in names
            ]
        else:
            entries = [(json_path("input", parts), str(error.validator), error.message)]
        for field, code, message in entries:
            if (field, code) not in seen:
                seen.add((field, code))
                errors.append(_field_error(field, code, message))
    if tool.is_keyed and tool.idempotency_key_field not in input:
        field = json_path("input", [tool.idempotency_key_field])
        if (field, "required") not in seen:
            errors.append(
                _field_error(
                    field,
                    "required",
                    f"{tool.name} is keyed by {tool.idempotency_key_field!r}: the field is required.",
                )
            )
    return errors


def caller_tenant(user, tenant):
    """The tenant the call is made for: the one named (the caller must belong to it), else the caller's
    only tenant, else none for a caller of no tenant. A member of several must name one: otherwise only
    tenant-less budgets would apply and a tenant's budget could be dodged."""
    memberships = Membership.objects.filter(user_id=user.pk).order_by()
    if tenant is not None:
        if not memberships.filter(tenant=tenant).exists():
            raise Refusal(403, "not_a_member", f"You are not a member of tenant {tenant.slug!r}.")
        return tenant
    first_two = list(memberships.select_related("tenant").order_by("pk")[:2])
    if len(first_two) > 1:
        message = "You belong to several tenants: name the tenant this call is made for."
        raise Refusal(
            400,
            "tenant_required",
            message,
            errors=[_field_error("tenant", "required", message)],
        )
    return first_two[0].tenant if first_two else None


def tool_invoke(*, tool_name, call_id, input, user, idempotency_key=None, tenant=None):
    """Invoke a registered tool for `user` (and `tenant`); returns an InvokeOutcome or raises Refusal."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        raise Refusal(401, "not_authenticated", "Tools are invoked by a signed-in caller.")
    tools = with_bound_firearm(ToolDefinition.objects.select_related("connector"))
    tool = tools.filter(name=tool_name).first()
    if tool is None:
        raise Refusal(404, "tool_not_found", f"No tool named {tool_name!r} in the registry.")
    if not tool.enabled:
        raise Refusal(409, "tool_disabled", f"{tool.name} is disabled.")
    handler = resolve_handler(tool.name)
    if not handler.configured:
        raise Refusal(
            501,
            "not_configured",
            f"{tool.name} has no handler yet (expected at {handler.path}).",
            handler=handler.path,
        )
    idempotency_key = idempotency_key or None
    _check_call(call_id, input, idempotency_key)
    errors = input_errors(tool, input)
    if errors:
        raise _invalid(errors)
    tenant = caller_tenant(user, tenant)

    # The slots are the tenant's (and for call_id and Idempotency-Key the caller's; without a tenant,
    # all the caller's): a replay answers only a receipt of this tenant (or caller), looked up before
    # the policy checks, which only a new call passes.
    slots = slots_for(
        tool, user=user, tenant=tenant, call_id=call_id, input=input, idempotency_key=idempotency_key
    )
    claim = claim_call(
        tool=tool,
        slots=slots,
        call_id=call_id,
        input=input,
        input_hash=digest(input),
        user=user,
        tenant=tenant,
        idempotency_key=idempotency_key,
    )
    if claim.replayed:
        return InvokeOutcome(claim.receipt, replayed=True, foreign=claim.receipt.user_id != user.pk)
    context = ToolContext(tool=tool, call_id=call_id, user=user, tenant=tenant, receipt=claim.receipt)
    receipt = run_claimed_call(
        tool=tool, receipt=claim.receipt, handler=handler.function, input=input, context=context
    )
    return InvokeOutcome(receipt, replayed=False)
