"""Migration 0010: tenant-less keyed slots held before it move to their caller's slot, so the caller's own
replays keep answering from them while another tenant-less caller's call no longer does."""

import importlib

import pytest
from django.apps import apps

from registries.models import Task, ToolReceipt
from registries.services.gateway.idempotency import digest
from tests.registries.gateway_kit import invoke, invoker_with_perm, probe_tool
from tests.workbench.factories import MembershipFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("registries.migrations.0010_tenantless_keyed_slots_per_caller")


def shared_slot(value):
    """A tenant-less keyed slot as the gateway wrote it before 0010: one for every tenant-less caller."""
    return f"f:{digest(None, 'key', value)}"


def test_a_tenantless_keyed_receipt_moves_to_its_callers_slot_and_back(probes):
    probe_tool(mode="keyed", key_field="key")
    ann, bob = invoker_with_perm(), invoker_with_perm()
    first = invoke(ann, call_id="a", input={"key": "k"}).receipt
    ToolReceipt.objects.filter(pk=first.pk).update(key_slot=shared_slot("k"))
    member = MembershipFactory(user=invoker_with_perm()).user
    tenants = invoke(member, call_id="t", input={"key": "k"}).receipt
    untouched = ToolReceipt.objects.get(pk=tenants.pk).key_slot

    migration.per_caller(apps, None)

    assert invoke(ann, call_id="a2", input={"key": "k"}).receipt == first  # still ann's replay
    bobs = invoke(bob, call_id="b", input={"key": "k"})
    assert bobs.replayed is False and Task.objects.count() == 3
    assert ToolReceipt.objects.get(pk=tenants.pk).key_slot == untouched

    migration.shared(apps, None)
    # Back to one slot per key value: the first receipt keeps it, bob's gives its slot up.
    assert ToolReceipt.objects.get(pk=first.pk).key_slot == shared_slot("k")
    assert ToolReceipt.objects.get(pk=bobs.receipt.pk).key_slot is None
    assert ToolReceipt.objects.get(pk=tenants.pk).key_slot == untouched


def test_a_slot_the_current_key_field_does_not_give_is_left_alone(probes):
    probe_tool(mode="keyed", key_field="key")
    receipt = invoke(invoker_with_perm(), call_id="a", input={"key": "k"}).receipt
    stale = f"f:{digest(None, 'title', 'k')}"  # written while the tool was keyed by another field
    ToolReceipt.objects.filter(pk=receipt.pk).update(key_slot=stale)
    migration.per_caller(apps, None)
    assert ToolReceipt.objects.get(pk=receipt.pk).key_slot == stale
