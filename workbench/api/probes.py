"""Sandbox probes in the API: the probe resource (`GET probes/`, `GET probes/<id>/`) that
`drafts/import-package/` and `drafts/<id>/probe/` answer 202 with. A probe of another tenant does not
exist for the caller (404). Reading probes takes the drafts' view permission: a probe is part of a
draft's life and has no permissions of its own."""

from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from workbench.api.drafts.serializers import TenantField
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.models import Probe
from workbench.selectors.probes import probes_visible_to
from workbench.services.probes import probes_fail_overdue
from workbench.services.probes.targets import PACKAGE_TYPES

DRAFT_VIEW = ["workbench.view_workbenchdraft"]

DRAFT_REFERENCE = inline_serializer(
    "ProbeDraft",
    {
        "id": serializers.CharField(),
        "url": serializers.URLField(),
        "revision": serializers.IntegerField(allow_null=True),
    },
    allow_null=True,
)


def probe_url(request, probe_id):
    return request.build_absolute_uri(reverse("probe-detail", args=[probe_id]))


class ProbeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    draft = serializers.SerializerMethodField()
    server = serializers.SerializerMethodField()

    class Meta:
        model = Probe
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "reason",
            "tenant",
            "requested_by",
            "connector_id",
            "target",
            "draft",
            "server",
            "isolated",
            "tools",
            "findings",
            "timing",
            "stderr_tail",
            "created_at",
            "started_at",
            "deadline_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "findings": {"help_text": "check: {path, severity, code, message} per difference found."},
            "tools": {"help_text": "The tools the server served (MCP Tool objects)."},
        }

    def get_url(self, probe) -> str:
        return probe_url(self.context["request"], probe.pk)

    def get_requested_by(self, probe) -> str:
        return probe.requested_by.get_username()

    @extend_schema_field(
        inline_serializer(
            "ProbeTarget",
            {
                "registry_type": serializers.CharField(),
                "identifier": serializers.CharField(),
                "version": serializers.CharField(),
                "url": serializers.CharField(),
                "bin": serializers.CharField(),
            },
        )
    )
    def get_target(self, probe):
        return {
            "registry_type": probe.registry_type,
            "identifier": probe.identifier,
            "version": probe.version,
            "url": probe.url,
            "bin": probe.bin,
        }

    @extend_schema_field(DRAFT_REFERENCE)
    def get_draft(self, probe):
        """import: the draft it created (once it succeeded); check: the draft and revision it probed."""
        if probe.kind == Probe.Kind.IMPORT:
            draft_id, revision = probe.created_draft_id, 1 if probe.created_draft_id else None
        else:
            draft_id, revision = probe.draft_id, probe.draft_revision
        if draft_id is None:
            return None
        url = self.context["request"].build_absolute_uri(reverse("draft-detail", args=[draft_id]))
        return {"id": draft_id, "url": url, "revision": revision}

    @extend_schema_field(
        inline_serializer(
            "ProbeServer",
            {
                "name": serializers.CharField(),
                "version": serializers.CharField(),
                "protocol_version": serializers.CharField(),
            },
        )
    )
    def get_server(self, probe):
        return {
            "name": probe.server_name,
            "version": probe.server_version,
            "protocol_version": probe.protocol_version,
        }


class ImportPackageSerializer(serializers.Serializer):
    tenant = TenantField(required=False, help_text="Tenant slug; may be left out by members of one tenant.")
    connector_id = serializers.CharField(max_length=63, help_text="The connector the draft is created for.")
    registry_type = serializers.ChoiceField(choices=PACKAGE_TYPES)
    identifier = serializers.CharField(max_length=214, help_text="The package name, e.g. mcp-server-time.")
    version = serializers.CharField(
        max_length=64, help_text="One exact version (no ranges, wildcards or tags such as latest)."
    )
    bin = serializers.CharField(
        max_length=214,
        required=False,
        default="",
        help_text="npm: the executable to start, when not the default.",
    )

    def validate(self, attrs):
        from workbench.api.drafts.serializers import DraftCreateSerializer

        return DraftCreateSerializer.validate(self, attrs)


class ProbeFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug")
    draft = filters.CharFilter(field_name="draft_id")

    class Meta:
        model = Probe
        fields = ["tenant", "kind", "status", "connector_id", "draft"]


class ProbeListSerializer(ProbeSerializer):
    """A probe in the list: without the served tools and the stderr tail (a probe's detail has them), so
    a page of probes stays small."""

    class Meta(ProbeSerializer.Meta):
        fields = [name for name in ProbeSerializer.Meta.fields if name not in ("tools", "stderr_tail")]
        read_only_fields = fields


def accepted(request, probe):
    """202 with the probe and its URL in Location: the work goes on in the background."""
    data = ProbeSerializer(probe, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


@extend_schema(tags=["probes"])
class ProbeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sandbox probes of the caller's tenants, newest first. A probe still running past its deadline is
    reported failed (its worker stopped)."""

    serializer_class = ProbeSerializer
    queryset = Probe.objects.all()
    schema = ProblemAutoSchema()
    filterset_class = ProbeFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = r"probe_[0-9a-f]+"
    action_permissions = {"list": DRAFT_VIEW, "retrieve": DRAFT_VIEW}

    def get_queryset(self):
        probes = probes_visible_to(self.request.user).select_related("tenant", "requested_by")
        if self.action == "list":
            probes = probes.defer("tools", "stderr_tail")
        return probes

    def get_serializer_class(self):
        return ProbeListSerializer if self.action == "list" else ProbeSerializer

    def list(self, request, *args, **kwargs):
        probes_fail_overdue()
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        probes_fail_overdue(probe_ids=[kwargs["pk"]])
        return super().retrieve(request, *args, **kwargs)
