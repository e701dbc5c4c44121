"""The drafts API's sandbox probe actions: `POST drafts/import-package/` (a probe that onboards a
connector from its package) and `POST drafts/<id>/probe/` (a probe that checks the draft's current
revision against the live server). Both answer 202 with the probe resource (`GET probes/<id>/`)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from workbench.api.probes import ImportPackageSerializer, ProbeSerializer, accepted
from workbench.services.probes import probe_request_check, probe_request_import

ADD = ["%(app_label)s.add_%(model_name)s"]
CHANGE = ["%(app_label)s.change_%(model_name)s"]


class DraftProbingMixin:
    """Mixed into DraftViewSet; each action's permission is the one of creating or validating a draft."""

    def __init_subclass__(cls, **kwargs):
        # The viewset's own table of action permissions, with these actions added.
        super().__init_subclass__(**kwargs)
        cls.action_permissions = {
            **getattr(cls, "action_permissions", {}),
            "import_package": ADD,
            "probe": CHANGE,
        }

    @extend_schema(request=ImportPackageSerializer, responses={202: ProbeSerializer})
    @action(detail=False, methods=["post"], url_path="import-package")
    def import_package(self, request):
        """Onboard a connector from its package: a probe installs that exact version, isolated, reads its
        tools/list and, on success, creates a draft from the live tools (scopes proposed from their
        annotations, firearm decisions left for a person). Answers 202 with the probe; follow its URL."""
        data = ImportPackageSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        probe = probe_request_import(user=request.user, **data.validated_data)
        return accepted(request, probe)

    @extend_schema(request=None, responses={202: ProbeSerializer})
    @action(detail=True, methods=["post"])
    def probe(self, request, pk=None):
        """Check the draft's current revision against its live server (its packaging, or its first
        streamable-HTTP remote): findings stored against the revision, shown by validation. 202 with the
        probe."""
        probe = probe_request_check(user=request.user, draft_id=pk)
        return accepted(request, probe)
