"""Counting API requests against their rate limits (README "Production", rate limits).

A request is counted in one or two buckets (its token's and its tenant's, for its kind: read, write or
invoke), each a fixed window of the rate's period. Counting is one atomic statement per bucket, so any
number of workers and machines see the same count and N concurrent requests over a limit of L admit
exactly L:

- in the database (the default): an upsert of the bucket's `RateCounter` row that also rolls the window
  over (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, on PostgreSQL and SQLite alike). The row lock
  the upsert takes orders concurrent requests; each gets its own count back.
- in Redis, when `REDIS_URL` is set (the `throttle` cache): one key per bucket and window, `INCR`.
  Django's DatabaseCache is not used: its incr is a read and a write, two workers can both read 4 and
  both write 5.

The token's bucket is counted first; a request it refuses does not touch the tenant's bucket, so one
token over its own limit does not use up its tenant's. A request the tenant's bucket refuses gives its
token's count back.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from redis.exceptions import RedisError

from workbench.kit.refusals import Refusal
from workbench.models.rate_limits import RateCounter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bucket:
    """One counter: `key` names it (kind, period and whose), `limit` requests per `period` seconds."""

    key: str
    limit: int
    period: int
    #: Said in the refusal: "token" or "tenant".
    owner: str


def rate_limit_hit(*, buckets, now=None):
    """Count one request in each bucket, in order; raise Refusal 429 `throttled` (with `retry_after`,
    whole seconds until the refusing bucket's window ends) when one is over its limit."""
    now = time.time() if now is None else now
    store = _store()
    counted = []
    for bucket in buckets:
        window_start = int(now // bucket.period) * bucket.period
        hits, window_start = store.hit(bucket, window_start)
        if hits > bucket.limit:
            for earlier, earlier_window in counted:
                store.give_back(earlier, earlier_window)
            retry_after = max(1, math.ceil(window_start + bucket.period - now))
            raise Refusal(
                429,
                "throttled",
                f"Too many requests for this {bucket.owner}: at most {bucket.limit} in "
                f"{bucket.period} s. Retry in {retry_after} s.",
                retry_after=retry_after,
            )
        counted.append((bucket, window_start))


#: How old a counter's window may start before `rate_counters_purge` deletes it: the longest period a
#: rate takes (a day) plus a day, so every deleted window ended more than a day ago.
STALE_AFTER = 2 * 86400
PURGE_BATCH_SIZE = 5000


def rate_counters_purge(*, now=None, batch_size=PURGE_BATCH_SIZE):
    """Delete the database's rate-limit counters whose window ended more than a day ago (anonymous /v0
    callers leave one per address; a counter comes back at its next request). Returns how many. In
    batches, each its own statement, so no long lock holds up the requests being counted."""
    cutoff = int(time.time() if now is None else now) - STALE_AFTER
    stale = RateCounter.objects.filter(window_start__lt=cutoff)
    deleted = 0
    while True:
        batch = list(stale.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        deleted += RateCounter.objects.filter(pk__in=batch, window_start__lt=cutoff).delete()[0]


def _store():
    return RedisStore() if getattr(settings, "REDIS_URL", "") else DatabaseStore()


class DatabaseStore:
    """Counters as `RateCounter` rows, counted by one upsert each."""

    def hit(self, bucket, window_start):
        table = connection.ops.quote_name(RateCounter._meta.db_table)
        # The SET expressions read the row as it was before the update (SQL's rule, kept by PostgreSQL
        # and SQLite): a stored window older than this request's starts again at 1. A worker whose clock
        # is behind (an older window) counts in the stored, newer one.
        sql = (
            f"INSERT INTO {table} (bucket, window_start, hits) VALUES (%s, %s, 1) "
            f"ON CONFLICT (bucket) DO UPDATE SET "
            f"hits = CASE WHEN {table}.window_start >= excluded.window_start "
            f"THEN {table}.hits + 1 ELSE 1 END, "
            f"window_start = CASE WHEN {table}.window_start >= excluded.window_start "
            f"THEN {table}.window_start ELSE excluded.window_start END "
            f"RETURNING hits, window_start"
        )
        # Each statement commits on its own (autocommit, no surrounding atomic block): the row lock lasts
        # one statement, not the request, and a refused request's count stays counted.
        with connection.cursor() as cursor:
            cursor.execute(sql, [bucket.key, window_start])
            hits, stored_window = cursor.fetchone()
        return hits, stored_window

    def give_back(self, bucket, window_start):
        RateCounter.objects.filter(bucket=bucket.key, window_start=window_start, hits__gt=0).update(
            hits=F("hits") - 1
        )


#: Seconds a client waits before retrying when the Redis that counts requests cannot be reached.
REDIS_RETRY_AFTER = 5


class RedisStore:
    """Counters as Redis keys (the `throttle` cache), one per bucket and window, counted by INCR. A Redis
    that cannot be reached refuses the request (503 `rate_limits_unavailable`, Retry-After) rather than
    letting it through uncounted: the limits protect the workers and the tools behind the gateway."""

    def __init__(self):
        self.cache = caches["throttle"]

    def _key(self, bucket, window_start):
        return f"rate:{bucket.key}:{window_start}"

    def hit(self, bucket, window_start):
        key = self._key(bucket, window_start)
        try:
            # The key outlives its window by a few seconds, so it cannot expire between add and incr.
            self.cache.add(key, 0, timeout=bucket.period + 5)
            return self.cache.incr(key), window_start
        except RedisError as error:
            logger.warning("Rate-limit store (Redis) unavailable, answered 503: %s", error)
            raise Refusal(
                503,
                "rate_limits_unavailable",
                "The rate-limit counters cannot be reached; try again shortly.",
                retry_after=REDIS_RETRY_AFTER,
            ) from error

    def give_back(self, bucket, window_start):
        try:
            self.cache.decr(self._key(bucket, window_start))
        except ValueError:  # the window's key is gone: nothing left to give back
            pass
        except RedisError as error:  # the request is refused anyway; its count ends with its window
            logger.warning("Rate-limit count not given back (Redis unavailable): %s", error)
