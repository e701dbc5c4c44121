"""Draft PATCH with If-Match on a draft of 120 tools and 40 scopes (about 40 KB of spec JSON) vs. a bare
DRF view doing the least a compare-and-set save of the same body does, both over HTTP in one run.

Subject: PATCH /api/v1/drafts/<id>/ with If-Match and the whole spec, one tool's description changed
each time (middleware, token authentication, model permissions and the write check, the service: the
row locked, the revision compared, the card's rules, the changed fields validated, the row updated,
the changed snapshot stored once and a history row; the answer is the saved draft with its ETag).
Baseline: a bare APIView behind the same token authentication and model permission check, on the same
client and URLconf: select_for_update the row, compare the revision, update the JSON column and the
revision, insert one history row (referring to the draft's first snapshots: no content stored), answer
the draft's id, revision and snapshots. Each request commits; subject and baseline take turns.
"""

import itertools

from django.db import transaction
from django.test.utils import override_settings
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.bench.bench_import_tsv import interleaved_best
from workbench.kit.api.permissions import ModelPermissions
from workbench.models import WorkbenchDraft

REPEAT = 30
PERMS = ["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"]


class BareDraftPatch(APIView):
    permission_classes = [IsAuthenticated, ModelPermissions]
    queryset = WorkbenchDraft.objects.all()
    #: draft id -> its first history row's (spec, policy) digests, read before the timing
    first_snapshots = {}

    def patch(self, request, pk):
        history = WorkbenchDraft.history.model
        spec = request.data["spec_snapshot"]
        with transaction.atomic():
            draft = WorkbenchDraft.objects.select_for_update().get(pk=pk)
            if request.headers.get("If-Match", "").strip('"') != str(draft.revision):
                return Response({"detail": "stale"}, status=412)
            draft.revision += 1
            WorkbenchDraft.objects.filter(pk=pk).update(spec_snapshot=spec, revision=draft.revision)
            spec_digest, policy_digest = self.first_snapshots[pk]
            history.objects.create(
                history_date=timezone.now(),
                history_type="~",
                history_user=request.user,
                spec_content_id=spec_digest,
                policy_content_id=policy_digest,
                **{field.attname: getattr(draft, field.attname) for field in history.tracked_fields},
            )
        body = {"id": pk, "revision": draft.revision, "spec_snapshot": spec}
        body["policy_snapshot"] = draft.policy_snapshot
        return Response(body, headers={"ETag": f'"{draft.revision}"'})


urlpatterns = [
    path("bench/bare/drafts/<str:pk>/", BareDraftPatch.as_view()),
    path("", include("workbench.urls")),
]


def _patcher(client, url, spec):
    revisions = itertools.count(1)

    def patch():
        revision = next(revisions)
        spec["tools"][0]["description"] = f"edit {revision}"
        response = client.patch(url, {"spec_snapshot": spec}, format="json", HTTP_IF_MATCH=f'"{revision}"')
        if response.status_code != 200 or response["ETag"] != f'"{revision + 1}"':
            raise SystemExit(f"PATCH {url} answered {response.status_code}: {response.content[:300]!r}")
        return response

    return patch


def run(*, rows):
    from tests.workbench.factories import UserFactory, token_client
    from tests.workbench.test_drafts_patch_queries import big_draft, big_spec

    owner = UserFactory(username="bench-drafts", perms=PERMS)
    subject_draft, baseline_draft = big_draft(owner), big_draft(owner)
    client = token_client(owner)
    first = baseline_draft.history.values_list("spec_content", "policy_content").get(revision=1)
    BareDraftPatch.first_snapshots[baseline_draft.pk] = first
    with override_settings(ROOT_URLCONF=__name__):
        baseline, subject = interleaved_best(
            [
                _patcher(client, f"/bench/bare/drafts/{baseline_draft.pk}/", big_spec()),
                _patcher(client, f"/api/v1/drafts/{subject_draft.pk}/", big_spec()),
            ],
            REPEAT,
        )
    _print_history_storage(subject_draft)
    return [("draft PATCH with If-Match, 120 tools", baseline, subject)]


def _print_history_storage(draft):
    """What draft history stored for the timed one-tool saves, against what a whole copy per save
    would be and what each save changed (JSON text bytes; the database adds its own per-row cost)."""
    import json

    from workbench.models.snapshots import DraftSnapshot

    saves = draft.history.filter(revision__gt=1)
    digests = set(saves.values_list("spec_content", flat=True)) | set(
        saves.values_list("policy_content", flat=True)
    )
    digests -= set(draft.history.filter(revision=1).values_list("spec_content", "policy_content").get())
    stored = sum(
        len(json.dumps(row.content if row.base_id is None else row.patch))
        for row in DraftSnapshot.objects.filter(pk__in=digests)
    )
    count = saves.count()
    whole = len(json.dumps(draft.spec_snapshot)) + len(json.dumps(draft.policy_snapshot))
    changed = len(json.dumps(draft.spec_snapshot["tools"][0]))
    print(
        f"draft history per one-tool save ({count} saves): {stored / count / 1024:.1f} KB of snapshot JSON "
        f"stored (a whole copy: {whole / 1024:.1f} KB; the changed tool: {changed / 1024:.1f} KB)",
        flush=True,
    )
