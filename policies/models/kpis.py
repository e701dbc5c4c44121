"""KPI Registry: definitions, corridors (the allowed band) and which actions move which KPI."""


from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from policies.models.actions import BoundAction
from workbench.kit import identifiers as ids
from workbench.kit.models import NaturalKeyModel, free_text


class KpiDefinition(NaturalKeyModel):
    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "higher_is_better", "higher is better"
        LOWER_IS_BETTER = "lower_is_better", "lower is better"
        TARGET = "target", "on target"

    NATURAL_KEY = ("kpi_id",)

    kpi_id = models.CharField(
        max_length=80,
        unique=True,
        validators=[ids.validate_kpi_id],
        error_messages={"unique": "A KPI with this id already exists."},
    )
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, blank=True, help_text="e.g. %, ms, count")
    direction = models.CharField(max_length=20, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER)
    description = free_text(blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "KPI definition"
        ordering = ["kpi_id"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("kpi_id", ids.KPI_ID),
                name="kpidefinition_id_format",
                violation_error_message="KPI id has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.kpi_id


def _ordered(low, high):
    return Q(**{f"{low}__isnull": True}) | Q(**{f"{high}__isnull": True}) | Q(**{f"{low}__lte": F(high)})


class KpiCorridor(NaturalKeyModel):
    """The band a KPI should stay in: inside [lower, upper] is ok, outside it is a warning,
    outside [critical_lower, critical_upper] is critical. Open ends are allowed (null)."""

    NATURAL_KEY = ("kpi__kpi_id",)
    BOUNDS = ("critical_lower", "lower", "upper", "critical_upper")

    kpi = models.OneToOneField(KpiDefinition, on_delete=models.PROTECT, related_name="corridor")
    lower = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    upper = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    critical_lower = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    critical_upper = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    note = free_text(blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "KPI corridor"
        ordering = ["kpi__kpi_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lower__isnull=False) | Q(upper__isnull=False),
                name="kpicorridor_has_a_bound",
                violation_error_message="A corridor needs a lower or an upper bound.",
            ),
            models.CheckConstraint(
                condition=_ordered("lower", "upper"),
                name="kpicorridor_lower_le_upper",
                violation_error_message="Lower bound must not exceed the upper bound.",
            ),
            models.CheckConstraint(
                condition=_ordered("critical_lower", "lower"),
                name="kpicorridor_critical_lower_le_lower",
                violation_error_message="Critical lower bound must not exceed the lower bound.",
            ),
            models.CheckConstraint(
                condition=_ordered("upper", "critical_upper"),
                name="kpicorridor_upper_le_critical_upper",
                violation_error_message="Upper bound must not exceed the critical upper bound.",
            ),
        ]

    def __str__(self):
        return f"{self.kpi}: [{self.lower}, {self.upper}]"

    def natural_key(self):
        return (self.kpi.kpi_id,)

    natural_key.dependencies = ["policies.kpidefinition"]

    def clean(self):
        super().clean()
        if self.lower is None and self.upper is None:
            raise ValidationError("A corridor needs a lower or an upper bound.", code="no_bound")
        for low, high in zip(self.BOUNDS, self.BOUNDS[1:], strict=False):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValidationError({high: f"{high} ({b}) must not be below {low} ({a})."})


class KpiToolBinding(BoundAction, NaturalKeyModel):
    """Which tool or scope usage moves which KPI (the gap RECON 01 names)."""

    class Effect(models.TextChoices):
        INCREASES = "increases", "increases"
        DECREASES = "decreases", "decreases"
        OBSERVES = "observes", "observes"

    NATURAL_KEY = ("action_name", "kpi__kpi_id")

    action_name = models.CharField(max_length=200, validators=[ids.validate_action_name])
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="tool_bindings")
    effect = models.CharField(max_length=12, choices=Effect.choices, default=Effect.OBSERVES)
    note = free_text(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "KPI tool binding"
        ordering = ["action_name", "kpi__kpi_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_name", "kpi"],
                name="kpitoolbinding_unique_action_kpi",
                violation_error_message="This action is already bound to this KPI.",
            ),
            models.CheckConstraint(
                condition=ids.matches("action_name", ids.ACTION_NAME),
                name="kpitoolbinding_action_format",
                violation_error_message="Action must be '<connector_id>:<scope>' or a tool 'domain.method'.",
            ),
        ]

    def __str__(self):
        return f"{self.action_name} {self.effect} {self.kpi}"

    def natural_key(self):
        return (self.action_name, self.kpi.kpi_id)

    natural_key.dependencies = ["policies.kpidefinition"]
