"""Firearms Policy: dangerous capabilities, who holds them (grants) and which actions need them (bindings)."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from policies.models.actions import BoundAction
from workbench.kit import identifiers as ids
from workbench.kit.models import (
    REASON_LIMIT,
    NaturalKeyModel,
    WriteOnceManager,
    WriteOnceModel,
    WriteOnceQuerySet,
    free_text,
)


class Firearm(NaturalKeyModel):
    class Severity(models.TextChoices):
        LOW = "low", "low"
        MEDIUM = "medium", "medium"
        HIGH = "high", "high"
        CRITICAL = "critical", "critical"

    NATURAL_KEY = ("firearm_id",)

    firearm_id = models.CharField(
        max_length=80,
        unique=True,
        validators=[ids.validate_firearm_id],
        error_messages={"unique": "A firearm with this id already exists."},
    )
    name = models.CharField(max_length=200)
    description = free_text(blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.HIGH)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["firearm_id"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("firearm_id", ids.FIREARM_ID),
                name="firearm_id_format",
                violation_error_message="Firearm id has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.firearm_id


def active_grant(at=None, *, prefix=""):
    """The one rule of an active grant, as a Q: not revoked, no expiry or an expiry after `at` (default
    now), and approved when it needed a second person. `prefix` reaches grants through a relation, e.g.
    "grants__" from a firearm."""
    at = at or timezone.now()
    return (
        models.Q(**{f"{prefix}revoked_at__isnull": True})
        & (models.Q(**{f"{prefix}expires_at__isnull": True}) | models.Q(**{f"{prefix}expires_at__gt": at}))
        & (
            models.Q(**{f"{prefix}needs_approval": False})
            | models.Q(**{f"{prefix}approved_at__isnull": False})
        )
    )


class FirearmGrantQuerySet(WriteOnceQuerySet):
    """The four statuses of FirearmGrant.status(), as filters."""

    def active(self, at=None):
        return self.filter(active_grant(at))

    def revoked(self):
        return self.filter(revoked_at__isnull=False)

    def expired(self, at=None):
        return self.filter(revoked_at__isnull=True, expires_at__lte=at or timezone.now())

    def awaiting_approval(self, at=None):
        unexpired = models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at or timezone.now())
        return self.filter(unexpired, revoked_at__isnull=True, needs_approval=True, approved_at__isnull=True)


class FirearmGrant(WriteOnceModel):
    """A firearm given to one principal within one tenant. Revoked, never deleted; the grant itself never
    changes (a critical firearm's grant is approved once, by a second person, before it counts).

    `tenant` is the tenant the grant belongs to and applies in: a user or group grant counts for calls
    made for that tenant; a tenant grant (principal_type `tenant`) is given to the tenant itself."""

    class PrincipalType(models.TextChoices):
        USER = "user", "user"
        GROUP = "group", "group"
        TENANT = "tenant", "tenant"

    NATURAL_KEY = ("uid",)
    MUTABLE_FIELDS = ("revoked_at", "revoked_by", "revoke_reason", "approved_at", "approved_by")
    CHANGE_HINT = "revoke it and grant again"
    DELETE_HINT = "revoke it instead"

    objects = WriteOnceManager.from_queryset(FirearmGrantQuerySet)()

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    firearm = models.ForeignKey(Firearm, on_delete=models.PROTECT, related_name="grants")
    principal_type = models.CharField(max_length=8, choices=PrincipalType.choices)
    tenant = models.ForeignKey(
        "workbench.Tenant",
        on_delete=models.PROTECT,
        related_name="firearm_grants",
        help_text="The tenant the grant is given within (for a tenant grant: the tenant itself).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="firearm_grants",
    )
    group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="firearm_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = free_text(REASON_LIMIT, help_text="Why this principal needs the firearm.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    needs_approval = models.BooleanField(
        default=False, help_text="A critical firearm: the grant counts once a second person approved it."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = free_text(REASON_LIMIT, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(principal_type="user", user__isnull=False, group__isnull=True)
                    | models.Q(principal_type="group", user__isnull=True, group__isnull=False)
                    | models.Q(principal_type="tenant", user__isnull=True, group__isnull=True)
                ),
                name="firearmgrant_exactly_one_principal",
                violation_error_message="A grant names exactly one principal, matching its principal type.",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""),
                name="firearmgrant_reason_required",
                violation_error_message="A grant needs a reason.",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_at__isnull=True) | models.Q(needs_approval=True),
                name="firearmgrant_approved_only_when_needed",
                violation_error_message="Only a grant that needs approval is approved.",
            ),
        ]
        indexes = [models.Index(fields=["firearm", "revoked_at"]), models.Index(fields=["tenant", "firearm"])]

    def __str__(self):
        return f"{self.firearm_id and self.firearm.firearm_id} -> {self.principal}"

    @property
    def principal(self):
        return {"user": self.user, "group": self.group, "tenant": self.tenant}.get(self.principal_type)

    @property
    def is_active(self):
        return self.status() == "active"

    def status(self, at=None):
        """ "active", "revoked", "expired" or "awaiting approval" at `at` (default now): active_grant() for
        one row."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (at or timezone.now()):
            return "expired"
        if self.needs_approval and self.approved_at is None:
            return "awaiting approval"
        return "active"

    def clean(self):
        super().clean()
        field = self.principal_type
        if field in (self.PrincipalType.USER, self.PrincipalType.GROUP):
            if getattr(self, f"{field}_id") is None:
                raise ValidationError({field: f"A {field} grant names the {field} it is given to."})
        others = [
            name
            for name in (self.PrincipalType.USER, self.PrincipalType.GROUP)
            if name != field and getattr(self, f"{name}_id")
        ]
        if others:
            raise ValidationError({name: f"A {field} grant cannot also name a {name}." for name in others})
        if self.expires_at and self._state.adding and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": "Expiry must be in the future."})


class FirearmBinding(BoundAction, NaturalKeyModel):
    """Action -> firearm: calling the action needs an active grant of the firearm."""

    NATURAL_KEY = ("action_name",)

    action_name = models.CharField(
        max_length=200,
        unique=True,
        validators=[ids.validate_action_name],
        error_messages={"unique": "This action is already bound to a firearm."},
    )
    firearm = models.ForeignKey(Firearm, on_delete=models.PROTECT, related_name="bindings")
    note = free_text(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["action_name"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("action_name", ids.ACTION_NAME),
                name="firearmbinding_action_format",
                violation_error_message="Action must be '<connector_id>:<scope>' or a tool 'domain.method'.",
            ),
        ]

    def __str__(self):
        return f"{self.action_name} -> {self.firearm_id and self.firearm.firearm_id}"
