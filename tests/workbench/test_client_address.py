"""Behind reverse proxies (WORKBENCH_NUM_PROXIES) the client is the address the outermost proxy saw, for
the login throttle, the API's anonymous rate limits and the audit trail alike; without, X-Forwarded-For
is not read (a client could write any address there)."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from tests.workbench.factories import StaffFactory
from workbench.kit.addresses import client_address
from workbench.models import SecurityEvent
from workbench.services.audit import Kind

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"
PROXY = "10.0.0.1"


def sign_in(username, password, forwarded):
    return Client().post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", PROXY),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left one is the client's own claim
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),
        (1, "not an address", None),
        (1, "", PROXY),
    ],
)
def test_the_client_address(settings, proxies, forwarded, expected):
    settings.WORKBENCH_NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_behind_one_proxy_one_client_s_failures_do_not_lock_out_everyone(settings):
    settings.WORKBENCH_NUM_PROXIES = 1
    StaffFactory(username="alice")
    for number in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(f"guess-{number}", "wrong", "203.0.113.7")
    assert response.status_code == 429  # that client's address is locked ...
    assert sign_in("alice", PASSWORD, "203.0.113.7").status_code == 429
    # ... and everyone else behind the same proxy still signs in.
    assert sign_in("alice", PASSWORD, "198.51.100.9").status_code == 302
    failed = SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED).values_list("ip", flat=True)
    assert set(failed) == {"203.0.113.7"}
    succeeded = SecurityEvent.objects.get(kind=Kind.LOGIN_SUCCEEDED)
    assert succeeded.ip == "198.51.100.9"


def test_without_proxies_the_forwarded_header_is_not_trusted():
    assert settings.WORKBENCH_NUM_PROXIES == 0
    StaffFactory(username="alice")
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(f"guess-{number}", "wrong", f"203.0.113.{number + 1}")
    assert sign_in("alice", PASSWORD, "198.51.100.9").status_code == 429
    assert set(SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED).values_list("ip", flat=True)) == {PROXY}
