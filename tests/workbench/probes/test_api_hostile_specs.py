"""Checking a draft whose stored spec holds what the contract lets through at save time but names nothing
a probe can run (a remote that is not an object, a bin that is not text, a remote URL too long to probe):
a 400 naming the field, never a 500, and no probe queued."""

import pytest

from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, token_client
from tests.workbench.probes.kit import editor
from workbench.models import Probe

pytestmark = pytest.mark.django_db

PERMS = ["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"]


def _draft(**spec_changes):
    spec = draft_spec("notes")
    spec.pop("packaging", None)
    spec.update(spec_changes)
    return WorkbenchDraftFactory(connector_id="notes", owner=editor(perms=PERMS), spec_snapshot=spec)


def _check(draft):
    return token_client(draft.owner).post(f"/api/v1/drafts/{draft.pk}/probe/", format="json")


def test_a_remote_that_is_not_an_object_saved_through_the_api_is_a_400_not_a_500():
    draft = _draft()
    client = token_client(draft.owner)
    spec = {**draft.spec_snapshot, "remotes": ["x"]}
    saved = client.patch(f"/api/v1/drafts/{draft.pk}/", {"spec_snapshot": spec}, format="json",
                         HTTP_IF_MATCH=f'"{draft.revision}"')
    assert saved.status_code == 200, saved.json()
    answer = client.post(f"/api/v1/drafts/{draft.pk}/probe/", format="json")
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "nothing_to_probe" or "nothing_to_probe" in str(answer.json())
    assert not Probe.objects.exists()


@pytest.mark.parametrize(
    "remotes",
    [["x"], [None, 3, []], [{"type": ["streamable-http"], "url": "https://a.example/mcp"}],
     [{"type": "streamable-http", "url": {"u": 1}}], {"type": "streamable-http"}, "https://a.example/mcp"],
)
def test_remotes_of_any_shape_are_a_400(remotes):
    answer = _check(_draft(remotes=remotes))
    assert answer.status_code == 400, answer.content
    assert not Probe.objects.exists()


def test_a_remote_after_junk_is_the_one_probed(runner, django_capture_on_commit_callbacks):
    draft = _draft(remotes=["x", {"type": "sse", "url": "https://a.example/sse"},
                            {"type": "streamable-http", "url": "https://a.example/mcp"}])
    with django_capture_on_commit_callbacks(execute=True):
        answer = _check(draft)
    assert answer.status_code == 202, answer.json()
    assert answer.json()["target"]["url"] == "https://a.example/mcp"


def test_a_remote_url_too_long_to_probe_is_refused_not_cut():
    url = "https://a.example/" + "p" * 600
    answer = _check(_draft(remotes=[{"type": "streamable-http", "url": url}]))
    assert answer.status_code == 400, answer.content
    fields = {error["field"]: error for error in answer.json()["errors"]}
    assert fields["spec_snapshot.remotes[0].url"]["code"] == "too_long"
    assert not Probe.objects.exists()


@pytest.mark.parametrize("binary", [3, ["mcp-server-time"], {"a": 1}, True])
def test_a_packaging_bin_that_is_not_text_is_refused_not_dropped(binary):
    packaging = {"registry_type": "pypi", "identifier": "mcp-server-time", "version": "2026.10.19",
                 "transport": "stdio", "bin": binary}
    answer = _check(_draft(packaging=packaging))
    assert answer.status_code == 400, answer.content
    assert "spec_snapshot.packaging.bin" in {error["field"] for error in answer.json()["errors"]}
    assert not Probe.objects.exists()


@pytest.mark.parametrize(
    "packaging",
    [["pypi"], "pypi", {"registry_type": ["pypi"]}, {"registry_type": "pypi", "identifier": ["x"],
                                                      "version": "1.0.0"},
     {"registry_type": "npm", "identifier": "x", "version": {"v": 1}}, {"registry_type": {"a": "b"}}],
)
def test_packaging_of_any_shape_is_a_400(packaging):
    answer = _check(_draft(packaging=packaging))
    assert answer.status_code == 400, answer.content
    assert not Probe.objects.exists()
