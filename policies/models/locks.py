"""Strategy locks: a named policy of what it covers, and its state (engaged now, by whom, why)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from workbench.kit import identifiers as ids
from workbench.kit.models import REASON_LIMIT, NaturalKeyManager, NaturalKeyModel, free_text


class StrategyLockQuerySet(models.QuerySet):
    def engaged(self):
        return self.filter(engaged=True)

    def covering(self, *, action_name="", connector_id="", firearm_id=""):
        """Locks covering the action, its connector or its firearm (locks are few: filtered in Python
        because SQLite has no JSON containment lookup)."""
        locks = self.prefetch_related("connectors", "firearms")
        return [
            lock
            for lock in locks
            if lock.covers(action_name=action_name, connector_id=connector_id, firearm_id=firearm_id)
        ]


class StrategyLock(NaturalKeyModel):
    """Policy (what the lock covers) and state (engaged or not) of one strategy lock.

    Each engage and release is a history row, so the state's past is kept with who and why.
    """

    NATURAL_KEY = ("name",)

    objects = NaturalKeyManager.from_queryset(StrategyLockQuerySet)()

    name = models.CharField(
        max_length=63,
        unique=True,
        validators=[ids.validate_slug],
        error_messages={"unique": "A strategy lock with this name already exists."},
    )
    description = free_text(blank=True)
    connectors = models.ManyToManyField("registries.Connector", blank=True, related_name="strategy_locks")
    firearms = models.ManyToManyField("policies.Firearm", blank=True, related_name="strategy_locks")
    actions = models.JSONField(
        default=list,
        blank=True,
        help_text="Actions covered: connector scopes '<connector_id>:<scope>' and tools 'domain.method'.",
    )
    engaged = models.BooleanField(default=False)
    engaged_at = models.DateTimeField(null=True, blank=True)
    engaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = free_text(REASON_LIMIT, blank=True, help_text="Why the lock is engaged (or was released).")
    history = HistoricalRecords(m2m_fields=[connectors, firearms])

    class Meta:
        verbose_name = "strategy lock"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("name", ids.SLUG),
                name="strategylock_name_format",
                violation_error_message="Lock name has an invalid format.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({'engaged' if self.engaged else 'released'})"

    def covers(self, *, action_name="", connector_id="", firearm_id=""):
        if action_name and action_name in (self.actions or []):
            return True
        if connector_id and any(c.connector_id == connector_id for c in self.connectors.all()):
            return True
        return bool(firearm_id and any(f.firearm_id == firearm_id for f in self.firearms.all()))

    def clean(self):
        super().clean()
        if not isinstance(self.actions, list):
            raise ValidationError({"actions": "Actions must be a list of action names."})
        for index, action in enumerate(self.actions):
            if not isinstance(action, str) or not ids.validate_action_name.regex.match(action):
                raise ValidationError(
                    {
                        "actions": f"Item {index} ({action!r}) is neither '<connector>:<scope>' nor a tool."
                    }
                )
        if self.engaged and not self.reason.strip():
            raise ValidationError({"reason": "Say why the lock is engaged."})
