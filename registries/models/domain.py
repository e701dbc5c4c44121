"""Small domain tables the seed registry's handlers write to, so a tool call has real, countable effects.

Natural keys are unique in the database as well: the gateway's keyed idempotency is what prevents
duplicates, and the constraint is the backstop that would show a gateway bug as an error, not a copy.
"""

from django.db import models
from django.utils import timezone


class DomainRow(models.Model):
    call_id = models.CharField(max_length=200, blank=True, help_text="The tool call that created the row.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class Lead(DomainRow):
    phone = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.phone


class MediaAsset(DomainRow):
    file_ref = models.CharField(max_length=500, unique=True)
    media_type = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_ref


class Memory(DomainRow):
    key = models.CharField(max_length=200, unique=True)
    content = models.TextField()
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "memories"
        ordering = ["-created_at"]

    def __str__(self):
        return self.key


class PatternScore(DomainRow):
    key = models.CharField(max_length=200, unique=True)
    pattern = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=6, decimal_places=4)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key}: {self.score}"


class Boundary(DomainRow):
    key = models.CharField(max_length=200, unique=True)
    value = models.TextField()
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "boundaries"
        ordering = ["-created_at"]

    def __str__(self):
        return self.key


class Task(DomainRow):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        DONE = "done", "done"

    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title
