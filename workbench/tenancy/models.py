"""Tenants and who belongs to them: the boundary drafts are scoped by."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from workbench.kit import identifiers as ids
from workbench.kit.models import NaturalKeyModel


class Tenant(NaturalKeyModel):
    NATURAL_KEY = ("slug",)

    slug = models.CharField(
        max_length=63,
        unique=True,
        validators=[ids.validate_slug],
        error_messages={"unique": "A tenant with this slug already exists."},
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["slug"]
        permissions = [("audit_tenants", "Can read every tenant's rows (auditor)")]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("slug", ids.SLUG),
                name="tenant_slug_format",
                violation_error_message="Tenant slug has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.slug


class Membership(NaturalKeyModel):
    class Role(models.TextChoices):
        OWNER = "owner", "owner"
        EDITOR = "editor", "editor"
        VIEWER = "viewer", "viewer"

    NATURAL_KEY = ("tenant__slug", "user__username")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["tenant__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                name="membership_unique_user_per_tenant",
                violation_error_message="This user is already a member of this tenant.",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "editor", "viewer"]),
                name="membership_role_known",
                violation_error_message="Role must be owner, editor or viewer.",
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.role})"

    def natural_key(self):
        return super().natural_key()

    natural_key.dependencies = ["workbench.tenant", "auth.user"]
