"""purge_rate_counters deletes the counters whose window ended more than a day ago and keeps the others,
which go on counting."""

import io
import time

import pytest
from django.core.management import call_command

from workbench.models import RateCounter
from workbench.services.rate_limits import STALE_AFTER, Bucket, rate_counters_purge, rate_limit_hit

pytestmark = pytest.mark.django_db


def test_stale_counters_go_and_current_ones_stay():
    now = int(time.time())
    RateCounter.objects.create(bucket="read:60:anon:203.0.113.7", window_start=now - STALE_AFTER - 1, hits=3)
    RateCounter.objects.create(bucket="read:86400:token:1", window_start=now - 86400, hits=9)
    RateCounter.objects.create(bucket="read:60:token:2", window_start=now // 60 * 60, hits=2)
    out = io.StringIO()
    call_command("purge_rate_counters", stdout=out)
    assert "Deleted 1 stale rate-limit counter(s)." in out.getvalue()
    assert set(RateCounter.objects.values_list("bucket", flat=True)) == {
        "read:86400:token:1",
        "read:60:token:2",
    }
    bucket = Bucket(key="read:60:token:2", limit=10, period=60, owner="token")
    rate_limit_hit(buckets=[bucket], now=now)
    assert RateCounter.objects.get(bucket=bucket.key).hits == 3


def test_in_batches_every_stale_counter_goes():
    now = 10 * STALE_AFTER
    RateCounter.objects.bulk_create(
        RateCounter(bucket=f"read:60:anon:{number}", window_start=0, hits=1) for number in range(7)
    )
    assert rate_counters_purge(now=now, batch_size=3) == 7
    assert rate_counters_purge(now=now) == 0
