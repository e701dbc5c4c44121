"""Strategy locks: the policy (what a lock covers) is edited as a row; the state (engaged or not)
changes only through the engage and release actions, each with a reason."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from policies.models import Firearm, StrategyLock
from policies.services import strategy_lock_engage, strategy_lock_release
from registries.models import Connector
from workbench.api.errors import Problem
from workbench.api.serializers import ReasonSerializer, RowSaveSerializer, drf_validation_error
from workbench.api.viewsets import RowViewSet

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
    engaged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StrategyLock
        fields = ["name", "description", "connectors", "firearms", "actions", *STATE_FIELDS]
        read_only_fields = STATE_FIELDS


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
    action_permissions = {
        "engage": ["%(app_label)s.change_%(model_name)s"],
        "release": ["%(app_label)s.change_%(model_name)s"],
    }

    def get_queryset(self):
        return StrategyLock.objects.select_related("engaged_by").prefetch_related("connectors", "firearms")

    def _switch(self, request, service, engaged):
        lock = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if lock.engaged == engaged:
            raise self._no_change(lock, engaged)
        try:
            service(lock=lock, user=request.user, reason=body.validated_data["reason"])
        except DjangoValidationError as exc:
            if "engaged" in getattr(exc, "error_dict", {}):
                # Switched by someone else between our read and the service's row lock.
                raise self._no_change(lock, engaged) from exc
            raise drf_validation_error(exc) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=lock.pk)).data)

    @staticmethod
    def _no_change(lock, engaged):
        state = "engaged" if engaged else "released"
        return Problem(status.HTTP_409_CONFLICT, "no_change", f"The lock {lock.name} is already {state}.")

    @extend_schema(request=ReasonSerializer, responses={status.HTTP_200_OK: StrategyLockSerializer})
    @action(detail=True, methods=["post"])
    def engage(self, request, name=None):
        """Engage the lock: calls it covers are refused until it is released."""
        return self._switch(request, strategy_lock_engage, engaged=True)

    @extend_schema(request=ReasonSerializer, responses={status.HTTP_200_OK: StrategyLockSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, name=None):
        """Release the lock."""
        return self._switch(request, strategy_lock_release, engaged=False)
