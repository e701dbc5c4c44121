"""The people the environment fixtures describe read the audit trail out of the box: the tenant groups
and the auditors hold the events' view permission, so a fixture-loaded viewer sees their tenant's events
in the admin and an editor downloads them; an auditor sees every event."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.workbench.environments_kit import load
from tests.workbench.factories import StaffFactory, TenantFactory
from workbench.models import Tenant
from workbench.services.audit import Kind, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    load("dev")
    acme, other = Tenant.objects.get(slug="acme"), TenantFactory(slug="other")
    audit_record(kind=Kind.MEMBERSHIP_CHANGED, subject="acme-event", tenant=acme)
    audit_record(kind=Kind.MEMBERSHIP_CHANGED, subject="other-event", tenant=other)
    return get_user_model().objects


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_tenant_groups_and_auditors_hold_the_view_permission(env):
    load(env)
    for name in ("workbench-editors", "workbench-viewers", "auditors"):
        assert Group.objects.get(name=name).permissions.filter(codename="view_securityevent").exists(), name


def test_a_fixture_loaded_viewer_reads_their_tenant_s_events_in_the_admin(loaded):
    client = Client()
    client.force_login(loaded.get(username="demo-viewer"))
    answer = client.get("/admin/workbench/securityevent/")
    assert answer.status_code == 200
    assert b"acme-event" in answer.content
    assert b"other-event" not in answer.content


def test_a_fixture_loaded_editor_downloads_their_tenant_s_events(loaded):
    client = APIClient()
    token = AuthToken.objects.create(user=loaded.get(username="demo-editor"))[1]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = client.get("/api/v1/exports/security-events.tsv")
    assert answer.status_code == 200, answer.content
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert b"acme-event" in body
    assert b"other-event" not in body


def test_a_member_of_the_fixture_auditors_sees_every_event(loaded):
    auditor = StaffFactory(username="an-auditor")
    auditor.groups.add(Group.objects.get(name="auditors"))
    client = Client()
    client.force_login(auditor)
    answer = client.get("/admin/workbench/securityevent/")
    assert answer.status_code == 200
    assert b"acme-event" in answer.content and b"other-event" in answer.content
