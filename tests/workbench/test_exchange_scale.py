"""Exports stream: the first bytes leave before any row is read, and memory does not grow with rows."""

import tracemalloc

import pytest

from policies.models import Firearm, FirearmBinding
from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Scope
from tests.workbench.exchange_kit import connector_row
from tests.workbench.factories import UserFactory, token_client
from workbench.exchange import EXPORTS
from workbench.exchange.policy_matrix import PolicyMatrixResource

pytestmark = pytest.mark.django_db

SCOPES_PER_CONNECTOR = 1000


def add_matrix_rows(count, start=0):
    """`count` policy-matrix rows (scopes of latest versions, every third one bound), in bulk."""
    firearm, _ = Firearm.objects.get_or_create(firearm_id="firearm.bulk", defaults={"name": "Bulk"})
    for first in range(start, start + count, SCOPES_PER_CONNECTOR):
        connector_id = f"bulk-{first // SCOPES_PER_CONNECTOR:05d}"
        metadata = {"spec_class": MCP_CONNECTOR_CLASS}
        spec = ComponentSpec.objects.create(
            spec_id=connector_id, version="1.0.0", kind="component", metadata=metadata
        )
        connector = connector_row(connector_id, connector_id, latest_spec=spec)
        last = min(first + SCOPES_PER_CONNECTOR, start + count)
        names = [f"scope_{index:06d}" for index in range(first, last)]
        Scope.objects.bulk_create([Scope(spec=spec, connector=connector, name=name) for name in names])
        FirearmBinding.objects.bulk_create(
            [FirearmBinding(action_name=f"{connector_id}:{name}", firearm=firearm) for name in names[::3]]
        )


def peak_memory_of_export(kind):
    """Peak Python memory while the whole export streams through, and the number of bytes written."""
    resource = EXPORTS[kind]()
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in resource.stream())
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_number_of_rows():
    # 5,000 then 50,000 rows: many read chunks (2,000 rows) and write batches (500 lines) either way.
    add_matrix_rows(5_000)
    small_peak, small_size = peak_memory_of_export("policy-matrix")
    add_matrix_rows(45_000, start=5_000)
    large_peak, large_size = peak_memory_of_export("policy-matrix")

    assert large_size > 9 * small_size  # ten times the rows went through
    # Flat: the peak is a few read chunks and write batches, not the file (a generous bound).
    assert large_peak < 1.5 * small_peak + 512 * 1024, (small_peak, large_peak)


def test_the_download_starts_before_any_row_is_read(monkeypatch, django_assert_num_queries):
    add_matrix_rows(5_000)
    read = []
    source_rows = PolicyMatrixResource.source_rows

    def counted(self, queryset):
        for row in source_rows(self, queryset):
            read.append(row)
            yield row

    monkeypatch.setattr(PolicyMatrixResource, "source_rows", counted)
    user = UserFactory(perms=list(PolicyMatrixResource.export_permissions))
    response = token_client(user).get("/api/v1/exports/policy-matrix.tsv")
    chunks = iter(response.streaming_content)

    with django_assert_num_queries(0):
        assert next(chunks) == b"connector_id\tscope\tfirearm_id\tstrategy_lock\n"
    assert read == []
    second = next(chunks)
    assert second.count(b"\n") == len(read) == 500  # written as they are read, long before the last
    assert sum(chunk.count(b"\n") for chunk in chunks) == 5_000 - 500
