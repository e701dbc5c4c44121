"""The probes and the 503 (issue 11, item 4) on any database: /healthz never asks the database, /readyz
does within a second, and a lost database is a 503 with Retry-After on the API and in the admin, in debug
too. The real outage (a proxy that drops PostgreSQL) is in test_live_server.py."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from tests.admin_helpers import logged_in
from tests.workbench.factories import SuperuserFactory, token_client
from workbench.kit import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_gone(monkeypatch):
    """Every query fails as it does when PostgreSQL is stopped, from the moment this is called."""

    def lost(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    return lambda: (
        monkeypatch.setattr(CursorWrapper, "execute", lost),
        monkeypatch.setattr(CursorWrapper, "executemany", lost),
    )


def test_healthz_answers_without_the_database_any_host_over_plain_http(client, settings, database_gone,
                                                                        django_assert_num_queries):
    settings.SECURE_SSL_REDIRECT = True
    database_gone()
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_readyz_is_503_with_retry_after_when_the_database_is_gone(client, database_gone):
    database_gone()
    response = client.get("/readyz")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json() == {"status": "unavailable", "reason": "database unavailable: OperationalError"}


def test_readyz_is_503_when_the_database_is_slower_than_a_second(client, monkeypatch):
    monkeypatch.setattr(health, "READY_WITHIN", 0.0)
    response = client.get("/readyz")
    assert response.status_code == 503 and "database answered in" in response.json()["reason"]


def test_probes_answer_get_and_head_only(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_the_api_answers_503_problem_with_retry_after(settings, database_gone, debug):
    api = token_client(SuperuserFactory())
    settings.DEBUG = debug
    database_gone()
    response = api.get("/api/v1/firearms/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"


@pytest.mark.parametrize("debug", [False, True])
def test_the_admin_answers_a_plain_503_page(client, settings, database_gone, debug):
    logged_in(client, SuperuserFactory())
    settings.DEBUG = debug
    database_gone()
    response = client.get("/admin/policies/firearm/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"Traceback" not in response.content and b"<html" not in response.content


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_url_is_a_problem_404(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_other_database_errors_stay_500s():
    from django.db import DataError

    assert not health.database_unavailable(DataError("value too long"))
    assert health.database_unavailable(OperationalError("the database system is in recovery mode"))
