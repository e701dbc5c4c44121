"""Shapes of the drafts API: the draft as read, the bodies of create, update, restore, MCP and server.json
import, history entries, the diff answer, and the list filters."""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workbench.models import Tenant, WorkbenchDraft
from workbench.selectors.drafts import tenants_of


def _username(user):
    return user.get_username() if user is not None else None


class ValidationResultSerializer(serializers.Serializer):
    passed = serializers.BooleanField(allow_null=True, help_text="Empty: never validated.")
    revision = serializers.IntegerField(allow_null=True, help_text="The revision the result is about.")
    current = serializers.BooleanField(help_text="Whether the result is about the current revision.")
    validated_at = serializers.DateTimeField(allow_null=True)
    validated_by = serializers.CharField(allow_null=True)
    findings = serializers.ListField(
        child=serializers.DictField(),
        help_text="{path, severity, code, message, stage}: stage is the one the finding belongs to "
        "(definition, scoping, policy, verification).",
    )
    stage_lacks = serializers.ListField(
        child=serializers.DictField(),
        help_text="What the draft's current stage (and the ones before it) still lacks: the errors among "
        "the findings that belong to those stages.",
    )


class DraftSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SerializerMethodField()
    revised_by = serializers.SerializerMethodField()
    published_by = serializers.SerializerMethodField()
    validation = serializers.SerializerMethodField()

    class Meta:
        model = WorkbenchDraft
        fields = [
            "id",
            "tenant",
            "owner",
            "connector_id",
            "stage",
            "status",
            "revision",
            "spec_snapshot",
            "policy_snapshot",
            "validation",
            "revised_by",
            "revised_at",
            "published_version",
            "published_at",
            "published_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_owner(self, draft) -> str:
        return _username(draft.owner)

    def get_revised_by(self, draft) -> str | None:
        return _username(draft.revised_by)

    def get_published_by(self, draft) -> str | None:
        return _username(draft.published_by)

    @extend_schema_field(ValidationResultSerializer)
    def get_validation(self, draft):
        return {
            "passed": draft.validation_passed,
            "revision": draft.validated_revision,
            "current": draft.validation_is_current,
            "validated_at": draft.validated_at,
            "validated_by": _username(draft.validated_by),
            "findings": draft.validation_findings,
            "stage_lacks": draft.stage_lacks,
        }


@extend_schema_field(OpenApiTypes.STR)
class TenantField(serializers.SlugRelatedField):
    """A tenant slug. Whether the user may write drafts there is the draft service's to say (403)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Tenant.objects.all(), **kwargs)


class DraftCreateSerializer(serializers.Serializer):
    tenant = TenantField(required=False, help_text="Tenant slug; may be left out by members of one tenant.")
    connector_id = serializers.CharField(max_length=63)
    stage = serializers.ChoiceField(
        choices=WorkbenchDraft.Stage.choices,
        default=WorkbenchDraft.Stage.DEFINITION,
        help_text="A draft starts at definition or one stage on, at scoping; later stages are reached by "
        "saves, one at a time (409 wrong_stage otherwise).",
    )
    spec_snapshot = serializers.JSONField(required=False, help_text="Left out: start from the live version.")
    policy_snapshot = serializers.JSONField(required=False)

    def validate(self, attrs):
        if "tenant" not in attrs:
            tenants = list(tenants_of(self.context["request"].user, writable=True)[:2])
            if len(tenants) != 1:
                raise serializers.ValidationError({"tenant": "Name the tenant the draft belongs to."})
            attrs["tenant"] = tenants[0]
        return attrs


class DraftUpdateSerializer(serializers.Serializer):
    """Fields a save may change; leave out what stays. Snapshots are replaced whole."""

    connector_id = serializers.CharField(max_length=63, required=False)
    stage = serializers.ChoiceField(
        choices=WorkbenchDraft.Stage.choices,
        required=False,
        help_text="One stage forward at a time, or back to any earlier stage (409 wrong_stage otherwise).",
    )
    status = serializers.ChoiceField(choices=WorkbenchDraft.Status.choices, required=False)
    spec_snapshot = serializers.JSONField(required=False)
    policy_snapshot = serializers.JSONField(required=False)


class ImportMcpSerializer(serializers.Serializer):
    tenant = TenantField(required=False)
    connector_id = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    version = serializers.CharField(max_length=32, default="1.0.0")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    packaging = serializers.DictField(required=False)
    tools_list = serializers.JSONField(
        help_text="The result of the server's tools/list (or a list of pages)."
    )

    validate = DraftCreateSerializer.validate


class ImportServerJsonSerializer(serializers.Serializer):
    tenant = TenantField(required=False, help_text="Tenant slug; may be left out by members of one tenant.")
    server = serializers.JSONField(
        help_text="A server.json (MCP Registry schema 2025-09-29), checked whole against the schema: 400 "
        "naming server.<path> for each problem. Its _meta is ignored."
    )
    tools_list = serializers.JSONField(
        required=False,
        help_text="Optional: the result of the server's tools/list (or a list of pages); the tools are "
        "checked and scopes proposed as import-mcp does.",
    )
    connector_id = serializers.CharField(
        max_length=63,
        required=False,
        help_text="Left out: the last part of the server's name, lowercased, other characters made '-'.",
    )

    validate = DraftCreateSerializer.validate


class RestoreSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1)


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    revision = serializers.IntegerField()
    at = serializers.DateTimeField(source="history_date")
    user = serializers.SerializerMethodField()
    reason = serializers.CharField(source="history_change_reason", allow_null=True)
    type = serializers.SerializerMethodField()
    stage = serializers.CharField()
    status = serializers.CharField()
    validation_passed = serializers.BooleanField(allow_null=True)

    def get_user(self, record) -> str | None:
        return _username(record.history_user)

    def get_type(self, record) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}.get(record.history_type, record.history_type)


CHANGES = ["added", "removed", "changed", "moved"]
NONE_IS_NULL = (
    "A firearm decision is written as in policy_snapshot: null is NONE (a decision from or to NONE is "
    "changed; added and removed are a decision made or dropped)."
)
BEFORE = f"The value before (null when added). {NONE_IS_NULL}"
AFTER = f"The value after (null when removed). {NONE_IS_NULL}"


class DiffDetailSerializer(serializers.Serializer):
    """One field inside a changed object: a schema keyword of a property, an annotation hint, a decision."""

    path = serializers.CharField(
        help_text="JSON path inside the entry's object, e.g. inputSchema.properties.limit.type"
    )
    change = serializers.ChoiceField(choices=CHANGES[:3])
    aspect = serializers.CharField(
        help_text="What changed: type, required, enum, description, firearm, kpi, ..."
    )
    summary = serializers.CharField()
    before = serializers.JSONField(allow_null=True, help_text=BEFORE)
    after = serializers.JSONField(allow_null=True, help_text=AFTER)


class DiffEntrySerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=["draft", "spec", "tools", "scopes", "firearms", "kpis"])
    change = serializers.ChoiceField(choices=CHANGES)
    path = serializers.CharField()
    summary = serializers.CharField(help_text="The sentence people read.")
    before = serializers.JSONField(allow_null=True, help_text=BEFORE)
    after = serializers.JSONField(allow_null=True, help_text=AFTER)
    details = DiffDetailSerializer(many=True, help_text="Field by field, inside the entry's object.")


class DraftDiffSerializer(serializers.Serializer):
    """The structured diff from one side (a revision or live) to another."""

    # "from" is a keyword: the field is declared under another name and renamed below.
    from_ = serializers.CharField(help_text="A revision number or 'live'.")
    to = serializers.CharField(help_text="A revision number or 'live'.")
    changes = DiffEntrySerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"from": fields.pop("from_"), **fields}


DIFF_RESPONSE = DraftDiffSerializer


class DraftFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug")

    class Meta:
        model = WorkbenchDraft
        fields = ["tenant", "connector_id", "stage", "status"]


