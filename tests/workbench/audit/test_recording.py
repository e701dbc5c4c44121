"""audit_record: what one event keeps (hostile text made printable and cut, detail bounded), append-only,
and written in the caller's transaction."""

import pytest
from django.db import transaction

from tests.workbench.factories import TenantFactory, UserFactory
from workbench.models import SecurityEvent
from workbench.models.audit import DETAIL_LIMIT, SUBJECT_LIMIT, USER_AGENT_LIMIT, AppendOnlyError
from workbench.services.audit import Kind, audit_record

pytestmark = pytest.mark.django_db


def test_an_event_keeps_who_what_where_and_from_which_address(rf):
    user, tenant = UserFactory(username="alice"), TenantFactory(slug="acme")
    request = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="curl/8.0")
    event = audit_record(
        kind=Kind.ROLE_CHANGED, actor=user, subject="user bob in acme", tenant=tenant, request=request,
        detail={"role": ["viewer", "owner"]},
    )
    event.refresh_from_db()
    assert (event.kind, event.actor, event.actor_username, event.subject) == (
        "role_changed", user, "alice", "user bob in acme"
    )
    assert (event.tenant, event.ip, event.user_agent, event.detail) == (
        tenant, "203.0.113.9", "curl/8.0", {"role": ["viewer", "owner"]}
    )


def test_hostile_text_is_kept_printable_and_cut_to_its_column(rf):
    request = rf.get("/", REMOTE_ADDR="not-an-ip", HTTP_USER_AGENT="x\x00\ud800\t\n" * 500)
    event = audit_record(
        kind=Kind.LOGIN_FAILED, subject="ad\x00min\ud800" + "z" * 1000, request=request,
        detail={"k\x00": ["\ud800", float("nan"), {"deep": {"a": {"b": {"c": {"d": {"e": 1}}}}}}]},
    )
    event.refresh_from_db()  # the database took it: no NUL, no lone surrogate reached a column
    assert event.subject.startswith("ad\ufffdmin\ufffdz") and len(event.subject) == SUBJECT_LIMIT
    assert len(event.user_agent) == USER_AGENT_LIMIT and "\x00" not in event.user_agent
    assert "\t" not in event.user_agent and "\n" not in event.user_agent
    assert event.ip is None
    assert event.detail["k\ufffd"][:2] == ["\ufffd", "nan"]


def test_a_detail_over_its_cap_is_replaced_by_a_note_saying_so():
    detail = {f"k{n}": "y" * 1000 for n in range(DETAIL_LIMIT // 1000 + 1)}
    event = audit_record(kind=Kind.PLATFORM_WRITE, detail=detail)
    event.refresh_from_db()
    assert event.detail["truncated"] is True and event.detail["keys"] == list(detail)
    one_long_text = audit_record(kind=Kind.PLATFORM_WRITE, detail={"note": "z" * 10_000})
    assert len(one_long_text.detail["note"]) == 2000


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="not a security event kind"):
        audit_record(kind="coffee_made")


def test_events_are_append_only_and_only_the_purge_deletes_them():
    event = audit_record(kind=Kind.UNLOCKED, subject="alice")
    event.subject = "mallory"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.filter(pk=event.pk).update(subject="mallory")
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.filter(pk=event.pk).delete()
    assert SecurityEvent.objects.get(pk=event.pk).subject == "alice"
    assert SecurityEvent.objects.filter(pk=event.pk).purge() == 1


def test_the_actor_s_name_outlives_the_actor():
    user = UserFactory(username="leaver")
    event = audit_record(kind=Kind.TOKEN_CREATED, actor=user, subject="token of leaver")
    user.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_username) == (None, "leaver")


def test_an_event_rolls_back_with_the_transaction_it_was_recorded_in():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(kind=Kind.GROUP_CHANGED, subject="group auditors")
        raise RuntimeError("the change failed")
    assert not SecurityEvent.objects.exists()
