"""A tenant-less call's keyed slot becomes its caller's (issue 12, rule 5).

Until now every tenant-less caller shared one keyed slot per key value, and a replay skips the policy
checks, so one of them could get another's result without the grant or despite a lock. The gateway now
digests the caller into a tenant-less keyed slot. The receipts already holding such a slot move to the
caller's slot, so their own caller's replays keep answering from them (not a new run refused by the
domain row's constraint). No schema change: the unique constraints are on (tool_name, key_slot), and at
most one receipt held each old slot, so the moved slots stay unique.

The digest is written out here (a migration must not follow later code); it matches
`registries.services.gateway.idempotency.digest` as of this migration. A slot that is not what the tool's
current key field gives (a tool re-keyed or dropped since, a tenant deleted since) already answers no
call and is left as it is; so are receipts whose caller was deleted.
"""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations


def _digest(*parts):
    text = json.dumps(
        list(parts), sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _shared_slot(field, value):
    return f"f:{_digest(None, field, value)}"


def _caller_slot(user_id, field, value):
    return f"f:{_digest(['caller', user_id], field, value)}"


def _tenantless_keyed_holders(apps):
    ToolDefinition = apps.get_model("registries", "ToolDefinition")
    ToolReceipt = apps.get_model("registries", "ToolReceipt")
    fields = dict(
        ToolDefinition.objects.filter(idempotency_mode="keyed").values_list("name", "idempotency_key_field")
    )
    receipts = ToolReceipt.objects.filter(
        tenant__isnull=True, user__isnull=False, idempotency_mode="keyed", key_slot__isnull=False
    ).order_by("pk")
    for receipt in receipts.iterator():
        field = fields.get(receipt.tool_name)
        if field:
            yield ToolReceipt, receipt, field


def per_caller(apps, schema_editor):
    for ToolReceipt, receipt, field in _tenantless_keyed_holders(apps):
        if receipt.key_slot == _shared_slot(field, receipt.key_value):
            new = _caller_slot(receipt.user_id, field, receipt.key_value)
            ToolReceipt.objects.filter(pk=receipt.pk).update(key_slot=new)


def shared(apps, schema_editor):
    """Back to one slot per key value: the first receipt holding it keeps it, the others free theirs (the
    check constraint allows a succeeded receipt without slots), as two could not hold it before."""
    for ToolReceipt, receipt, field in _tenantless_keyed_holders(apps):
        if receipt.key_slot != _caller_slot(receipt.user_id, field, receipt.key_value):
            continue
        old = _shared_slot(field, receipt.key_value)
        taken = ToolReceipt.objects.filter(tool_name=receipt.tool_name, key_slot=old).exists()
        ToolReceipt.objects.filter(pk=receipt.pk).update(key_slot=None if taken else old)


class Migration(migrations.Migration):
    dependencies = [
        ("registries", "0009_tool_registry_import_content"),
    ]

    operations = [migrations.RunPython(per_caller, shared)]
