""""Try this tool" in the admin: every invoke is a new call with a fresh call id, and "Replay last call" is
a separate button re-sending the last call's id with the same arguments (issue 14, item 8)."""

import json
import re

import pytest
from django.urls import reverse

from registries.models import Task, ToolDefinition, ToolReceipt
from tests.admin_helpers import logged_in, staff
from tests.registries.gateway_kit import load_seed_registry

pytestmark = pytest.mark.django_db

TRY_PERMS = [
    "registries.view_tooldefinition", "registries.invoke_tooldefinition", "registries.view_toolreceipt"
]


def try_url(tool):
    return reverse("admin:registries_tooldefinition_try", args=[tool.pk])


def replay_data(response):
    """The hidden fields of the page's "Replay last call" form, as the browser would post them."""
    form = response.context["replay_form"]
    return {**{name: form[name].value() or "" for name in form.fields}, "replay": "Replay last call"}


@pytest.fixture
def tryer(client):
    return logged_in(client, staff(TRY_PERMS))  # platform staff: a member of one tenant


def test_two_invokes_are_two_new_calls_not_a_422(client, tryer):
    """Before: the page posted back the call_id it had shown, so a second invoke with another input reused
    it and the gateway answered 422 idempotency_mismatch."""
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="os.create_task")
    first = client.post(try_url(tool), {"input": json.dumps({"title": "one"})})
    second = client.post(try_url(tool), {"input": json.dumps({"title": "two"})})
    for response in (first, second):
        assert response.context["problem"] is None
        assert response.context["outcome"].replayed is False
        assert "New call <code>admin-" in response.content.decode()
    ids = {first.context["call"]["call_id"], second.context["call"]["call_id"]}
    assert len(ids) == 2 and set(ToolReceipt.objects.values_list("call_id", flat=True)) == ids
    assert sorted(Task.objects.values_list("title", flat=True)) == ["one", "two"]


def test_a_posted_call_id_is_not_reused_by_invoke(client, tryer):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="os.create_task")
    response = client.post(try_url(tool), {"call_id": "mine", "input": json.dumps({"title": "one"})})
    assert response.context["call"]["call_id"] != "mine"
    assert not ToolReceipt.objects.filter(call_id="mine").exists()


def test_replay_last_call_resends_its_call_id_and_arguments(client, tryer):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.get")  # safe-retry: the same call_id replays
    first = client.post(try_url(tool), {"input": json.dumps({"phone": "+15550100"})})
    call_id = first.context["call"]["call_id"]
    html = first.content.decode()
    assert 'name="replay"' in html and f'value="{call_id}"' in html
    replay = client.post(try_url(tool), replay_data(first))
    page = replay.content.decode()
    assert replay.context["call"] == {"call_id": call_id, "replay": True}
    assert replay.context["outcome"].replayed is True
    assert f"Replay of call <code>{call_id}</code>" in page and "Replayed an earlier call" in page
    assert ToolReceipt.objects.count() == 1
    # The invoke form keeps the replayed input, and the next invoke is a new call again.
    assert json.loads(replay.context["form"]["input"].value()) == {"phone": "+15550100"}
    again = client.post(try_url(tool), {"input": json.dumps({"phone": "+15550100"})})
    assert again.context["call"]["call_id"] not in (call_id,) and again.context["outcome"].replayed is False


def test_replaying_a_none_tool_runs_it_again_and_says_so(client, tryer):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="os.create_task")
    first = client.post(try_url(tool), {"input": json.dumps({"title": "one"})})
    replay = client.post(try_url(tool), replay_data(first))
    assert replay.context["outcome"].replayed is False
    assert "Executed again: a none tool runs for every call" in replay.content.decode()
    assert Task.objects.count() == 2


def test_a_tampered_replay_is_the_gateways_422_and_changes_nothing(client, tryer):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.get")
    first = client.post(try_url(tool), {"input": json.dumps({"phone": "+15550100"})})
    data = {**replay_data(first), "input": json.dumps({"phone": "+15550199"})}
    replay = client.post(try_url(tool), data)
    assert replay.status_code == 200 and replay.context["problem"]["status"] == 422
    assert ToolReceipt.objects.count() == 1


@pytest.mark.parametrize("call_id", ["x\x00y", "a" * 500, ""])
def test_a_hostile_replay_is_a_clear_error_not_a_5xx(client, tryer, call_id):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.get")
    response = client.post(
        try_url(tool), {"replay": "1", "call_id": call_id, "input": '{"phone": "+1"}', "tenant": "nope"}
    )
    assert response.status_code == 200
    assert response.context["problem"]["code"] == "validation_error" and response.context["outcome"] is None
    assert not ToolReceipt.objects.exists()


def test_the_page_has_no_inline_script_or_style(client, tryer):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.get")
    html = client.post(try_url(tool), {"input": json.dumps({"phone": "+15550100"})}).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "onclick" not in html.lower()
