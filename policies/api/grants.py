"""Firearm grants: given and revoked through the grant services, never edited or deleted."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from policies.models import Firearm, FirearmGrant
from policies.services import firearm_grant_approve, firearm_grant_create, firearm_grant_revoke
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.api.serializers import ReasonSerializer, RowSaveSerializer
from workbench.kit.api.viewsets import LOOKUP_ANY_SEGMENT, AccessMixin
from workbench.tenancy.models import Tenant

User = get_user_model()


class FirearmGrantSerializer(RowSaveSerializer):
    """A grant names its tenant (slug) and its principal: principal_type plus user (username) or group
    (name); a `tenant` grant is given to the tenant itself."""

    firearm = serializers.SlugRelatedField(slug_field="firearm_id", queryset=Firearm.objects.all())
    user = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=150,
        help_text="Username of a member of the grant's tenant (user grants).",
    )
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    tenant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(),
        help_text="The tenant the grant is given within (for a tenant grant, the tenant itself).",
    )
    approved_by = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    granted_by = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    revoked_by = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    is_active = serializers.BooleanField(read_only=True, help_text="Not revoked and not expired.")

    class Meta:
        model = FirearmGrant
        fields = [
            "uid", "firearm", "principal_type", "tenant", "user", "group", "reason", "expires_at",
            "granted_by", "created_at", "is_active", "needs_approval", "approved_at", "approved_by",
            "revoked_at", "revoked_by", "revoke_reason",
        ]
        read_only_fields = [
            "uid", "granted_by", "created_at", "needs_approval", "approved_at", "approved_by",
            "revoked_at", "revoked_by", "revoke_reason",
        ]

    def create(self, validated_data):
        return firearm_grant_create(granted_by=self.context["request"].user, **validated_data)


class FirearmGrantFilter(filters.FilterSet):
    firearm = filters.CharFilter(field_name="firearm__firearm_id", help_text="Firearm id.")
    user = filters.CharFilter(field_name="user__username", help_text="Grants given to this user directly.")
    group = filters.CharFilter(field_name="group__name")
    tenant = filters.CharFilter(field_name="tenant__slug")
    active = filters.BooleanFilter(method="filter_active", help_text="Not revoked and not expired.")
    revoked = filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = FirearmGrant
        fields = ["firearm", "principal_type", "user", "group", "tenant", "active", "revoked"]

    def filter_active(self, queryset, name, value):
        active = FirearmGrant.objects.active().values("pk")
        return queryset.filter(pk__in=active) if value else queryset.exclude(pk__in=active)


class FirearmGrantViewSet(
    AccessMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Firearms given to users, groups or tenants within a tenant, addressed by uid. A tenant's owners
    (and platform staff) grant; nobody grants to themself (403 self_grant).

    Grants are revoked (`POST firearm-grants/<uid>/revoke/`, change permission), never edited or
    deleted: PUT, PATCH and DELETE answer 405. A critical firearm's grant counts once a second person
    approves it (`POST firearm-grants/<uid>/approve/`, change permission).
    """

    lookup_field = "uid"
    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = ProblemAutoSchema()
    serializer_class = FirearmGrantSerializer
    filterset_class = FirearmGrantFilter
    ordering_fields = ["created_at", "expires_at", "revoked_at"]
    search_fields = ["reason", "firearm__firearm_id"]
    write_actions = ("revoke", "approve")
    action_permissions = {
        "revoke": ["%(app_label)s.change_%(model_name)s"],
        "approve": ["%(app_label)s.change_%(model_name)s"],
    }

    queryset = FirearmGrant.objects.select_related(
        "firearm", "user", "group", "tenant", "granted_by", "revoked_by", "approved_by"
    )

    @extend_schema(request=ReasonSerializer, responses={status.HTTP_200_OK: FirearmGrantSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, uid=None):
        """Revoke the grant; the row stays with who revoked it, when and why."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = firearm_grant_revoke(
            grant=self.get_object(), revoked_by=request.user, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=grant.pk)).data)

    @extend_schema(request=None, responses={status.HTTP_200_OK: FirearmGrantSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, uid=None):
        """Approve a critical firearm's grant: a second person, neither its granter nor its holder."""
        grant = firearm_grant_approve(grant=self.get_object(), approved_by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=grant.pk)).data)
