"""With REDIS_URL naming a Redis that cannot be reached, a counted API request is a 503 problem+json
`rate_limits_unavailable` with Retry-After, quickly, and has no effect; it is never a 500 nor let through
uncounted. The rest of the site (the database's counters are not used then) is unaffected."""

import time

import pytest
from rest_framework.test import APIClient

from tests.workbench.factories import MembershipFactory, StaffFactory, TenantFactory, api_token
from workbench.models import RateCounter, WorkbenchDraft

pytestmark = pytest.mark.django_db

UNREACHABLE = "redis://127.0.0.1:1/0"  # port 1: nothing listens, the connection is refused at once


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = UNREACHABLE
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    settings.WORKBENCH_RATES = {"read": "100/min", "write": "100/min", "invoke": "100/min"}
    return settings


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/api/v1/tools/", None),
        ("post", "/api/v1/drafts/", {"connector_id": "newco", "tenant": "acme"}),
    ],
)
def test_an_unreachable_redis_is_a_503_with_retry_after_and_no_effect(redis_down, method, path, data):
    user = StaffFactory(is_superuser=True)
    MembershipFactory(user=user, tenant=TenantFactory(slug="acme"), role="owner")
    client = client_for(user)
    started = time.monotonic()
    response = getattr(client, method)(path, data, format="json")
    assert time.monotonic() - started < 5
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limits_unavailable"
    assert int(response["Retry-After"]) > 0
    assert not WorkbenchDraft.objects.exists()
    assert not RateCounter.objects.exists()
