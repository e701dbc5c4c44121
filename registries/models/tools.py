"""Tool registry (`tools.registry.json`): tool definitions, the permission vocabulary, and the imports
of the file (the receipts the gateway leaves for every call are in receipts.py)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registries.schemas import tool_errors
from workbench.kit import identifiers as ids
from workbench.kit.models import REASON_LIMIT, NaturalKeyModel, free_text

PERMISSION_NAME = r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$"
validate_permission_name = RegexValidator(
    PERMISSION_NAME, message="Enter a permission as 'verb:object', e.g. 'read:db'.", code="invalid_identifier"
)


class ToolPermission(NaturalKeyModel):
    """One word of the permission vocabulary tools declare (seeded with the six of seed 002)."""

    NATURAL_KEY = ("name",)

    name = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_permission_name],
        error_messages={"unique": "This permission is already in the vocabulary."},
    )
    description = models.CharField(max_length=300, blank=True)
    requires_provider = models.BooleanField(
        default=False,
        help_text="Needs an outside provider (SMS gateway, mail server, calendar API). A tool holding it "
        "stays not_configured until a handler exists.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "tool permission"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("name", PERMISSION_NAME),
                name="toolpermission_name_format",
                violation_error_message="Permission must be 'verb:object'.",
            ),
        ]

    def __str__(self):
        return self.name

    def used_by(self):
        # Permissions are a JSON list on the tool (file order kept); tools are few, so filter here.
        return [
            tool.name
            for tool in ToolDefinition.objects.only("name", "permissions")
            if self.name in tool.permissions
        ]

    def delete(self, *args, **kwargs):
        users = self.used_by()
        if users:
            raise ValidationError(
                f"Permission {self.name!r} is used by {', '.join(users)}; remove it from those tools first.",
                code="protected",
            )
        return super().delete(*args, **kwargs)


class IdempotencyMode(models.TextChoices):
    NONE = "none", "none: always execute"
    SAFE_RETRY = "safe-retry", "safe-retry: replay by call_id or Idempotency-Key"
    KEYED = "keyed", "keyed: replay by the key field's value"


# Registry entry key -> model field, for putting a finding on the right form field.
_ENTRY_FIELDS = {
    "name": "name",
    "description": "description",
    "input_schema": "input_schema",
    "output_schema": "output_schema",
    "permissions": "permissions",
    "timeout_ms": "timeout_ms",
    "receipt_fields": "receipt_fields",
}


class ToolDefinition(NaturalKeyModel):
    """One entry of tools.registry.json, plus what the file does not carry: enabled, cost, connector."""

    NATURAL_KEY = ("name",)
    Mode = IdempotencyMode

    name = models.CharField(
        max_length=200,
        unique=True,
        validators=[ids.validate_tool_name],
        error_messages={"unique": "A tool with this name already exists."},
        help_text="domain.method; dispatched to handler module `domain`, function `method`.",
    )
    description = free_text()
    input_schema = models.JSONField(default=dict, help_text="JSON Schema of the input object.")
    output_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the result.")
    permissions = models.JSONField(
        default=list, blank=True, help_text="Names from the permission vocabulary."
    )
    idempotency_mode = models.CharField(
        max_length=16, choices=IdempotencyMode.choices, default=IdempotencyMode.NONE
    )
    idempotency_key_field = models.CharField(
        max_length=200,
        blank=True,
        help_text="Input property whose value identifies a keyed call.",
    )
    timeout_ms = models.PositiveIntegerField(default=30000, validators=[MinValueValidator(1)])
    receipt_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Paths into the result (result.field) copied onto every receipt.",
    )
    enabled = models.BooleanField(default=True, help_text="A disabled tool answers 409 tool_disabled.")
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Cost of one executed call, counted against budgets in cost_unit.",
    )
    cost_unit = models.CharField(max_length=16, default="USD", help_text="Budgets in the same unit count it.")
    connector = models.ForeignKey(
        "registries.Connector",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tools",
        help_text="Connector the tool belongs to, if any: its budgets and strategy locks apply too.",
    )
    position = models.PositiveIntegerField(default=0, editable=False, help_text="Order in the registry file.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Not auto_now: plain `loaddata` saves raw, and an auto_now column would be left empty there.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "tool"
        ordering = ["position", "name"]
        permissions = [("invoke_tooldefinition", "Can invoke tools through the gateway")]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("name", ids.TOOL_NAME),
                name="tooldefinition_name_format",
                violation_error_message="Tool name must be domain.method.",
            ),
            models.CheckConstraint(
                condition=Q(timeout_ms__gt=0),
                name="tooldefinition_timeout_positive",
                violation_error_message="timeout_ms must be a positive integer.",
            ),
            models.CheckConstraint(
                condition=Q(cost__gte=0),
                name="tooldefinition_cost_not_negative",
                violation_error_message="Cost cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(idempotency_mode__in=IdempotencyMode.values),
                name="tooldefinition_mode_known",
                violation_error_message="Idempotency mode must be none, safe-retry or keyed.",
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_mode="keyed") | ~Q(idempotency_key_field=""),
                name="tooldefinition_keyed_has_key_field",
                violation_error_message="A keyed tool needs a key_field.",
            ),
        ]

    def __str__(self):
        return self.name

    # -- the registry file's shape -------------------------------------------------------------

    def registry_entry(self):
        """This tool as one `tools[]` item of tools.registry.json (key order as in seed 002)."""
        idempotency = {"mode": self.idempotency_mode}
        if self.idempotency_key_field:
            idempotency["key_field"] = self.idempotency_key_field
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "permissions": list(self.permissions or []),
            "idempotency": idempotency,
            "timeout_ms": self.timeout_ms,
            "receipt_fields": list(self.receipt_fields or []),
        }

    @staticmethod
    def fields_from_entry(entry):
        """Model field values of a (valid) registry entry."""
        idempotency = entry["idempotency"]
        return {
            "name": entry["name"],
            "description": entry["description"],
            "input_schema": entry["input_schema"],
            "output_schema": entry["output_schema"],
            "permissions": list(entry["permissions"]),
            "idempotency_mode": idempotency["mode"],
            "idempotency_key_field": idempotency.get("key_field", ""),
            "timeout_ms": int(entry["timeout_ms"]),
            "receipt_fields": list(entry["receipt_fields"]),
        }

    @property
    def is_keyed(self):
        return self.idempotency_mode == IdempotencyMode.KEYED

    # -- validation ------------------------------------------------------------------------------

    def clean_fields(self, exclude=None):
        # Remembered so clean() does not repeat a field's error in the registry schema's words.
        self._invalid_fields = set()
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            self._invalid_fields = set(error.error_dict)
            raise

    def clean(self):
        super().clean()
        vocabulary = ToolPermission.objects.values_list("name", flat=True)
        errors = {}
        for finding in tool_errors(self.registry_entry(), permissions=set(vocabulary)):
            field = _field_for(finding.path)
            if field in getattr(self, "_invalid_fields", ()):
                continue
            top = f"$.{_entry_key(finding.path)}"
            where = "" if finding.path == top else f"at {finding.path}: "
            errors.setdefault(field, []).append(f"{where}{finding.message}")
        outside_import = self._changed_outside_import()
        if outside_import:
            errors.setdefault("__all__", []).append(outside_import)
        if errors:
            raise ValidationError(errors)

    def _changed_outside_import(self):
        """tools.registry.json is the single source of truth (seed 002): what the file carries (the
        registry entry and its place in the file) changes only through the registry import, which marks
        the rows it writes. Any other validated write (an environment fixture, a dump from another
        database) may set only what the file does not carry: enabled, cost, connector. Returns why not."""
        if getattr(self, "written_by_registry_import", False):
            return ""
        how = "only by importing tools.registry.json (import_tool_registry, or the admin's import)"
        stored = None if self._state.adding else ToolDefinition.objects.filter(pk=self.pk).first()
        if stored is None:
            return f"Tool {self.name!r} is not in the tool registry: tools are added {how}."
        entry, stored_entry = self.registry_entry(), stored.registry_entry()
        changed = sorted(key for key in entry if entry[key] != stored_entry[key])
        if self.position != stored.position:
            changed.append("position")
        return f"Tool {self.name!r}: {', '.join(changed)} change {how}." if changed else ""

    def save(self, *args, **kwargs):
        if self._state.adding and not self.position:
            last = ToolDefinition.objects.aggregate(last=models.Max("position"))["last"]
            self.position = (last or 0) + 1
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


def _entry_key(path):
    rest = path[2:] if path.startswith("$.") else ""
    for stop in (".", "["):
        rest = rest.split(stop)[0]
    return rest


def _field_for(path):
    key = _entry_key(path)
    if key == "idempotency":
        return "idempotency_mode" if path.startswith("$.idempotency.mode") else "idempotency_key_field"
    return _ENTRY_FIELDS.get(key, "__all__")


#: The file's text kept with its import is bounded by the upload cap (WORKBENCH_UPLOAD_MAX_BYTES, checked when
#: the file is read); this is that cap's default, for validation of the column on its own.
REGISTRY_FILE_LIMIT = 8 * 1024 * 1024


class ToolRegistryImport(models.Model):
    """One import of tools.registry.json: the file's `version`, who imported it and what changed.

    The latest import's version is the `version` an export writes back.
    """

    version = models.CharField(max_length=32, validators=[ids.validate_semver])
    source = models.CharField(max_length=300, blank=True, help_text="File name or where the file came from.")
    imported_at = models.DateTimeField(default=timezone.now, db_index=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.JSONField(default=list, blank=True)
    updated = models.JSONField(default=list, blank=True)
    removed = models.JSONField(default=list, blank=True)
    unchanged = models.JSONField(default=list, blank=True)
    content = free_text(
        REGISTRY_FILE_LIMIT,
        blank=True,
        editable=False,
        help_text="The file as imported: what the export gives back, byte for byte.",
    )
    keyed_tools = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The keyed tools' list in force after this import (tool -> key field); empty on imports "
        "from before it was kept, when seed 002's list holds.",
    )
    key_change_reason = free_text(
        REASON_LIMIT,
        blank=True,
        editable=False,
        help_text="Why this import changed the keyed tools' list (--allow-key-change); empty otherwise.",
    )

    class Meta:
        verbose_name = "tool registry import"
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"tools.registry.json {self.version} at {self.imported_at:%Y-%m-%d %H:%M}"
