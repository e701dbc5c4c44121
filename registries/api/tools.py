"""Tool registry endpoints: `tools/` (by name, registry-file shape, read-only: tools change only by
importing tools.registry.json), `tools/<name>/invoke/` (the gateway) and `receipts/` (read-only; a
caller's own calls and their tenants' calls)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from registries.models import IdempotencyMode, ToolDefinition, ToolReceipt
from registries.services.gateway import resolve_handler, tool_invoke
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.api.viewsets import LOOKUP_ANY_SEGMENT, AccessMixin
from workbench.tenancy.models import Tenant


class IdempotencySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(source="idempotency_mode", choices=IdempotencyMode.values)
    key_field = serializers.CharField(
        source="idempotency_key_field",
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="keyed tools: the input property whose value identifies the call.",
    )

    def to_representation(self, tool):
        data = {"mode": tool.idempotency_mode}
        if tool.idempotency_key_field:
            data["key_field"] = tool.idempotency_key_field
        return data


class CoverageSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["real", "not_configured"])
    handler = serializers.CharField(
        help_text="Dotted path of the handler function (or where it is expected)."
    )


class ToolDefinitionSerializer(serializers.ModelSerializer):
    """A registry entry (as in tools.registry.json) plus enabled, cost and connector. Read-only: tools
    change only by importing tools.registry.json."""

    idempotency = IdempotencySerializer(source="*", read_only=True)
    permissions = serializers.ListField(child=serializers.CharField(), read_only=True)
    receipt_fields = serializers.ListField(child=serializers.CharField(), read_only=True)
    connector = serializers.SlugRelatedField(slug_field="connector_id", read_only=True, allow_null=True)
    coverage = serializers.SerializerMethodField()

    class Meta:
        model = ToolDefinition
        fields = [
            "name",
            "description",
            "input_schema",
            "output_schema",
            "permissions",
            "idempotency",
            "timeout_ms",
            "receipt_fields",
            "enabled",
            "cost",
            "cost_unit",
            "connector",
            "coverage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CoverageSerializer)
    def get_coverage(self, tool):
        handler = resolve_handler(tool.name)
        return {"status": handler.status, "handler": handler.path}


class InvokeSerializer(serializers.Serializer):
    call_id = serializers.CharField(max_length=200, help_text="Your id for this call; reuse it to retry.")
    input = serializers.JSONField(help_text="The tool's input: an object valid against its input_schema.")
    tenant = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Tenant.objects.all(),
        required=False,
        allow_null=True,
        help_text="Tenant the call is made for (you must belong to it); default: your only tenant.",
    )


class ToolReceiptSerializer(serializers.ModelSerializer):
    tool = serializers.CharField(source="tool_name", read_only=True)
    caller = serializers.SlugRelatedField(source="user", slug_field="username", read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ToolReceipt
        fields = [
            "uid",
            "tool",
            "call_id",
            "status",
            "caller",
            "tenant",
            "idempotency_mode",
            "idempotency_key",
            "key_value",
            "input",
            "result",
            "receipt_fields",
            "output_errors",
            "error",
            "cost",
            "started_at",
            "finished_at",
            "duration_ms",
        ]
        read_only_fields = fields


class ToolReceiptSummarySerializer(serializers.ModelSerializer):
    """Another caller's receipt, answered on a keyed replay: which call, and how it ended. Not its input."""

    tool = serializers.CharField(source="tool_name", read_only=True)

    class Meta:
        model = ToolReceipt
        fields = ["uid", "tool", "status"]
        read_only_fields = fields


RECEIPT_OR_SUMMARY = {
    "anyOf": [
        {"$ref": "#/components/schemas/ToolReceipt"},
        {
            "type": "object",
            "description": "A keyed replay of another caller's call: its receipt's uid, tool, status.",
            "properties": {
                "uid": {"type": "string", "format": "uuid"},
                "tool": {"type": "string"},
                "status": {"type": "string", "enum": ToolReceipt.Status.values},
            },
            "required": ["uid", "tool", "status"],
        },
    ]
}


class InvokeResponseSerializer(serializers.Serializer):
    result = serializers.JSONField(help_text="What the tool returned (the stored result when replayed).")
    replayed = serializers.BooleanField(
        help_text="True when an earlier call's result is returned, not re-run."
    )
    receipt = serializers.SerializerMethodField(
        help_text="The call's receipt; a keyed replay of another caller's call shows only its uid, tool "
        "and status."
    )

    @extend_schema_field(RECEIPT_OR_SUMMARY)
    def get_receipt(self, outcome):
        if outcome.foreign:
            return ToolReceiptSummarySerializer(outcome.receipt).data
        return ToolReceiptSerializer(outcome.receipt).data


class InvokeSchema(ProblemAutoSchema):
    def problem_codes(self):
        codes = super().problem_codes()
        if getattr(self.view, "action", None) == "invoke":
            codes += ["409", "422", "423", "429", "501", "502", "504"]
        return codes


class ToolDefinitionFilter(filters.FilterSet):
    mode = filters.ChoiceFilter(field_name="idempotency_mode", choices=IdempotencyMode.choices)
    permission = filters.CharFilter(method="filter_permission", help_text="Tools declaring this permission.")

    class Meta:
        model = ToolDefinition
        fields = ["name", "enabled", "mode", "permission"]

    def filter_permission(self, queryset, name, value):
        # JSON list membership without JSON lookups (SQLite has none): tools are few.
        return queryset.filter(pk__in=[tool.pk for tool in queryset if value in tool.permissions])


class ToolDefinitionViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """The tool registry by tool name, read-only: tools.registry.json is the single source of truth (seed
    002) and tools change only by importing it (`manage.py import_tool_registry`, or the admin's import).
    POST, PUT, PATCH and DELETE of a tool definition answer 405 `method_not_allowed`. Invoking a tool
    (`tools/<name>/invoke/`) needs `registries.invoke_tooldefinition`."""

    lookup_field = "name"
    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = InvokeSchema()
    serializer_class = ToolDefinitionSerializer
    filterset_class = ToolDefinitionFilter
    ordering_fields = ["name", "position", "updated_at"]
    search_fields = ["name", "description"]
    action_permissions = {"invoke": ["%(app_label)s.invoke_%(model_name)s"]}
    # The rate-limit kind of the invoke action ("invoke"); the other actions count as reads or writes.
    throttle_scope = None
    queryset = ToolDefinition.objects.select_related("connector").order_by("position", "name")

    @extend_schema(
        request=InvokeSerializer,
        responses=InvokeResponseSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="safe-retry tools: a repeated key returns the first call's result.",
            )
        ],
    )
    # Counted against the invoke rates, not the write rates (workbench/api/throttling.py): the throttle
    # runs before this view, so a refused call never reaches the gateway and leaves no receipt.
    @action(detail=True, methods=["post"], filter_backends=[], throttle_scope="invoke")
    def invoke(self, request, name=None):
        """Invoke the tool through the gateway: validated, policy-checked, idempotent, with a receipt."""
        body = InvokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = tool_invoke(
            tool_name=name,
            call_id=body.validated_data["call_id"],
            input=body.validated_data["input"],
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            tenant=body.validated_data.get("tenant"),
        )
        data = InvokeResponseSerializer(outcome).data
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(data, headers=headers)


class ToolReceiptFilter(filters.FilterSet):
    tool = filters.CharFilter(field_name="tool_name", help_text="Tool name, e.g. leads.create.")
    caller = filters.CharFilter(field_name="user__username", help_text="Username of the caller.")
    started_after = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = ToolReceipt
        fields = ["tool", "status", "call_id", "caller", "started_after", "started_before"]


class ToolReceiptViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """Receipts of executed tool calls, newest first (read-only; written by the gateway). You see your
    own calls and the calls made for tenants you are a member of; auditors see all."""

    lookup_field = "uid"
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"
    schema = ProblemAutoSchema()
    serializer_class = ToolReceiptSerializer
    filterset_class = ToolReceiptFilter
    ordering_fields = ["started_at", "duration_ms"]
    search_fields = ["call_id", "tool_name"]
    queryset = ToolReceipt.objects.select_related("user", "tenant").order_by("-started_at", "-id")
