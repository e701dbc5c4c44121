"""The three TSV exports: golden files, the same bytes from the admin, the API and the command, access."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from import_export.fields import Field

from registries.models import Connector, EngineRoute, Scope
from tests.admin_helpers import logged_in, staff
from tests.policies.factories import FirearmFactory
from tests.workbench.exchange_kit import body, connector_row, expected, golden_registry
from tests.workbench.factories import SuperuserFactory, UserFactory, token_client
from workbench.exchange import EXPORTS
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import TsvExportResource

pytestmark = pytest.mark.django_db

KINDS = ["connectors", "policy-matrix", "coverage"]
EXCHANGE = "/admin/workbench/tsvexchange/"
ADMIN = {kind: f"{EXCHANGE}download/{kind}/" for kind in ["connectors", "policy-matrix", "coverage"]}


def _api_user(kind):
    return UserFactory(perms=list(EXPORTS[kind].export_permissions))


@pytest.fixture
def registry():
    return golden_registry()


@pytest.mark.parametrize("kind", KINDS)
def test_api_download_is_the_golden_file(registry, kind):
    response = token_client(_api_user(kind)).get(f"/api/v1/exports/{kind}.tsv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}.tsv"'
    assert body(response) == expected(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_the_exchange_page_downloads_the_golden_file(client, registry, kind):
    logged_in(client, SuperuserFactory())
    page = client.get(EXCHANGE).content.decode()
    assert f"Export {kind}.tsv" in page

    downloads = [client.get(ADMIN[kind])]
    if kind == "policy-matrix":
        downloads.append(client.get(f"{EXCHANGE}export/"))  # the list's own button, unfiltered
    for response in downloads:
        assert response.status_code == 200
        assert response["Content-Type"] == "text/tab-separated-values; charset=utf-8"
        assert body(response) == expected(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_command_writes_the_golden_file_to_stdout_and_to_a_path(registry, kind, tmp_path):
    out = io.StringIO()
    call_command("export_tsv", kind, stdout=out, stderr=io.StringIO())
    call_command("export_tsv", kind, "--output", str(tmp_path / "out.tsv"), stderr=io.StringIO())

    assert out.getvalue().encode() == expected(kind)
    assert (tmp_path / "out.tsv").read_bytes() == expected(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_import_export_dataset_renders_the_same_bytes(registry, kind):
    resource = EXPORTS[kind]()
    assert tsv.TsvFormat().export_data(resource.export()).encode() == expected(kind)


def test_the_policy_matrix_button_follows_the_lists_filters(client, registry):
    logged_in(client, SuperuserFactory())
    github = Connector.objects.get(connector_id="github")

    listed = client.get(f"{EXCHANGE}?connector__id__exact={github.pk}")
    response = client.get(f"{EXCHANGE}export/?connector__id__exact={github.pk}")

    assert listed.context["cl"].result_count == 2
    assert body(response).decode().splitlines() == [
        "connector_id\tscope\tfirearm_id\tstrategy_lock",
        "github\tadmin_write\tfirearm.external_write\tTRUE",
        "github\tread_public\tNONE\tFALSE",
    ]


def test_registry_pages_no_longer_offer_the_cross_app_sheets(client, registry):
    logged_in(client, SuperuserFactory())
    for model in ("connector", "scope", "engineroute"):
        page = f"/admin/registries/{model}/"
        assert ".tsv" not in client.get(page).content.decode(), page


def test_an_unknown_sheet_is_404(client):
    logged_in(client, SuperuserFactory())
    assert client.get(f"{EXCHANGE}download/secrets/").status_code == 404


def test_coverage_command_reports_missing_dependencies_beside_the_file(registry):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_tsv", "coverage", stdout=out, stderr=err)

    assert out.getvalue().encode() == expected("coverage")
    assert "/payments/*: missing dependency: entitlement store (declares billing.seats)" in err.getvalue()


def test_exports_of_an_empty_registry_are_just_the_header():
    for kind in KINDS:
        assert b"".join(EXPORTS[kind]().stream()) == expected(kind).split(b"\n")[0] + b"\n"


# -- access -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_api_needs_authentication(client, kind):
    response = client.get(f"/api/v1/exports/{kind}.tsv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("kind", KINDS)
def test_api_needs_the_view_permissions_even_when_asking_for_tsv(kind):
    client = token_client(UserFactory(perms=["registries.view_componentspec"]))
    response = client.get(f"/api/v1/exports/{kind}.tsv", HTTP_ACCEPT="text/tab-separated-values")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "permission_denied"


def test_api_answers_405_to_writes():
    client = token_client(_api_user("connectors"))
    response = client.post("/api/v1/exports/connectors.tsv", {})
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("kind", KINDS)
def test_admin_export_needs_the_export_permissions(client, kind):
    permissions = EXPORTS[kind].export_permissions
    logged_in(client, staff(permissions[:-1]))
    assert client.get(ADMIN[kind]).status_code == 403
    assert f"Export {kind}.tsv" not in client.get(EXCHANGE).content.decode()
    logged_in(client, staff(permissions))
    assert f"Export {kind}.tsv" in client.get(EXCHANGE).content.decode()
    assert client.get(ADMIN[kind]).status_code == 200


def test_the_exchange_page_is_closed_to_staff_who_may_use_no_sheet(client):
    logged_in(client, staff(["registries.view_scope"]))
    assert client.get(EXCHANGE).status_code == 403


# -- no tab or line break gets into a file ------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\rb", "a\u2028b", "a\x85b"])
def test_a_line_refuses_a_cell_with_a_tab_or_a_line_break(value):
    with pytest.raises(tsv.UnsafeCell):
        tsv.line(["ok", value])
    with pytest.raises(tsv.UnsafeCell):
        tsv.check_cell(value)


@pytest.mark.parametrize("value", ["bad\nvalue", "bad\tvalue", "bad\u2029value"])
def test_an_export_stops_at_a_row_with_a_tab_or_line_break_instead_of_writing_it(value):
    class Broken(TsvExportResource):
        kind = "broken"
        a = Field(attribute="a", column_name="a", widget=tsv.TextCell())
        b = Field(attribute="b", column_name="b", widget=tsv.TextCell())

        class Meta:
            fields = ("a", "b")

        def get_queryset(self):
            return None

        def source_rows(self, queryset):
            yield "fine", "row"
            yield value, "row"

    stream = Broken().stream()
    assert next(stream) == b"a\tb\n"
    with pytest.raises(tsv.UnsafeCell):
        list(stream)
    with pytest.raises(tsv.UnsafeCell):
        tsv.TsvFormat().export_data(Broken().export())


@pytest.mark.parametrize(
    "make",
    [
        # A valid owner: only the tab is wrong.
        lambda: connector_row("bad\tid", "x"),
        lambda: EngineRoute.objects.create(pattern="/chat\n/*"),
        lambda: FirearmFactory(firearm_id="firearm.bad\tid"),
        lambda: Scope.objects.create(
            spec=Connector.objects.get(connector_id="github").latest_spec,
            connector=Connector.objects.get(connector_id="github"),
            name="bad\nscope",
        ),
    ],
    ids=["connector_id", "engine_route", "firearm_id", "scope"],
)
def test_the_database_refuses_identifiers_with_a_tab_or_a_line_break(registry, make):
    # Every exported value is an identifier checked by a constraint, or a value the export formats.
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.mark.parametrize(
    "kind, missing",
    [
        ("connectors", "policies.view_firearmbinding"),
        ("coverage", "registries.view_scope"),
        ("coverage", "policies.view_firearmbinding"),
    ],
)
def test_an_export_needs_view_permission_on_everything_it_reads(kind, missing):
    perms = [perm for perm in EXPORTS[kind].export_permissions if perm != missing]
    assert token_client(UserFactory(perms=perms)).get(f"/api/v1/exports/{kind}.tsv").status_code == 403
    assert (
        token_client(UserFactory(perms=perms + [missing])).get(f"/api/v1/exports/{kind}.tsv").status_code
        == 200
    )
