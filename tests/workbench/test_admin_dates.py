"""A date hierarchy's year, month or day out of any range is a 400 on every list that has one, never a
server error; an ordinary date still filters."""

import pytest
from django.test import Client

from tests.workbench.factories import platform_staff

pytestmark = pytest.mark.django_db

LISTS = {
    "/admin/workbench/securityevent/": "at",
    "/admin/registries/toolreceipt/": "started_at",
    "/admin/registries/componentspec/": "published_at",
    "/admin/policies/usageevent/": "occurred_at",
    "/admin/policies/firearmgrant/": "created_at",
}


@pytest.mark.parametrize(("path", "field"), LISTS.items())
@pytest.mark.parametrize(
    "query",
    [
        "__year=99999999999",
        "__year=2026&{f}__month=99999999999",
        "__year=2026&{f}__month=1&{f}__day=9" + "9" * 20,
    ],
)
def test_a_date_out_of_range_is_a_400(path, field, query):
    client = Client(raise_request_exception=False)
    client.force_login(platform_staff(auditor=True, is_superuser=True))
    response = client.get(f"{path}?{field}{query.format(f=field)}")
    assert response.status_code == 400
    assert client.get(f"{path}?{field}__year=2026").status_code == 200
