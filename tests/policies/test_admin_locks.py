import pytest
from django.contrib.admin import helpers

from policies.models import StrategyLock
from policies.services import strategy_lock_engage
from tests.admin_helpers import action_names, logged_in, rendered_form_data, staff
from tests.policies.factories import FirearmFactory, StrategyLockFactory
from tests.registries.factories import ConnectorFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/policies/strategylock/"


@pytest.fixture
def operator(client):
    user = staff(["policies.view_strategylock", "policies.change_strategylock", "policies.add_strategylock"])
    client.force_login(user)
    return user


def test_lock_policy_is_edited_with_one_action_per_line(client, operator):
    connector, firearm = ConnectorFactory(), FirearmFactory()
    response = client.post(f"{LIST}add/", {
        "name": "release-freeze", "description": "", "connectors": [connector.pk], "firearms": [firearm.pk],
        "actions": "github:admin_write\n\nleads.create\n",
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    lock = StrategyLock.objects.get()
    assert lock.actions == ["github:admin_write", "leads.create"]
    assert list(lock.connectors.all()) == [connector] and list(lock.firearms.all()) == [firearm]
    assert not lock.engaged
    assert lock.history.latest().history_user == operator


def test_bad_action_is_a_form_error(client, operator):
    response = client.post(f"{LIST}add/", {"name": "bad", "description": "", "actions": "Not an action"})
    assert response.status_code == 200
    assert "actions" in response.context["adminform"].form.errors


def test_state_fields_are_read_only_in_the_form(client, operator):
    lock = StrategyLockFactory()
    form = client.get(f"{LIST}{lock.pk}/change/").context["adminform"].form
    assert set(form.fields) == {"description", "connectors", "firearms", "actions"}


def test_saving_the_policy_never_undoes_an_engage_made_meanwhile(client, operator):
    lock = StrategyLockFactory(description="before")
    url = f"{LIST}{lock.pk}/change/"
    data = rendered_form_data(client.get(url))  # form opened while the lock is released
    strategy_lock_engage(lock=lock, user=operator, reason="incident 42")

    response = client.post(url, {**data, "description": "after", "engaged": "", "reason": ""})

    assert response.status_code == 302
    lock.refresh_from_db()
    state = (lock.description, lock.engaged, lock.reason, lock.engaged_by)
    assert state == ("after", True, "incident 42", operator)


@pytest.mark.parametrize("action, engaged_before, engaged_after", [
    ("engage_selected", False, True),
    ("release_selected", True, False),
])
def test_engage_and_release_actions_ask_for_a_reason(client, operator, action, engaged_before, engaged_after):
    locks = StrategyLockFactory.create_batch(2)
    if engaged_before:
        for lock in locks:
            strategy_lock_engage(lock=lock, user=operator, reason="set up")
    selected = {"action": action, helpers.ACTION_CHECKBOX_NAME: [lock.pk for lock in locks]}

    page = client.post(LIST, selected)
    assert page.status_code == 200 and "reason" in page.context["form"].fields

    client.post(LIST, {**selected, "confirm": "yes", "reason": "release train"})

    for lock in StrategyLock.objects.all():
        assert lock.engaged is engaged_after
        assert lock.reason == "release train"
        assert lock.history.latest().history_user == operator
        assert lock.history.latest().history_change_reason.endswith("release train")


def test_engaging_an_engaged_lock_is_reported(client, operator):
    lock = StrategyLockFactory()
    strategy_lock_engage(lock=lock, user=operator, reason="first")
    page = client.post(LIST, {"action": "engage_selected", helpers.ACTION_CHECKBOX_NAME: [lock.pk],
                              "confirm": "yes", "reason": "second"}, follow=True)
    assert "already engaged" in page.content.decode()
    lock.refresh_from_db()
    assert lock.reason == "first"


def test_state_actions_need_the_change_permission(client):
    StrategyLockFactory()
    logged_in(client, staff(["policies.view_strategylock"]))
    assert not action_names(client.get(LIST)) & {"engage_selected", "release_selected"}
