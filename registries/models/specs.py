"""Specs Registry: component specs, connectors (published as component specs) and their scopes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from workbench.kit import identifiers as ids
from workbench.kit import semver
from workbench.kit.models import (
    NaturalKeyModel,
    WriteOnceManager,
    WriteOnceModel,
    WriteOnceQuerySet,
    free_text,
)

MCP_CONNECTOR_CLASS = "mcp_connector"


class ComponentSpec(WriteOnceModel):
    """One published version of a spec. Never changes after publish; it can only be deprecated."""

    class Kind(models.TextChoices):
        ATOM = "atom", "atom"
        COMPONENT = "component", "component"
        LENS = "lens", "lens"
        CURRICULUM = "curriculum", "curriculum"

    NATURAL_KEY = ("spec_id", "version")
    MUTABLE_FIELDS = ("deprecated_at", "deprecation_message")

    spec_id = models.CharField(max_length=128, validators=[ids.validate_spec_id])
    version = models.CharField(max_length=32, validators=[ids.validate_semver])
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)
    description = free_text(blank=True)
    schema = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Numeric version parts so "latest" sorts as semver does (1.10.0 after 1.9.0), in the database.
    version_major = models.PositiveIntegerField(editable=False, default=0)
    version_minor = models.PositiveIntegerField(editable=False, default=0)
    version_patch = models.PositiveIntegerField(editable=False, default=0)
    published_at = models.DateTimeField(default=timezone.now, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deprecated_at = models.DateTimeField(null=True, blank=True)
    deprecation_message = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "component spec"
        ordering = ["spec_id", "-version_major", "-version_minor", "-version_patch"]
        constraints = [
            models.UniqueConstraint(
                fields=["spec_id", "version"],
                name="componentspec_unique_version",
                violation_error_message="This spec version is already published; publish a higher version.",
            ),
            models.CheckConstraint(
                condition=ids.matches("spec_id", ids.SPEC_ID),
                name="componentspec_spec_id_format",
                violation_error_message="Spec id has an invalid format.",
            ),
            models.CheckConstraint(
                condition=ids.matches("version", ids.SEMVER),
                name="componentspec_version_semver",
                violation_error_message="Version must be MAJOR.MINOR.PATCH.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["atom", "component", "lens", "curriculum"]),
                name="componentspec_kind_known",
                violation_error_message="Kind must be atom, component, lens or curriculum.",
            ),
        ]
        indexes = [models.Index(fields=["kind", "spec_id"])]

    def __str__(self):
        return f"{self.spec_id}@{self.version}"

    @property
    def is_mcp_connector(self):
        return self.kind == self.Kind.COMPONENT and self.metadata.get("spec_class") == MCP_CONNECTOR_CLASS

    @property
    def required_entitlements(self):
        """Billing entitlements the spec declares; no entitlement store exists (PRODUCT.md section 8)."""
        value = (self.metadata or {}).get("entitlements") or []
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]

    def clean(self):
        super().clean()
        if not isinstance(self.schema, dict):
            raise ValidationError({"schema": "Schema must be a JSON object."})
        if not isinstance(self.metadata, dict):
            raise ValidationError({"metadata": "Metadata must be a JSON object."})

    def save(self, *args, **kwargs):
        parts = semver.parse(self.version)
        if parts:
            self.version_major, self.version_minor, self.version_patch = parts
        super().save(*args, **kwargs)


class SkillManager(WriteOnceManager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=ComponentSpec.Kind.CURRICULUM)


class Skill(ComponentSpec):
    """A markdown walkthrough, stored in the Specs Registry as a `kind=curriculum` spec."""

    objects = SkillManager()

    class Meta:
        proxy = True
        verbose_name = "skill"

    @property
    def markdown(self):
        return (self.metadata or {}).get("markdown", "")

    @property
    def connector_id(self):
        return (self.metadata or {}).get("connector_id", "")

    def save(self, *args, **kwargs):
        self.kind = ComponentSpec.Kind.CURRICULUM
        super().save(*args, **kwargs)


class Connector(NaturalKeyModel):
    """An MCP connector. Its versions are component specs with the same id; publish moves latest_spec."""

    NATURAL_KEY = ("connector_id",)

    connector_id = models.CharField(
        max_length=63,
        unique=True,
        validators=[ids.validate_connector_id],
        error_messages={"unique": "A connector with this id already exists."},
    )
    name = models.CharField(max_length=200)
    description = free_text(blank=True)
    latest_spec = models.ForeignKey(
        ComponentSpec,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest published version.",
    )
    owner = models.ForeignKey(
        "workbench.Tenant",
        on_delete=models.PROTECT,
        related_name="connectors",
        help_text="The tenant whose draft first published it: only its members open drafts of it and "
        "publish its next versions. Platform staff transfer it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Publish moves latest_spec; an ownership transfer leaves who, when and why here.
    history = HistoricalRecords(excluded_fields=["latest_spec", "name", "description"])

    class Meta:
        ordering = ["connector_id"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("connector_id", ids.CONNECTOR_ID),
                name="connector_id_format",
                violation_error_message="Connector id has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.connector_id

    @property
    def versions(self):
        return ComponentSpec.objects.filter(spec_id=self.connector_id, kind=ComponentSpec.Kind.COMPONENT)

    def clean(self):
        super().clean()
        spec = self.latest_spec
        if spec is not None and (spec.spec_id != self.connector_id or not spec.is_mcp_connector):
            raise ValidationError(
                {
                    "latest_spec": "The latest spec must be an mcp_connector spec with the connector's id."
                }
            )


class ScopeQuerySet(WriteOnceQuerySet):
    def latest_published(self):
        """Scopes of each connector's latest published version."""
        return self.filter(spec_id=models.F("connector__latest_spec_id"))


class Scope(WriteOnceModel):
    """An atomic permission unit of one published connector version: the MCP tools it grants."""

    NATURAL_KEY = ("spec__spec_id", "spec__version", "name")

    objects = WriteOnceManager.from_queryset(ScopeQuerySet)()

    spec = models.ForeignKey(ComponentSpec, on_delete=models.PROTECT, related_name="scopes")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="scopes")
    name = models.CharField(max_length=63, validators=[ids.validate_scope_name])
    description = free_text(blank=True)
    tools = models.JSONField(default=list, blank=True, help_text="Names of the MCP tools this scope grants.")

    class Meta:
        ordering = [
            "connector__connector_id",
            "spec__version_major",
            "spec__version_minor",
            "spec__version_patch",
            "name",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["spec", "name"],
                name="scope_unique_per_version",
                violation_error_message="This connector version already has a scope with this name.",
            ),
            models.CheckConstraint(
                condition=ids.matches("name", ids.SCOPE_NAME),
                name="scope_name_format",
                violation_error_message="Scope name has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.action_name

    @property
    def action_name(self):
        return f"{self.connector.connector_id}:{self.name}"

    def natural_key(self):
        return super().natural_key()

    natural_key.dependencies = ["registries.componentspec", "registries.connector"]

    def clean(self):
        super().clean()
        if not isinstance(self.tools, list) or not all(isinstance(tool, str) for tool in self.tools):
            raise ValidationError({"tools": "Tools must be a list of MCP tool names."})
        if self.spec_id and self.connector_id:
            if self.spec.spec_id != self.connector.connector_id or not self.spec.is_mcp_connector:
                raise ValidationError(
                    {"spec": "A scope belongs to an mcp_connector spec of its own connector."}
                )
