"""Tool gateway invoke vs. a bare DRF view doing the same database work, both over HTTP in one run.

Subjects go through the whole stack (middleware, token authentication, model permissions, the gateway:
input schema, idempotency slot, then for a new call the firearm/lock/budget checks, handler transaction,
receipt, usage event; a replay is answered from its receipt before the policy checks).
- `none` tool: POST tools/os.create_task/invoke/ (inserts one Task) vs. a bare APIView inserting one Task.
- replayed `keyed` call: POST tools/leads.create/invoke/ for a phone already created (the stored result is
  replayed) vs. a bare APIView doing Lead get_or_create by phone (finds the row).
Both views are served by the same client and URLconf (this module's, which adds the bare views).
"""

import itertools

from django.test.utils import override_settings
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.bench.__main__ import best_of

REPEAT = 30
PHONE = "+15550999"


class BareTaskInsert(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        from registries.models import Task

        task = Task.objects.create(title=request.data["input"]["title"], call_id=request.data["call_id"])
        return Response({"task_id": task.pk, "title": task.title})


class BareLeadGetOrCreate(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        from registries.models import Lead

        lead, _ = Lead.objects.get_or_create(
            phone=request.data["input"]["phone"], defaults={"call_id": request.data["call_id"]}
        )
        return Response({"lead_id": lead.pk, "phone": lead.phone})


urlpatterns = [
    path("bench/bare/task/", BareTaskInsert.as_view()),
    path("bench/bare/lead/", BareLeadGetOrCreate.as_view()),
    path("", include("workbench.urls")),
]


def _poster(client, url, body_for, *, expect):
    counter = itertools.count()

    def post():
        response = client.post(url, body_for(next(counter)), format="json")
        if response.status_code != 200:
            raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:300]!r}")
        if expect is not None and response.json().get("replayed") is not expect:
            raise SystemExit(f"POST {url}: expected replayed={expect}, got {response.json()!r}")
        return response

    return post


def run(*, rows):
    from registries.services.tool_registry import parse_registry, tool_registry_import
    from tests.registries.gateway_kit import SEED_REGISTRY
    from tests.workbench.factories import UserFactory, token_client
    from workbench.kit.access import SYSTEM

    tool_registry_import(document=parse_registry(SEED_REGISTRY.read_bytes()), user=SYSTEM, source="bench")
    client = token_client(UserFactory(username="bench-gateway", perms=["registries.invoke_tooldefinition"]))
    results = []
    with override_settings(ROOT_URLCONF=__name__):

        def task(index):
            return {"call_id": f"task-{index}", "input": {"title": "Bench task"}}

        subject = _poster(client, "/api/v1/tools/os.create_task/invoke/", task, expect=False)
        baseline = _poster(client, "/bench/bare/task/", task, expect=None)
        results.append(("invoke none tool (one insert)", best_of(baseline, REPEAT), best_of(subject, REPEAT)))

        def lead(index):
            return {"call_id": f"lead-{index}", "input": {"phone": PHONE, "name": "Bench"}}

        _poster(
            client, "/api/v1/tools/leads.create/invoke/", lead, expect=None
        )()  # the call later ones replay
        subject = _poster(client, "/api/v1/tools/leads.create/invoke/", lead, expect=True)
        baseline = _poster(client, "/bench/bare/lead/", lead, expect=None)
        results.append(
            ("replayed keyed call (leads.create)", best_of(baseline, REPEAT), best_of(subject, REPEAT))
        )
    return results
