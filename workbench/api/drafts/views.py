"""Drafts API: create, list, read and update drafts (If-Match on the revision), validate, publish,
history, diff (between revisions or against live), restore, and import from an MCP server's tools/list or
from a server.json.

Only members of a draft's tenant see it; everyone else gets 404. Every write goes through the draft
services, which check the revision, the permission and the state under the draft's row lock; a view
only parses the request and translates the answer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.api.serializers import request_change_reason
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.selectors.draft_diff import diff_states
from workbench.selectors.drafts import (
    REVISION_NUMBER,
    draft_history,
    draft_side,
    drafts_visible_to,
    with_people,
)
from workbench.services.drafts import (
    draft_create,
    draft_import_mcp,
    draft_import_server_json,
    draft_publish,
    draft_restore,
    draft_update,
    draft_validate,
)

from .probing import DraftProbingMixin
from .serializers import (
    DIFF_RESPONSE,
    DraftCreateSerializer,
    DraftDiffSerializer,
    DraftFilter,
    DraftSerializer,
    DraftUpdateSerializer,
    HistoryEntrySerializer,
    ImportMcpSerializer,
    ImportServerJsonSerializer,
    RestoreSerializer,
)

CHANGE = ["%(app_label)s.change_%(model_name)s"]
VIEW = ["%(app_label)s.view_%(model_name)s"]
ADD = ["%(app_label)s.add_%(model_name)s"]
PUBLISH = ["%(app_label)s.publish_%(model_name)s"]
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The revision the request is based on (the ETag of a read).",
)
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The revision the change is based on (the ETag of a read).",
)


def _if_match(request, *, required):
    """The revision named by If-Match ("7", W/"7" or 7); 428 when required and missing or not a
    revision number (ASCII digits only, so "¹" is refused here rather than failing int())."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        if required:
            raise Refusal(
                428,
                "precondition_required",
                "Send If-Match with the revision you edited (the ETag of your last read).",
            )
        return None
    value = raw.removeprefix("W/").strip().strip('"')
    if not REVISION_NUMBER.fullmatch(value):
        raise Refusal(428, "precondition_required", f"If-Match must name a draft revision, not {raw!r}.")
    return int(value)


@extend_schema(tags=["drafts"])
class DraftViewSet(
    DraftProbingMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Drafts of the caller's tenants. Reads carry the revision as ETag; updates must send If-Match."""

    serializer_class = DraftSerializer
    # The model, for the permission check (workbench.kit.api.permissions): get_queryset() below asks the
    # access table who is asking, which the permission check does not need.
    queryset = WorkbenchDraft.objects.all()
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
        "import_server_json": ADD,
    }

    def get_queryset(self):
        return drafts_visible_to(self.request.user).select_related(
            "tenant", "owner", "revised_by", "published_by", "validated_by"
        )

    def _answer(self, draft, status_code=status.HTTP_200_OK, *, saved=False):
        # A draft a save returns is the row it locked and wrote: answered as it is (its people loaded),
        # not read and decoded again.
        if saved:
            draft = with_people(draft, self.request.user)
        else:
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
        parameters=[IF_MATCH_REQUIRED],
    )
    def update(self, request, *args, **kwargs):
        base_revision = _if_match(request, required=True)
        data = DraftUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = draft_update(
            draft_id=self.kwargs["pk"],
            user=request.user,
            base_revision=base_revision,
            changes=data.validated_data,
            reason=request_change_reason(request),
        )
        return self._answer(draft, saved=True)

    @extend_schema(
        request=DraftUpdateSerializer,
        responses={200: DraftSerializer},
        parameters=[IF_MATCH_REQUIRED],
    )
    def partial_update(self, request, *args, **kwargs):
        """The same as PUT (a save changes only the fields it sends), If-Match included."""
        return self.update(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: DraftSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        """Validate the current revision and store the result (pass/fail, findings) on the draft.
        With If-Match, only if the draft is still at that revision (412 otherwise)."""
        draft = draft_validate(
            draft_id=pk, user=request.user, expected_revision=_if_match(request, required=False)
        )
        return self._answer(draft, saved=True)

    @extend_schema(request=None, responses={200: DraftSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the current revision (needs a passing validation of it and the publish permission).
        With If-Match, only if the draft is still at that revision (412 otherwise)."""
        draft = draft_publish(
            draft_id=pk, user=request.user, expected_revision=_if_match(request, required=False)
        )
        return self._answer(draft)

    @extend_schema(
        request=RestoreSerializer, responses={200: DraftSerializer}, parameters=[IF_MATCH_REQUIRED]
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring back an earlier revision's content as a new revision."""
        base_revision = _if_match(request, required=True)
        data = RestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = draft_restore(
            draft_id=pk,
            user=request.user,
            revision=data.validated_data["revision"],
            base_revision=base_revision,
            reason=request_change_reason(request),
        )
        return self._answer(draft, saved=True)

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
                "to", OpenApiTypes.STR, description="A revision number or 'live' (default: the current one)."
            ),
        ],
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """The structured diff from one revision (or the live connector) to another (or live): one entry per
        change (area, change, path, summary, before, after) with its details field by field (a tool's
        schema properties and how they changed: type, required, enum, ...; annotation hints; firearm
        and KPI decisions per scope)."""
        draft = self.get_object()
        before_key = request.query_params.get("from", "live")
        after_key = request.query_params.get("to", str(draft.revision))
        changes = diff_states(
            draft_side(draft, before_key, param="from"), draft_side(draft, after_key, param="to")
        )
        return Response(DraftDiffSerializer({"from": before_key, "to": after_key, "changes": changes}).data)

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

    @extend_schema(request=ImportServerJsonSerializer, responses={201: DraftSerializer})
    @action(detail=False, methods=["post"], url_path="import-server-json")
    def import_server_json(self, request):
        """Create a draft from a server.json (a server listed in an MCP registry), with its tools when the
        server's tools/list result comes along: packaging, description, repository, remotes and website
        taken over; firearm decisions left for a person. A live connector's draft starts from its latest
        version with the server.json's metadata on top."""
        data = ImportServerJsonSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        draft = draft_import_server_json(
            user=request.user,
            tenant=values["tenant"],
            document=values["server"],
            tools_list=values.get("tools_list"),
            connector_id=values.get("connector_id"),
            reason=request_change_reason(request),
        )
        return self._answer(draft, status.HTTP_201_CREATED)
