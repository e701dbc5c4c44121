"""The receipts the gateway leaves for every executed call of a registered tool."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .tools import IdempotencyMode


class ToolReceipt(models.Model):
    """What happened on one executed call: who called which tool with what, and what came back.

    `call_slot` / `key_slot` hold the call's idempotency identity while it runs or after it succeeded;
    unique per tool, they are how concurrent processes agree that a call is already taken (the slot is
    emptied when a call fails, times out or is abandoned, so it can be retried).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        TIMEOUT = "timeout", "timeout"
        ABANDONED = "abandoned", "abandoned"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tool_name = models.CharField(max_length=200, db_index=True)
    call_id = models.CharField(max_length=200, db_index=True)
    idempotency_mode = models.CharField(max_length=16, choices=IdempotencyMode.choices)
    idempotency_key = models.CharField(
        max_length=200, blank=True, help_text="The Idempotency-Key header, if sent."
    )
    key_value = models.JSONField(null=True, blank=True, help_text="Keyed tools: the key field's value.")
    call_slot = models.CharField(max_length=80, null=True, blank=True, editable=False)
    key_slot = models.CharField(max_length=80, null=True, blank=True, editable=False)
    input = models.JSONField(default=dict)
    input_hash = models.CharField(max_length=64)
    result = models.JSONField(null=True, blank=True)
    receipt_fields = models.JSONField(default=dict, blank=True)
    output_errors = models.JSONField(
        default=list, blank=True, help_text="Output schema mismatches (not blocking)."
    )
    error = models.JSONField(default=dict, blank=True, help_text="code and detail of a failed call.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tool_receipts",
    )
    tenant = models.ForeignKey(
        "workbench.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="tool_receipts"
    )
    cost = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    deadline_at = models.DateTimeField(help_text="After this a call still running is considered abandoned.")
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "tool receipt"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool_name", "call_slot"],
                name="toolreceipt_one_live_call_id_per_tool",
                violation_error_message="This call_id is already taken for this tool.",
            ),
            models.UniqueConstraint(
                fields=["tool_name", "key_slot"],
                name="toolreceipt_one_live_key_per_tool",
                violation_error_message="This idempotency key is already taken for this tool.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "succeeded"])
                | (Q(call_slot__isnull=True) & Q(key_slot__isnull=True)),
                name="toolreceipt_finished_calls_release_slots",
                violation_error_message="Only running or succeeded calls hold an idempotency slot.",
            ),
        ]
        indexes = [models.Index(fields=["tool_name", "status"])]

    def __str__(self):
        return f"{self.tool_name} {self.call_id} ({self.status})"
