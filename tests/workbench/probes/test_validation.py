"""Validation shows the latest probe of the current revision, its findings with their own severity (so a
revision that does not match its server fails validation with or without the setting);
WORKBENCH_REQUIRE_PROBE makes a passing one required, at validation and again at publish (admin, API and
command all publish through draft_publish, whose preconditions the confirmation page forecasts)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory, draft_spec
from tests.workbench.publish_kit import publisher, ready_draft
from workbench.kit.refusals import Refusal
from workbench.selectors.publish_checks import publish_refusals
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


def test_without_the_setting_a_probe_s_errors_still_fail_validation(settings):
    # A revision that does not match its live server fails whether or not a probe is required.
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    ProbeFactory(draft=draft, findings=[
        {"severity": "error", "code": "served_not_declared", "path": "probe.tools.x", "message": "x"},
        {"severity": "warning", "code": "annotations_differs", "path": "probe.tools.y.annotations",
         "message": "y"},
    ])
    draft = _validated(draft)
    assert draft.validation_passed is False
    assert _codes(draft) == [
        ("error", "served_not_declared", "probe.tools.x"),
        ("warning", "annotations_differs", "probe.tools.y.annotations"),
    ]
    assert draft.validation_findings[-1]["stage"] == "verification"
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.code == "validation_failed"


def test_without_the_setting_a_failed_probe_is_a_warning_saying_why(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    probe = ProbeFactory(draft=draft, status="failed", reason="npm has no package 'x'", findings=[])
    draft = _validated(draft)
    assert draft.validation_passed is True
    assert _codes(draft) == [("warning", "probe_failed", "probe")]
    message = [f for f in draft.validation_findings if f["path"] == "probe"][0]["message"]
    assert probe.pk in message and "npm has no package 'x'" in message
    assert draft_publish(draft_id=draft.pk, user=draft.owner).status == "published"


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


def test_with_the_setting_a_later_failed_check_of_the_same_revision_refuses_publish(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    ProbeFactory(draft=draft)
    settings.WORKBENCH_REQUIRE_PROBE = True
    draft = _validated(draft)
    assert draft.validation_passed is True
    # After validation passed, a newer check of the same revision fails (the package changed, say).
    later = ProbeFactory(draft=draft, status="failed", reason="the server crashed (exit code 3)")
    forecast = publish_refusals([draft], draft.owner)[draft.pk]
    assert forecast is not None and forecast.code == "probe_required"
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.status == 409
    assert refused.value.code == "probe_required"
    assert later.pk in refused.value.detail and "exit code 3" in refused.value.detail
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_with_the_setting_a_later_check_with_errors_refuses_publish(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    ProbeFactory(draft=draft)
    settings.WORKBENCH_REQUIRE_PROBE = True
    draft = _validated(draft)
    ProbeFactory(draft=draft, findings=[
        {"severity": "error", "code": "declared_not_served", "path": "probe.tools.a", "message": "m"}
    ])
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.code == "probe_required"


def test_the_setting_turned_on_after_validation_refuses_publish_without_a_probe(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    draft = ready_draft()
    assert draft.validation_passed is True
    settings.WORKBENCH_REQUIRE_PROBE = True
    assert publish_refusals([draft], draft.owner)[draft.pk].code == "probe_required"
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.code == "probe_required"
    assert "has not been probed" in refused.value.detail
    # A passing probe of the revision lets it through.
    ProbeFactory(draft=draft)
    assert draft_publish(draft_id=draft.pk, user=draft.owner).status == "published"


def test_the_publish_forecast_reads_the_probes_of_many_drafts_in_one_query(settings):
    settings.WORKBENCH_REQUIRE_PROBE = False
    first = ready_draft(connector_id="alpha")
    drafts = [first] + [
        ready_draft(connector_id=name, owner=first.owner, tenant=first.tenant) for name in ("beta", "gamma")
    ]
    ProbeFactory(draft=drafts[0])
    ProbeFactory(draft=drafts[1], status="failed", reason="crash")
    publish_refusals(drafts, drafts[0].owner)  # the user's permissions are read once, then cached on it
    counts = []
    for required in (False, True):
        settings.WORKBENCH_REQUIRE_PROBE = required
        with CaptureQueriesContext(connection) as queries:
            refusals = publish_refusals(drafts, drafts[0].owner)
        counts.append([q["sql"] for q in queries.captured_queries])
    assert len(counts[1]) == len(counts[0]) + 1, counts
    assert refusals[drafts[0].pk] is None
    assert refusals[drafts[1].pk].code == refusals[drafts[2].pk].code == "probe_required"
