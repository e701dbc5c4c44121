"""Small domain tables the seed registry's handlers write to, so a tool call has real, countable effects.

Every row belongs to the tenant of the call that wrote it (or to none, for tenant-less callers), and
handlers read only their caller's tenant. Natural keys are unique per tenant in the database as well:
the gateway's keyed idempotency (also per tenant) is what prevents duplicates, and the constraint is
the backstop that would show a gateway bug as an error, not a copy. Without a tenant the keyed slot is
the caller's own, so there the constraint is also what refuses (409) a second tenant-less caller's row
for a key another one wrote.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from workbench.kit.models import CONTENT_LIMIT, REASON_LIMIT, free_text


def unique_per_tenant(model, key):
    """`key` unique within a tenant, and among the rows that have no tenant."""
    return [
        models.UniqueConstraint(fields=["tenant", key], name=f"{model}_{key}_unique_per_tenant"),
        models.UniqueConstraint(
            fields=[key], condition=Q(tenant__isnull=True), name=f"{model}_{key}_unique_without_tenant"
        ),
    ]


class DomainRow(models.Model):
    tenant = models.ForeignKey(
        "workbench.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The tenant of the call that wrote the row.",
    )
    call_id = models.CharField(max_length=200, blank=True, help_text="The tool call that created the row.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class Lead(DomainRow):
    phone = models.CharField(max_length=32)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = unique_per_tenant("lead", "phone")

    def __str__(self):
        return self.phone


class MediaAsset(DomainRow):
    file_ref = models.CharField(max_length=500)
    media_type = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = unique_per_tenant("mediaasset", "file_ref")

    def __str__(self):
        return self.file_ref


class Memory(DomainRow):
    key = models.CharField(max_length=200)
    content = free_text(CONTENT_LIMIT)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "memories"
        ordering = ["-created_at"]
        constraints = unique_per_tenant("memory", "key")

    def __str__(self):
        return self.key


class PatternScore(DomainRow):
    key = models.CharField(max_length=200)
    pattern = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=6, decimal_places=4)

    class Meta:
        ordering = ["-created_at"]
        constraints = unique_per_tenant("patternscore", "key")

    def __str__(self):
        return f"{self.key}: {self.score}"


class Boundary(DomainRow):
    key = models.CharField(max_length=200)
    value = free_text(CONTENT_LIMIT)
    reason = free_text(REASON_LIMIT, blank=True)

    class Meta:
        verbose_name_plural = "boundaries"
        ordering = ["-created_at"]
        constraints = unique_per_tenant("boundary", "key")

    def __str__(self):
        return self.key


class Task(DomainRow):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        DONE = "done", "done"

    title = models.CharField(max_length=200)
    notes = free_text(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title
