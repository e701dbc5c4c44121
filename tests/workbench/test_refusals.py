"""One refusal vocabulary: a service's Refusal reaches the API as problem+json with its code, the admin as a
message on the page, a command as its detail on stderr and a non-zero exit."""

import io
import json

import pytest
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from policies.services import strategy_lock_engage
from tests.admin_helpers import logged_in, staff
from tests.policies.factories import FirearmGrantFactory, StrategyLockFactory
from tests.workbench.factories import SuperuserFactory, platform_staff, token_client
from workbench.kit.access import SYSTEM
from workbench.kit.commands import RefusalCommand
from workbench.kit.refusals import Refusal, as_validation_error, field_error

pytestmark = pytest.mark.django_db


# -- the refusal itself -------------------------------------------------------------------------------


def test_a_refusal_carries_status_code_detail_errors_and_extra():
    errors = [field_error("reason", "x", "m")]
    refusal = Refusal(409, "no_change", "The lock is already engaged.", errors=errors, lock="freeze")
    assert (refusal.status, refusal.code, str(refusal), refusal.extra) == (
        409, "no_change", "The lock is already engaged.", {"lock": "freeze"}
    )
    assert refusal.message == "The lock is already engaged. reason: m"


@pytest.mark.parametrize("status", [200, 302, 418, 500])
def test_a_refusal_maps_only_to_the_documented_statuses(status):
    with pytest.raises(ValueError):
        Refusal(status, "odd", "Not a refusal status.")


def test_a_models_validation_error_becomes_a_400_keeping_fields_and_codes():
    error = ValidationError(
        {"firearm_id": ValidationError("Bad id.", code="invalid_identifier"), "__all__": ["Whole row."]}
    )
    refusal = Refusal.from_validation_error(error, rename={"firearm_id": "id"})
    assert (refusal.status, refusal.code, refusal.detail) == (400, "validation_error", "Invalid id.")
    assert refusal.errors == [
        {"field": "id", "code": "invalid_identifier", "message": "Bad id."},
        {"field": None, "code": "invalid", "message": "Whole row."},
    ]
    assert as_validation_error(refusal).message_dict == {"id": ["Bad id."], "__all__": ["Whole row."]}


# -- the API: problem+json, no pre-checks of its own ----------------------------------------------------


def test_api_answers_the_services_refusal_with_its_code_and_status():
    lock = StrategyLockFactory()
    strategy_lock_engage(lock=lock, user=SYSTEM, reason="incident")
    client = token_client(SuperuserFactory())

    response = client.post(f"/api/v1/strategy-locks/{lock.name}/engage/", {"reason": "again"}, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "no_change"
    assert response.json()["detail"] == f"The lock {lock.name} is already engaged."


def test_api_revoke_of_a_revoked_grant_is_the_services_409():
    grant = FirearmGrantFactory()
    client = token_client(SuperuserFactory())
    url = f"/api/v1/firearm-grants/{grant.uid}/revoke/"
    assert client.post(url, {"reason": "done"}, format="json").status_code == 200
    again = client.post(url, {"reason": "done again"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_revoked")


def test_api_lock_edit_keeps_an_engage_made_meanwhile():
    """strategy_lock_update: a PUT built from a read taken before an engage never releases the lock."""
    lock = StrategyLockFactory(description="before")
    client = token_client(SuperuserFactory())
    read = client.get(f"/api/v1/strategy-locks/{lock.name}/").json()
    oncall = platform_staff(["policies.change_strategylock"], username="oncall")
    strategy_lock_engage(lock=lock, user=oncall, reason="incident 7")

    body = {**read, "description": "after"}
    response = client.put(f"/api/v1/strategy-locks/{lock.name}/", body, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["description"], response.json()["engaged"]) == ("after", True)
    lock.refresh_from_db()
    assert (lock.engaged, lock.reason, lock.engaged_by.username) == (True, "incident 7", "oncall")


# -- the admin: a message on the page ------------------------------------------------------------------


def test_admin_shows_the_services_refusal_as_an_error_message(client):
    grant = FirearmGrantFactory()
    user = staff(["policies.view_firearmgrant", "policies.change_firearmgrant"])
    logged_in(client, user)
    selected = {"action": "revoke_selected", helpers.ACTION_CHECKBOX_NAME: [grant.pk], "confirm": "yes"}
    client.post("/admin/policies/firearmgrant/", {**selected, "reason": "first"})

    page = client.post("/admin/policies/firearmgrant/", {**selected, "reason": "second"}, follow=True)

    errors = [str(m) for m in page.context["messages"] if m.level_tag == "error"]
    assert errors and "already revoked" in errors[0]
    grant.refresh_from_db()
    assert grant.revoke_reason == "first"


# -- commands: the detail on stderr and a non-zero exit ------------------------------------------------


def test_a_command_ends_a_refusal_with_its_detail_and_a_non_zero_exit(tmp_path):
    bad = tmp_path / "broken.json"
    entry = {"model": "policies.firearm", "fields": {"firearm_id": "Bad Id", "name": "x"}}
    bad.write_text(json.dumps([entry]))

    with pytest.raises(CommandError) as refused:
        call_command("load_environment", str(bad), stdout=io.StringIO())

    assert refused.value.returncode == RefusalCommand.refused_exit_status != 0
    message = str(refused.value)
    assert "Nothing was loaded" in message and "firearm_id" in message and "[environment_invalid]" in message


@pytest.mark.django_db(transaction=True)
def test_run_from_the_command_line_a_refusal_exits_non_zero_printing_the_detail(tmp_path, capsys):
    from workbench.management.commands.load_environment import Command

    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "load_environment", str(tmp_path / "missing.json")])

    assert exited.value.code == RefusalCommand.refused_exit_status
    assert "missing.json" in capsys.readouterr().err
