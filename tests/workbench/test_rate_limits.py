"""API rate limits (workbench/api/throttling.py, workbench/services/rate_limits.py): per token and per
tenant, separate reads, writes and invokes, 429 problem+json with Retry-After, nothing done when refused.

The suite's settings turn the limits off (tests/settings.py); these tests turn them on, low."""

from collections import Counter

import pytest
from django.db import connection

from policies.models import UsageEvent
from registries.models import Task, ToolReceipt
from tests.registries.gateway_kit import PROBE_PACKAGES, invoker_with_perm, probe_tool, run_in_threads
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory, api_token
from workbench.kit.refusals import Refusal
from workbench.models import RateCounter
from workbench.services.rate_limits import Bucket, rate_limit_hit

pytestmark = pytest.mark.django_db

OFF = {"read": None, "write": None, "invoke": None}
TOOLS = "/api/v1/tools/"


@pytest.fixture
def limits(settings):
    """Low rates per token; the tenant's off unless a test sets them."""
    settings.WORKBENCH_RATES = {"read": "3/min", "write": "2/min", "invoke": "2/min"}
    settings.WORKBENCH_TENANT_RATES = dict(OFF)
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    return settings


def client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def reader(**kwargs):
    return invoker_with_perm(**kwargs)


def invoke(client, call_id, tenant=None, name="probe.touch"):
    body = {"call_id": call_id, "input": {"title": call_id}}
    if tenant is not None:
        body["tenant"] = tenant
    return client.post(f"{TOOLS}{name}/invoke/", body, format="json")


def assert_throttled(response, owner="token"):
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "throttled" and body["status"] == 429
    assert f"this {owner}" in body["detail"]
    retry_after = response["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
    assert body["retry_after"] == int(retry_after)


def test_a_token_over_its_read_rate_gets_429_problem_json_with_retry_after(limits):
    client = client_for(reader())
    for _ in range(3):
        assert client.get(TOOLS).status_code == 200
    assert_throttled(client.get(TOOLS))
    # Another token of the same caller is a bucket of its own.
    assert client_for(UserFactory(perms=["registries.view_tooldefinition"])).get(TOOLS).status_code == 200


def test_reads_writes_and_invokes_count_in_separate_buckets(limits):
    probe_tool()
    perms = ["registries.invoke_tooldefinition", "registries.view_tooldefinition"]
    user = UserFactory(perms=[*perms, "workbench.add_workbenchdraft"])
    MembershipFactory(user=user)
    client = client_for(user)
    for _ in range(3):
        client.get(TOOLS)
    assert_throttled(client.get(TOOLS))
    # Writes: a refused draft (no body) is still a write counted against the write rate, not the read one.
    assert client.post("/api/v1/drafts/", {}, format="json").status_code == 400
    assert client.post("/api/v1/drafts/", {}, format="json").status_code == 400
    assert_throttled(client.post("/api/v1/drafts/", {}, format="json"))
    # Invokes have their own bucket, untouched by the exhausted reads and writes.
    assert invoke(client, "a").status_code == 200
    assert invoke(client, "b").status_code == 200
    assert_throttled(invoke(client, "c"))


def test_a_throttled_invoke_is_refused_before_any_effect_and_leaves_no_receipt(limits):
    limits.WORKBENCH_RATES = {"read": None, "write": None, "invoke": "1/min"}
    probe_tool(cost=1)
    client = client_for(reader())
    assert invoke(client, "first").status_code == 200
    receipts, usage, tasks = ToolReceipt.objects.count(), UsageEvent.objects.count(), Task.objects.count()
    assert (receipts, tasks) == (1, 1)
    assert_throttled(invoke(client, "second"))
    # No receipt, no usage, and the tool's handler (whose effect is a Task row) did not run.
    assert ToolReceipt.objects.count() == receipts
    assert UsageEvent.objects.count() == usage
    assert Task.objects.count() == tasks
    assert not ToolReceipt.objects.filter(call_id="second").exists()


def test_a_tenant_limit_is_shared_by_its_tokens_and_another_tenant_is_unaffected(limits):
    limits.WORKBENCH_RATES = dict(OFF)
    limits.WORKBENCH_TENANT_RATES = {"read": "3/min", "write": None, "invoke": None}
    acme, other = TenantFactory(), TenantFactory()
    first, second = (client_for(MembershipFactory(tenant=acme, user=reader()).user) for _ in range(2))
    outsider = client_for(MembershipFactory(tenant=other, user=reader()).user)
    assert first.get(TOOLS).status_code == 200
    assert first.get(TOOLS).status_code == 200
    assert second.get(TOOLS).status_code == 200
    assert_throttled(second.get(TOOLS), owner="tenant")
    assert_throttled(first.get(TOOLS), owner="tenant")
    assert outsider.get(TOOLS).status_code == 200
    # A caller of no tenant counts per token only.
    assert client_for(reader()).get(TOOLS).status_code == 200


def test_a_token_over_its_own_limit_does_not_use_up_its_tenants(limits):
    limits.WORKBENCH_RATES = {"read": "2/min", "write": None, "invoke": None}
    limits.WORKBENCH_TENANT_RATES = {"read": "3/min", "write": None, "invoke": None}
    acme = TenantFactory()
    noisy, quiet = (client_for(MembershipFactory(tenant=acme, user=reader()).user) for _ in range(2))
    statuses = [noisy.get(TOOLS).status_code for _ in range(6)]
    assert statuses == [200, 200, 429, 429, 429, 429]
    assert quiet.get(TOOLS).status_code == 200
    assert_throttled(quiet.get(TOOLS), owner="tenant")


def test_a_member_of_several_tenants_counts_in_the_tenant_named(limits):
    limits.WORKBENCH_RATES = dict(OFF)
    limits.WORKBENCH_TENANT_RATES = {"read": None, "write": None, "invoke": "1/min"}
    probe_tool()
    acme, globex = TenantFactory(slug="acme"), TenantFactory(slug="globex")
    user = reader()
    MembershipFactory(tenant=acme, user=user)
    MembershipFactory(tenant=globex, user=user)
    client = client_for(user)
    assert invoke(client, "a", tenant="acme").status_code == 200
    assert_throttled(invoke(client, "b", tenant="acme"), owner="tenant")
    assert invoke(client, "c", tenant="globex").status_code == 200
    # A name that is no tenant of the caller's (or none at all) counts per token only; the gateway
    # answers it.
    assert invoke(client, "d", tenant="nope\x00").status_code == 400
    assert invoke(client, "e").status_code == 400


def test_an_admin_session_counts_per_user(limits, client):
    user = reader()
    client.force_login(user)
    for _ in range(3):
        assert client.get(TOOLS).status_code == 200
    assert_throttled(client.get(TOOLS))


def test_anonymous_readers_of_a_public_registry_count_per_address(limits):
    from rest_framework.test import APIClient

    limits.WORKBENCH_REGISTRY_PUBLIC = True
    anonymous = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert anonymous.get("/v0/servers").status_code == 200
    refused = anonymous.get("/v0/servers")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "error" in refused.json()  # the registry's own error shape
    assert APIClient(REMOTE_ADDR="203.0.113.8").get("/v0/servers").status_code == 200


def test_limits_that_are_off_count_nothing(settings):
    settings.WORKBENCH_RATES = dict(OFF)
    settings.WORKBENCH_TENANT_RATES = dict(OFF)
    client = client_for(reader())
    for _ in range(5):
        assert client.get(TOOLS).status_code == 200
    assert not RateCounter.objects.exists()


def test_a_window_that_ends_starts_again_and_retry_after_is_the_rest_of_it():
    bucket = Bucket("read:60:token:1", 2, 60, "token")
    rate_limit_hit(buckets=[bucket], now=1000.0)
    rate_limit_hit(buckets=[bucket], now=1001.0)
    with pytest.raises(Refusal) as refused:
        rate_limit_hit(buckets=[bucket], now=1010.5)
    assert (refused.value.status, refused.value.code) == (429, "throttled")
    assert refused.value.extra["retry_after"] == 10  # the window is [960, 1020): 9.5 s left, rounded up
    rate_limit_hit(buckets=[bucket], now=1020.0)  # the next window
    assert RateCounter.objects.get(bucket=bucket.key).hits == 1
    # A worker whose clock is behind counts in the newer window, never resets it.
    rate_limit_hit(buckets=[bucket], now=1019.0)
    with pytest.raises(Refusal):
        rate_limit_hit(buckets=[bucket], now=1021.0)


def test_a_refusal_by_the_tenant_gives_the_token_its_count_back():
    token = Bucket("read:60:token:1", 5, 60, "token")
    tenant = Bucket("read:60:tenant:1", 1, 60, "tenant")
    rate_limit_hit(buckets=[token, tenant], now=1000.0)
    with pytest.raises(Refusal):
        rate_limit_hit(buckets=[token, tenant], now=1000.0)
    assert RateCounter.objects.get(bucket=token.key).hits == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_over_a_tenant_limit_admit_exactly_the_limit(on_postgres, settings):
    """Twelve requests at once from two tokens of one tenant, each thread its own PostgreSQL connection:
    exactly five pass."""
    settings.WORKBENCH_RATES = dict(OFF)
    settings.WORKBENCH_TENANT_RATES = {"read": "5/min", "write": None, "invoke": None}
    acme = TenantFactory()
    tokens = [api_token(MembershipFactory(tenant=acme, user=reader()).user) for _ in range(2)]

    def read(index):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[index % 2]}")
        return client.get(TOOLS).status_code

    statuses = Counter(run_in_threads(12, read))
    assert statuses == {200: 5, 429: 7}, statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_of_one_bucket_admit_exactly_the_limit(on_postgres):
    bucket = Bucket("write:60:token:7", 10, 60, "token")

    def hit(index):
        rate_limit_hit(buckets=[bucket])
        return "admitted"

    results = run_in_threads(24, hit)
    kinds = Counter(r if isinstance(r, str) else f"{r.status} {r.code}" for r in results)
    assert kinds == {"admitted": 10, "429 throttled": 14}, kinds
    assert connection.vendor == "postgresql"


def redis_reachable():
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5).ping()
    except Exception:  # noqa: BLE001 - any failure means: no Redis here
        return False
    return True


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_the_counters_live_in_redis_and_admit_exactly_the_limit(settings):
    import uuid

    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        },
    }
    bucket = Bucket(f"read:60:test:{uuid.uuid4().hex}", 10, 60, "token")

    def hit(index):
        rate_limit_hit(buckets=[bucket])
        return "admitted"

    kinds = Counter(r if isinstance(r, str) else r.code for r in run_in_threads(24, hit))
    assert kinds == {"admitted": 10, "throttled": 14}, kinds
    assert not RateCounter.objects.exists()


def test_every_operation_documents_429(admin_client):
    paths = admin_client.get("/api/schema/?format=json").json()["paths"]
    operations = [op for item in paths.values() for method, op in item.items() if method != "parameters"]
    assert operations
    for operation in operations:
        assert "429" in operation["responses"], operation["operationId"]


def test_a_body_that_is_no_json_is_the_usual_400_with_the_limits_on(limits):
    limits.WORKBENCH_TENANT_RATES = {"read": None, "write": None, "invoke": "5/min"}
    probe_tool()
    client = client_for(MembershipFactory(user=reader()).user)
    url = f"{TOOLS}probe.touch/invoke/"
    response = client.post(url, data='{"tenant": "x', content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert not ToolReceipt.objects.exists()
