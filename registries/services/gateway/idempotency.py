"""Who may run a call: idempotency slots on the receipt, agreed through the database, the policy checks
of a new call, and the call's cost charged in the same transaction as its receipt.

The receipts holding the call's slots are read first. A replay (succeeded, same input; keyed: same key
value) is answered from its receipt before any policy check: it has no new effect (seed 002), so an
engaged strategy lock, an exhausted budget or a revoked grant does not refuse it. Only a new call is
admitted (`policy.admit`), charged and claimed.

A call claims slots by inserting its receipt (state `running`) in its own committed transaction.
`call_slot` and `key_slot` are unique per tool, so of any number of processes claiming the same slot
exactly one insert wins; the others see that receipt and get a 409 (still running), a replay
(succeeded, same input) or a 422 (same call_id / Idempotency-Key, other input). A call refused by
policy or by the charge looks at its slots once more: a concurrent call that took them meanwhile (its
charge may be what exhausted the budget) answers it instead. Failed, timed-out and abandoned calls empty
their slots so the call can be retried.

Slots, all scoped to the call's tenant (a tenant-less call: to its caller, see `slots_for`):
- `none`: call_slot = caller + call_id, held by the first call only. Every call runs; reusing the
  call_id with another input is a 422, with the same input the call runs again (seed 002: always
  execute).
- `safe-retry`: call_slot = caller + call_id; key_slot = caller + Idempotency-Key (when sent).
- `keyed`: call_slot = caller + call_id; key_slot = the key field's value (one per tool and tenant,
  any caller of that tenant; without a tenant, one per tool and caller).

The same transaction that inserts the receipt charges the tool's cost (`usage_charge`: budget rows
locked, usage re-read, a usage event recorded), so a budget holds across processes: the next claim
waits for the lock and counts this call. A charged call keeps its charge whatever happens after.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from policies.services import usage_charge
from registries.models import IdempotencyMode, ToolReceipt
from workbench.kit.refusals import Refusal

from .policy import admit

# A running call whose deadline (start + timeout_ms + grace) has passed is taken to have died with its
# process; its slot may then be taken over (its own commit is refused afterwards, see execution).
GRACE = timedelta(seconds=30)
MAX_CLAIM_ATTEMPTS = 5


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def digest(*parts):
    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()


@dataclass(frozen=True)
class Slots:
    call_slot: str | None = None
    key_slot: str | None = None
    key_value: object = None

    @property
    def any(self):
        return bool(self.call_slot or self.key_slot)


NO_SLOTS = Slots()


def slots_for(tool, *, user, tenant, call_id, input, idempotency_key):
    caller = user.pk if user is not None else None
    scope = tenant.pk if tenant is not None else None
    call_slot = f"c:{digest(scope, caller, call_id)}"
    if tool.idempotency_mode == IdempotencyMode.SAFE_RETRY:
        return Slots(
            call_slot=call_slot,
            key_slot=f"h:{digest(scope, caller, idempotency_key)}" if idempotency_key else None,
        )
    if tool.idempotency_mode == IdempotencyMode.KEYED:
        value = input[tool.idempotency_key_field]
        # The tenant's callers share a key value (a natural key per tenant). A tenant-less call has no
        # tenant to share with: its slot is its caller's, since a replay skips the policy checks and one
        # tenant-less caller (platform staff, a user of no tenant) must never get another's result
        # without the grant or despite a lock. A list never digests like a tenant's primary key.
        sharers = scope if tenant is not None else ["caller", caller]
        return Slots(
            call_slot=call_slot,
            key_slot=f"f:{digest(sharers, tool.idempotency_key_field, value)}",
            key_value=value,
        )
    # none: the slot only remembers which input the call_id named; later calls run without it.
    return Slots(call_slot=call_slot)


@dataclass(frozen=True)
class Claim:
    receipt: ToolReceipt
    replayed: bool


def _holders(tool, slots):
    match = Q()
    if slots.call_slot:
        match |= Q(call_slot=slots.call_slot)
    if slots.key_slot:
        match |= Q(key_slot=slots.key_slot)
    return list(ToolReceipt.objects.filter(match, tool_name=tool.name).select_related("user", "tenant"))


def _abandon(receipt, now):
    """Free the slot of a call past its deadline. Conditional, so a call finishing meanwhile wins."""
    with transaction.atomic():
        ToolReceipt.objects.filter(
            pk=receipt.pk, status=ToolReceipt.Status.RUNNING, deadline_at__lt=now
        ).update(
            status=ToolReceipt.Status.ABANDONED,
            call_slot=None,
            key_slot=None,
            finished_at=now,
            error={
                "code": "abandoned",
                "detail": "Still running past its deadline; taken over by a later call.",
            },
        )


def _mismatch(tool, call_id, holder):
    return Refusal(
        422,
        "idempotency_mismatch",
        f"call_id {call_id!r} was already used for {tool.name} with a different input.",
        receipt=str(holder.uid),
    )


def _decide(tool, holders, *, slots, input_hash, call_id, now):
    """A replay of an existing receipt, NO_SLOTS (a `none` call that runs again without a slot), or a
    refusal; None when a stale holder was cleared (try again)."""
    running = [r for r in holders if r.status == ToolReceipt.Status.RUNNING]
    stale = [r for r in running if r.deadline_at < now]
    if stale:
        for receipt in stale:
            _abandon(receipt, now)
        return None
    if tool.idempotency_mode == IdempotencyMode.NONE:
        holder = holders[0]
        if holder.input_hash != input_hash:
            raise _mismatch(tool, call_id, holder)
        return NO_SLOTS
    if running:
        raise Refusal(
            409,
            "call_in_progress",
            f"An identical call to {tool.name} is still running (call_id {running[0].call_id!r}); "
            "retry shortly.",
            receipt=str(running[0].uid),
        )
    by_call = next((r for r in holders if slots.call_slot and r.call_slot == slots.call_slot), None)
    by_key = next((r for r in holders if slots.key_slot and r.key_slot == slots.key_slot), None)
    if by_call is not None and by_call.input_hash != input_hash:
        raise _mismatch(tool, call_id, by_call)
    if (
        by_key is not None
        and tool.idempotency_mode == IdempotencyMode.SAFE_RETRY
        and by_key.input_hash != input_hash
    ):
        raise Refusal(
            422,
            "idempotency_mismatch",
            f"This Idempotency-Key was already used for {tool.name} with a different input.",
            receipt=str(by_key.uid),
        )
    # keyed: the same key value replays the prior result even if other fields differ (seed 002).
    return Claim(by_call or by_key, replayed=True)


def _settle(tool, slots, *, input_hash, call_id, now):
    """What the receipts holding the slots say about this call: a replay (Claim), the slots a new call
    claims (NO_SLOTS for a `none` call that runs again), or None when a stale holder was cleared."""
    if not slots.any:
        return slots
    holders = _holders(tool, slots)
    if not holders:
        return slots
    return _decide(tool, holders, slots=slots, input_hash=input_hash, call_id=call_id, now=now)


def claim_call(*, tool, slots, call_id, input, input_hash, user, tenant, idempotency_key):
    """Replay an earlier result, refuse, or admit a new call (policy), charge it and insert its `running`
    receipt, committed. A replay is answered before any policy check.

    Raises Refusal: 409 call_in_progress, 422 idempotency_mismatch, then for a new call 403
    firearm_required, 423 strategy_locked, 429 budget_exhausted.
    """
    admitted = False
    for _ in range(MAX_CLAIM_ATTEMPTS):
        now = timezone.now()
        claimed = _settle(tool, slots, input_hash=input_hash, call_id=call_id, now=now)
        if claimed is None:
            continue  # a stale holder was cleared: look again
        if isinstance(claimed, Claim):
            return claimed
        try:
            if not admitted:
                admit(tool, user=user, tenant=tenant)
                admitted = True
            with transaction.atomic():
                # Budget rows are locked before the slot insert, in every process: one lock order.
                usage_charge(
                    tenant=tenant,
                    user=user,
                    connector=tool.connector,
                    action_name=tool.name,
                    call_id=call_id,
                    cost=tool.cost,
                    unit=tool.cost_unit,
                    at=now,
                )
                receipt = ToolReceipt.objects.create(
                    tool_name=tool.name,
                    call_id=call_id,
                    idempotency_mode=tool.idempotency_mode,
                    idempotency_key=idempotency_key or "",
                    key_value=slots.key_value,
                    call_slot=claimed.call_slot,
                    key_slot=claimed.key_slot,
                    input=input,
                    input_hash=input_hash,
                    user=user,
                    tenant=tenant,
                    cost=tool.cost,
                    started_at=now,
                    deadline_at=now + timedelta(milliseconds=tool.timeout_ms) + GRACE,
                )
        except IntegrityError:
            if not claimed.any:
                raise
            continue  # another process claimed the slot first: look again
        except Refusal:
            # Refused as a new call, but a concurrent call with the same slot may have claimed it since
            # we looked (its charge can be what exhausted the budget): then that call answers this one
            # (replay, 409 or 422), as if it had been seen first.
            if claimed.any and _holders(tool, claimed):
                continue
            raise
        return Claim(receipt, replayed=False)
    raise Refusal(
        409, "call_in_progress", f"Another call to {tool.name} holds this call's slot; retry shortly."
    )
