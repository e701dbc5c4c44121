"""Drafts API: create, list, read and update drafts (If-Match on the revision), validate, publish,
history, diff (between revisions or against live), restore, and import from an MCP server's tools/list.

Only members of a draft's tenant see it; everyone else gets 404. Every write goes through the draft
services, so the API refuses exactly what the admin refuses.
"""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from workbench.api.errors import Problem
from workbench.api.schema import ProblemAutoSchema
from workbench.api.serializers import request_change_reason
from workbench.models import WorkbenchDraft
from workbench.selectors.draft_diff import diff_states
from workbench.selectors.drafts import (
    draft_history,
    draft_revision_record,
    drafts_visible_to,
    live_connector_snapshot,
    tenants_of,
)
from workbench.services.drafts import (
    draft_create,
    draft_import_mcp,
    draft_publish,
    draft_restore,
    draft_update,
    draft_validate,
)

CHANGE = ["%(app_label)s.change_%(model_name)s"]
VIEW = ["%(app_label)s.view_%(model_name)s"]
ADD = ["%(app_label)s.add_%(model_name)s"]
PUBLISH = ["%(app_label)s.publish_%(model_name)s"]


def _username(user):
    return user.get_username() if user is not None else None


class ValidationResultSerializer(serializers.Serializer):
    passed = serializers.BooleanField(allow_null=True, help_text="Empty: never validated.")
    revision = serializers.IntegerField(allow_null=True, help_text="The revision the result is about.")
    current = serializers.BooleanField(help_text="Whether the result is about the current revision.")
    validated_at = serializers.DateTimeField(allow_null=True)
    validated_by = serializers.CharField(allow_null=True)
    findings = serializers.ListField(
        child=serializers.DictField(), help_text="{path, severity, code, message}"
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
        }


@extend_schema_field(OpenApiTypes.STR)
class TenantField(serializers.SlugRelatedField):
    """A tenant slug, among the tenants where the requesting user writes drafts."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        return tenants_of(self.context["request"].user, writable=True)


class DraftCreateSerializer(serializers.Serializer):
    tenant = TenantField(required=False, help_text="Tenant slug; may be left out by members of one tenant.")
    connector_id = serializers.CharField(max_length=63)
    stage = serializers.ChoiceField(
        choices=WorkbenchDraft.Stage.choices, default=WorkbenchDraft.Stage.DEFINITION
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
    stage = serializers.ChoiceField(choices=WorkbenchDraft.Stage.choices, required=False)
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


DIFF_RESPONSE = inline_serializer(
    "DraftDiff",
    {
        "from": serializers.CharField(),
        "to": serializers.CharField(),
        "changes": serializers.ListField(child=serializers.DictField()),
    },
)


class DraftFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug")

    class Meta:
        model = WorkbenchDraft
        fields = ["tenant", "connector_id", "stage", "status"]


def _if_match(request, *, required):
    """The revision named by If-Match ("7", W/"7" or 7); 428 when required and missing."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        if required:
            raise Problem(
                428,
                "precondition_required",
                "Send If-Match with the revision you edited (the ETag of your last read).",
            )
        return None
    value = raw.removeprefix("W/").strip().strip('"')
    if not value.isdigit():
        raise Problem(428, "precondition_required", f"If-Match must name a draft revision, not {raw!r}.")
    return int(value)


@extend_schema(tags=["drafts"])
class DraftViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Drafts of the caller's tenants. Reads carry the revision as ETag; updates must send If-Match."""

    serializer_class = DraftSerializer
    schema = ProblemAutoSchema()
    filterset_class = DraftFilter
    ordering_fields = ["revised_at", "created_at", "connector_id"]
    search_fields = ["connector_id", "id"]
    lookup_value_regex = r"draft_[0-9a-f]+"
    action_permissions = {
        "validate": CHANGE,
        "publish": PUBLISH,
        "restore": CHANGE,
        "history": VIEW,
        "diff": VIEW,
        "import_mcp": ADD,
    }

    def get_queryset(self):
        return drafts_visible_to(self.request.user).select_related(
            "tenant", "owner", "revised_by", "published_by", "validated_by"
        )

    def _answer(self, draft, status_code=status.HTTP_200_OK):
        draft = self.get_queryset().get(pk=draft.pk)
        response = Response(
            DraftSerializer(draft, context=self.get_serializer_context()).data, status=status_code
        )
        response["ETag"] = f'"{draft.revision}"'
        return response

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    @extend_schema(request=DraftCreateSerializer, responses={201: DraftSerializer})
    def create(self, request, *args, **kwargs):
        data = DraftCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        draft = draft_create(
            user=request.user, reason=request_change_reason(request) or "created", **data.validated_data
        )
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(
        request=DraftUpdateSerializer,
        responses={200: DraftSerializer},
        parameters=[
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="The revision the change is based on (the ETag of a read).",
            )
        ],
    )
    def update(self, request, *args, **kwargs):
        draft = self.get_object()
        base_revision = _if_match(request, required=True)
        data = DraftUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = draft_update(
            draft_id=draft.pk,
            user=request.user,
            base_revision=base_revision,
            changes=data.validated_data,
            reason=request_change_reason(request),
        )
        return self._answer(draft)

    @extend_schema(request=None, responses={200: DraftSerializer})
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        """Validate the current revision and store the result (pass/fail, findings) on the draft."""
        draft = self.get_object()
        base_revision = _if_match(request, required=False)
        if base_revision is not None and base_revision != draft.revision:
            raise Problem(
                412, "precondition_failed", f"The draft is at revision {draft.revision}, not {base_revision}."
            )
        return self._answer(draft_validate(draft_id=draft.pk, user=request.user))

    @extend_schema(request=None, responses={200: DraftSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the current revision (needs a passing validation of it and the publish permission).
        With If-Match, only if the draft is still at that revision."""
        draft = self.get_object()
        base_revision = _if_match(request, required=False)
        if base_revision is not None and base_revision != draft.revision:
            raise Problem(
                412, "precondition_failed", f"The draft is at revision {draft.revision}, not {base_revision}."
            )
        return self._answer(draft_publish(draft_id=draft.pk, user=request.user))

    @extend_schema(
        request=RestoreSerializer,
        responses={200: DraftSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring back an earlier revision's content as a new revision."""
        draft = self.get_object()
        base_revision = _if_match(request, required=True)
        data = RestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = draft_restore(
            draft_id=draft.pk,
            user=request.user,
            revision=data.validated_data["revision"],
            base_revision=base_revision,
            reason=request_change_reason(request),
        )
        return self._answer(draft)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every save of the draft, newest first: revision, when, who, why."""
        records = draft_history(self.get_object())
        page = self.paginate_queryset(records)
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    @extend_schema(
        responses={200: DIFF_RESPONSE},
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.STR, description="A revision number or 'live' (default: live)."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.STR, description="A revision number (default: the current one)."
            ),
        ],
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Readable changes from one revision (or the live connector) to another revision."""
        draft = self.get_object()
        before_key = request.query_params.get("from", "live")
        after_key = request.query_params.get("to", str(draft.revision))
        states = {}
        for param, key in (("from", before_key), ("to", after_key)):
            states[param] = self._state(draft, param, key)
        changes = diff_states(states["from"], states["to"])
        return Response({"from": before_key, "to": after_key, "changes": changes})

    @staticmethod
    def _state(draft, param, key):
        if key == "live" and param == "from":
            spec, policy = live_connector_snapshot(draft.connector_id)
            return {"spec_snapshot": spec or {}, "policy_snapshot": policy or {}}
        if not key.isdigit():
            raise Problem(
                400,
                "validation_error",
                f"'{param}' must be a revision number" + (" or 'live'." if param == "from" else "."),
                errors=[{"field": param, "code": "invalid", "message": "Not a revision."}],
            )
        record = draft_revision_record(draft, int(key))
        if record is None:
            raise Problem(404, "not_found", f"Draft {draft.pk} has no revision {key}.")
        return {
            "stage": record.stage,
            "status": record.status,
            "spec_snapshot": record.spec_snapshot,
            "policy_snapshot": record.policy_snapshot,
        }

    @extend_schema(request=ImportMcpSerializer, responses={201: DraftSerializer})
    @action(detail=False, methods=["post"], url_path="import-mcp")
    def import_mcp(self, request):
        """Create a draft from a server's tools/list: every tool checked, scopes proposed from annotations,
        firearm decisions left for a person."""
        data = ImportMcpSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        draft = draft_import_mcp(
            user=request.user,
            reason=request_change_reason(request) or "imported from MCP",
            **data.validated_data,
        )
        return self._answer(draft, status.HTTP_201_CREATED)
