"""Issue 11's caps: free text is capped by the model (so the admin, the API, TSV imports and fixtures
refuse the same text), uploads by bytes while they stream and by rows while they are parsed, and JSON
typed into the admin goes through the API's loader. Each refusal names its limit and writes nothing."""

import io
import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from policies.models import Firearm, FirearmGrant
from registries.models import ToolDefinition
from tests.admin_helpers import logged_in, rendered_form_data
from tests.policies.factories import FirearmFactory
from tests.registries.gateway_kit import load_seed_registry, seed_document
from tests.workbench.exchange_kit import GRANT_HEADER, make_importer, table
from tests.workbench.factories import MembershipFactory, SuperuserFactory, TenantFactory, UserFactory
from tests.workbench.hostile.corpus import deep_array, fingerprint
from workbench.exchange import IMPORTS
from workbench.kit.exchange.importing import run_import
from workbench.kit.models import free_text
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db

FREE_TEXT = sorted(
    (model._meta.label, field.name, field.max_length)
    for model in apps.get_models()
    if model._meta.app_label in ("workbench", "registries", "policies")
    and not model.__name__.startswith("Historical")
    for field in model._meta.concrete_fields
    if field.get_internal_type() == "TextField"
)


def test_every_free_text_field_of_the_product_has_a_cap():
    assert FREE_TEXT, "no TextField found"
    uncapped = [(label, name) for label, name, limit in FREE_TEXT if not limit]
    assert uncapped == []
    assert ("policies.Firearm", "description", 5000) in FREE_TEXT
    assert ("policies.FirearmGrant", "reason", 2000) in FREE_TEXT


@pytest.mark.parametrize(("label", "name", "limit"), FREE_TEXT, ids=lambda v: str(v))
def test_the_model_refuses_one_character_over_the_cap(label, name, limit):
    field = apps.get_model(label)._meta.get_field(name)
    field.clean("x" * limit, None)
    with pytest.raises(ValidationError) as refused:
        field.clean("x" * (limit + 1), None)
    assert refused.value.error_list[0].code == "max_length" and str(limit) in refused.value.messages[0]


def test_free_text_carries_its_cap_to_the_admin_textarea():
    widget = free_text(2000).formfield().widget
    assert widget.attrs["maxlength"] == "2000"


def test_the_admin_refuses_a_long_description_on_its_field(client):
    logged_in(client, SuperuserFactory())
    firearm = FirearmFactory()
    url = reverse("admin:policies_firearm_change", args=[firearm.pk])
    data = rendered_form_data(client.get(url))
    data["description"] = "x" * 5001
    response = client.post(url, data)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["description"]
    assert Firearm.objects.get(pk=firearm.pk).description == firearm.description


def test_a_tsv_import_refuses_a_long_reason_by_row_and_column():
    acme = TenantFactory(slug="acme")
    MembershipFactory(tenant=acme, user=UserFactory(username="alice"))
    FirearmFactory(firearm_id="firearm.external_write")
    sheet = table(GRANT_HEADER, ["", "firearm.external_write", "acme", "user", "alice", "x" * 2001, ""])
    report = run_import(IMPORTS["firearm-grants"](user=make_importer()), sheet, dry_run=False)
    lines = list(report.error_lines())
    assert lines == ["line 2, column reason: Ensure this value has at most 2000 characters (it has 2001)."]
    assert not FirearmGrant.objects.exists()


def test_loading_a_fixture_refuses_a_long_description(tmp_path):
    from workbench.services.environments import environment_load

    fixture = tmp_path / "firearms.json"
    fields = {"firearm_id": "firearm.long", "name": "Long", "severity": "high", "description": "x" * 5001}
    fixture.write_text(json.dumps([{"model": "policies.firearm", "fields": fields}]))
    with pytest.raises(Refusal) as refused:
        environment_load(name=str(fixture))
    assert "description" in str(refused.value.errors) and "5000" in str(refused.value.errors)
    assert not Firearm.objects.exists()


# -- uploads: bytes while streaming, rows while parsing ---------------------------------------------------


def test_an_upload_over_the_cap_is_counted_while_streaming_and_never_stored(client, settings):
    settings.WORKBENCH_UPLOAD_MAX_BYTES = 1000
    logged_in(client, SuperuserFactory())
    from workbench.kit import uploads

    seen = []
    original = uploads.check_upload

    def spy(upload):
        seen.append((upload.size, upload.read()))
        upload.seek(0)
        return original(upload)

    uploads.check_upload, restore = spy, original
    try:
        response = client.post(
            reverse("admin:policies_firearm_import"),
            {"import_file": SimpleUploadedFile("big.tsv", b"x" * 5000), "format": "0", "resource": "0"},
        )
    finally:
        uploads.check_upload = restore
    assert response.context["form"].errors["import_file"] == [
        "The file is 5000 bytes; at most 1000 bytes are taken."
    ]
    assert seen == [(5000, b"")]  # the stand-in knows the size; none of the bytes were kept


@pytest.mark.parametrize("kind", ["registry", "mcp"])
def test_registry_and_mcp_uploads_are_capped_too(client, settings, kind):
    settings.WORKBENCH_UPLOAD_MAX_BYTES = 1000
    logged_in(client, SuperuserFactory())
    big = SimpleUploadedFile("x.json", b" " * 2000 + b"{}")
    if kind == "registry":
        response = client.post(reverse("admin:registries_tooldefinition_import"), {"file": big})
        errors = response.context["form"].errors["file"]
    else:
        tenant = TenantFactory()
        response = client.post(
            reverse("admin:workbench_workbenchdraft_import_mcp"),
            {"tenant": tenant.pk, "connector_id": "big", "version": "1.0.0", "tools_file": big},
        )
        errors = response.context["form"].errors["tools_file"]
    assert errors == ["The file is 2002 bytes; at most 1000 bytes are taken."]


def test_the_commands_refuse_a_file_over_the_cap_before_reading_it(tmp_path, settings):
    settings.WORKBENCH_UPLOAD_MAX_BYTES = 100
    make_importer()
    path = tmp_path / "big.tsv"
    path.write_bytes(b"firearm_id\tname\tseverity\n" + b"x\ty\thigh\n" * 50)
    with pytest.raises(CommandError, match=r"at most 100 bytes"):
        call_command("import_tsv", "firearms", str(path), "--user", "importer", stdout=io.StringIO())
    registry = tmp_path / "tools.registry.json"
    registry.write_text(json.dumps(seed_document()))
    with pytest.raises(CommandError, match=r"at most 100 bytes"):
        call_command("import_tool_registry", str(registry), stdout=io.StringIO())
    assert not Firearm.objects.exists() and not ToolDefinition.objects.exists()


def test_rows_over_the_cap_are_refused_with_the_limit(settings):
    settings.WORKBENCH_UPLOAD_MAX_ROWS = 3
    sheet = table(["firearm_id", "name", "severity"], *[[f"firearm.f{i}", "F", "high"] for i in range(4)])
    report = run_import(IMPORTS["firearms"](user=make_importer()), sheet, dry_run=True)
    assert report.file_errors == [
        "The file has 4 rows; at most 3 are taken (WORKBENCH_UPLOAD_MAX_ROWS): split it."
    ]


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\r"])
def test_a_control_character_in_a_tsv_cell_is_refused_naming_line_and_column(character):
    sheet = table(["firearm_id", "name", "severity"], ["firearm.a", f"A{character}B", "high"])
    report = run_import(IMPORTS["firearms"](user=make_importer()), sheet, dry_run=False)
    assert report.file_errors == [
        f"Not a table: line 2, column name: control character U+{ord(character):04X}."
    ]
    assert not Firearm.objects.exists()


# -- JSON typed into the admin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "object", "title": "a\\u0000b"}', "$.title: Text must not contain NUL"),
        ('{"type": "object", "title": "\\ud800"}', "$.title: Text must not contain unpaired"),
        (deep_array(10_000), "$: JSON nested deeper than 64 levels."),
        ('{"type": "object", "minimum": NaN}', "$: The value is not JSON: NaN is not a JSON number."),
    ],
    ids=["nul", "surrogate", "deep", "nan"],
)
def test_hostile_json_in_an_admin_textarea_is_a_form_error(client, text, message):
    logged_in(client, SuperuserFactory())
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.create")
    # Tools are read-only in the admin (the registry file is their source): "Try this tool" takes JSON.
    url = reverse("admin:registries_tooldefinition_try", args=[tool.pk])
    data = {"call_id": "hostile-1", "input": text}
    before = fingerprint()
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors["input"]
    assert any(error.startswith(message) for error in errors), errors
    assert fingerprint() == before


def test_a_nul_in_the_admin_search_is_400_not_a_database_error(client):
    logged_in(client, SuperuserFactory())
    response = client.get(reverse("admin:policies_firearm_changelist"), {"q": "a\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_an_admin_form_over_the_body_cap_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    logged_in(client, SuperuserFactory())
    response = client.post(reverse("admin:policies_firearm_add"), {"description": "x" * 2000})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.content.decode()


def test_a_refusal_can_say_413():
    assert Refusal(413, "upload_too_large", "too big").status == 413
