"""Budgets: a spending limit per tenant / connector / period, and the usage events counted against it."""

import uuid
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from workbench.kit import identifiers as ids
from workbench.kit.models import NaturalKeyModel, WriteOnceModel


class BudgetPolicy(NaturalKeyModel):
    class Period(models.TextChoices):
        DAY = "day", "day"
        WEEK = "week", "week"
        MONTH = "month", "month"

    NATURAL_KEY = ("budget_id",)

    budget_id = models.CharField(
        max_length=63,
        unique=True,
        validators=[ids.validate_slug],
        error_messages={"unique": "A budget with this id already exists."},
    )
    tenant = models.ForeignKey(
        "workbench.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="budgets",
        help_text="Empty: applies to every tenant.",
    )
    connector = models.ForeignKey(
        "registries.Connector",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="budgets",
        help_text="Empty: applies to every connector and tool.",
    )
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    limit = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=16, default="USD", help_text="Unit of cost, e.g. USD or calls.")
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "budget policy"
        verbose_name_plural = "budget policies"
        ordering = ["budget_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(limit__gte=0),
                name="budgetpolicy_limit_not_negative",
                violation_error_message="A budget limit cannot be negative.",
            ),
            models.CheckConstraint(
                condition=ids.matches("budget_id", ids.SLUG),
                name="budgetpolicy_id_format",
                violation_error_message="Budget id has an invalid format.",
            ),
        ]

    def __str__(self):
        return f"{self.budget_id}: {self.limit} {self.unit}/{self.period}"

    def period_start(self, at=None):
        at = (at or timezone.now()).astimezone(UTC)
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.period == self.Period.DAY:
            return day
        if self.period == self.Period.WEEK:
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def clean(self):
        super().clean()
        if self.limit is not None and self.limit < 0:
            raise ValidationError({"limit": "A budget limit cannot be negative."})


class UsageEvent(WriteOnceModel):
    """One costed call. Append-only: written by the gateway, never edited."""

    NATURAL_KEY = ("uid",)
    CHANGE_HINT = "usage is append-only"
    DELETE_HINT = "usage is append-only"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    tenant = models.ForeignKey(
        "workbench.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="usage_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connector = models.ForeignKey(
        "registries.Connector", null=True, blank=True, on_delete=models.PROTECT, related_name="usage_events"
    )
    action_name = models.CharField(max_length=200, validators=[ids.validate_action_name])
    call_id = models.CharField(max_length=200, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    unit = models.CharField(max_length=16, default="USD")

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__gte=0),
                name="usageevent_cost_not_negative",
                violation_error_message="Cost cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.action_name} {self.cost} {self.unit} at {self.occurred_at:%Y-%m-%dT%H:%M:%SZ}"
