"""Strategy locks: the policy (what a lock covers) is edited as a row; the state (engaged or not)
changes only through the engage and release actions, each with a reason."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from policies.models import Firearm, StrategyLock
from policies.services import strategy_lock_engage, strategy_lock_release, strategy_lock_update
from registries.models import Connector
from workbench.kit.api.serializers import ReasonSerializer, RowSaveSerializer, request_change_reason
from workbench.kit.api.viewsets import RowViewSet

STATE_FIELDS = ["engaged", "engaged_at", "engaged_by", "reason"]


class StrategyLockSerializer(RowSaveSerializer):
    connectors = serializers.SlugRelatedField(
        slug_field="connector_id", queryset=Connector.objects.all(), many=True, required=False,
        help_text="Connector ids the lock covers.",
    )
    firearms = serializers.SlugRelatedField(
        slug_field="firearm_id", queryset=Firearm.objects.all(), many=True, required=False,
        help_text="Firearm ids the lock covers.",
    )
    actions = serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text="Actions covered: connector scopes '<connector_id>:<scope>' and tools 'domain.method'.",
    )
    engaged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = StrategyLock
        fields = ["name", "description", "connectors", "firearms", "actions", *STATE_FIELDS]
        read_only_fields = STATE_FIELDS

    def save_row(self, instance, many):
        return strategy_lock_update(
            lock=instance,
            user=self.context["request"].user,
            connectors=many.get("connectors"),
            firearms=many.get("firearms"),
            reason=request_change_reason(self.context["request"]),
        )


class StrategyLockFilter(filters.FilterSet):
    connector = filters.CharFilter(
        field_name="connectors__connector_id", distinct=True, help_text="Locks covering this connector id."
    )
    firearm = filters.CharFilter(
        field_name="firearms__firearm_id", distinct=True, help_text="Locks covering this firearm id."
    )

    class Meta:
        model = StrategyLock
        fields = ["name", "engaged", "connector", "firearm"]


class StrategyLockViewSet(RowViewSet):
    """Strategy locks by name. CRUD edits what a lock covers; engage/release (change permission)
    switch its state, recording who and why in its history."""

    lookup_field = "name"
    serializer_class = StrategyLockSerializer
    filterset_class = StrategyLockFilter
    ordering_fields = ["name", "engaged", "engaged_at"]
    search_fields = ["name", "description"]
    write_actions = ("engage", "release")
    action_permissions = {
        "engage": ["%(app_label)s.change_%(model_name)s"],
        "release": ["%(app_label)s.change_%(model_name)s"],
    }

    def get_queryset(self):
        return StrategyLock.objects.select_related("engaged_by").prefetch_related("connectors", "firearms")

    def _switch(self, request, service):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lock = service(lock=self.get_object(), user=request.user, reason=body.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=lock.pk)).data)

    @extend_schema(request=ReasonSerializer, responses={status.HTTP_200_OK: StrategyLockSerializer})
    @action(detail=True, methods=["post"])
    def engage(self, request, name=None):
        """Engage the lock: calls it covers are refused until it is released."""
        return self._switch(request, strategy_lock_engage)

    @extend_schema(request=ReasonSerializer, responses={status.HTTP_200_OK: StrategyLockSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, name=None):
        """Release the lock."""
        return self._switch(request, strategy_lock_release)
