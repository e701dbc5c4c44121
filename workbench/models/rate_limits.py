"""The API's rate-limit counters (README "Production", rate limits), one row per bucket: a token's or a
tenant's requests of one kind (read, write, invoke) in the current fixed window.

A row is kept per bucket, not per window: the window rolls over in the same atomic upsert that counts
(workbench/services/rate_limits.py), so the table holds one row per token, tenant and kind in use and
needs no purge. Written only by that service, never through the ORM's save (counting must be one atomic
statement, so that every worker sees the same count).
"""

from django.db import models


class RateCounter(models.Model):
    bucket = models.CharField(max_length=200, unique=True)
    #: Start of the counted window, in whole seconds since the epoch (UTC).
    window_start = models.BigIntegerField()
    hits = models.BigIntegerField()

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self):
        return f"{self.bucket}: {self.hits} since {self.window_start}"
