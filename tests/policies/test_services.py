"""Grant and lock services record why on the history row, whatever the length of the reason."""

import pytest

from policies.services import firearm_grant_create, firearm_grant_revoke, strategy_lock_engage
from tests.policies.factories import FirearmFactory, StrategyLockFactory
from tests.workbench.factories import UserFactory
from workbench.kit.rows import history_reason

pytestmark = pytest.mark.django_db

LONG = "because " * 30  # 240 characters: longer than simple-history's 100-character reason column


def test_a_long_grant_and_revoke_reason_is_kept_whole_on_the_row_and_cut_on_the_history():
    grant = firearm_grant_create(
        firearm=FirearmFactory(),
        principal_type="user",
        user=UserFactory(),
        granted_by=UserFactory(),
        reason=LONG,
    )
    grant = firearm_grant_revoke(grant=grant, revoked_by=UserFactory(), reason=LONG)
    assert (grant.reason, grant.revoke_reason) == (LONG, LONG)
    reasons = [row.history_change_reason for row in grant.history.order_by("history_id")]
    assert reasons == [history_reason(f"granted: {LONG}"), history_reason(f"revoked: {LONG}")]
    assert all(len(reason) == 100 and reason.endswith("…") for reason in reasons)


def test_a_long_lock_reason_is_kept_whole_on_the_lock():
    lock = strategy_lock_engage(lock=StrategyLockFactory(), user=UserFactory(), reason=LONG)
    assert lock.reason == LONG
    assert lock.history.latest().history_change_reason == history_reason(f"engaged: {LONG}")
