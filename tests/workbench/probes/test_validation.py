"""Validation shows the latest probe of the current revision; WORKBENCH_REQUIRE_PROBE makes a passing one
a condition of validation passing and so of publish (admin, API and command all publish through it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory, draft_spec
from tests.workbench.publish_kit import publisher, ready_draft
from workbench.kit.refusals import Refusal
from workbench.services.drafts import draft_publish, draft_validate
from workbench.services.drafts.probe_results import probe_findings

pytestmark = pytest.mark.django_db


def _validated(draft):
    draft = draft_validate(draft_id=draft.pk, user=draft.owner)
    draft.refresh_from_db()
    return draft


def _codes(draft):
    found = draft.validation_findings
    return [(f["severity"], f["code"], f["path"]) for f in found if f["path"].startswith("probe")]


def test_without_the_setting_a_missing_probe_is_a_note_and_publish_goes_ahead(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    assert _codes(draft) == [("info", "no_probe", "probe")]
    assert draft_publish(draft_id=draft.pk, user=draft.owner).status == "published"


def test_without_the_setting_probe_errors_show_as_warnings(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    ProbeFactory(draft=draft, findings=[
        {"severity": "error", "code": "served_not_declared", "path": "probe.tools.x", "message": "x"}
    ])
    draft = _validated(draft)
    assert draft.validation_passed is True
    assert _codes(draft) == [("warning", "served_not_declared", "probe.tools.x")]
    assert draft.validation_findings[-1]["stage"] == "verification"


def test_with_the_setting_no_probe_fails_validation_and_publish_is_refused(settings):
    settings.WORKBENCH_REQUIRE_PROBE = True
    draft = WorkbenchDraftFactory(
        connector_id="notes", owner=publisher(), spec_snapshot=draft_spec("notes"),
        policy_snapshot={"firearms": {"admin_write": None, "read_public": None}, "kpis": {}},
    )
    draft = _validated(draft)
    assert draft.validation_passed is False
    assert ("error", "no_probe", "probe") in _codes(draft)
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.code == "validation_failed"


@pytest.mark.parametrize(
    ("status", "findings", "passes"),
    [
        ("succeeded", [], True),
        ("succeeded", [{"severity": "warning", "code": "annotations_differs", "path": "probe.tools.a",
                        "message": "m"}], True),
        ("succeeded", [{"severity": "error", "code": "declared_not_served", "path": "probe.tools.a",
                        "message": "m"}], False),
        ("failed", [], False),
    ],
)
def test_with_the_setting_only_a_passing_probe_of_the_current_revision_lets_it_publish(
    settings, status, findings, passes
):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    settings.WORKBENCH_REQUIRE_PROBE = True
    ProbeFactory(draft=draft, draft_revision=draft.revision + 1)  # another revision's says nothing
    ProbeFactory(draft=draft, status=status, findings=findings, reason="crash" if status == "failed" else "")
    draft = _validated(draft)
    assert draft.validation_passed is passes, draft.validation_findings
    if passes:
        assert draft_publish(draft_id=draft.pk, user=draft.owner).status == "published"
    else:
        with pytest.raises(Refusal):
            draft_publish(draft_id=draft.pk, user=draft.owner)


def test_the_probe_part_of_validation_is_one_query_whatever_the_setting(settings):
    draft = ready_draft()
    for required in (False, True):
        settings.WORKBENCH_REQUIRE_PROBE = required
        with CaptureQueriesContext(connection) as queries:
            probe_findings(draft)
        assert len(queries) == 1
