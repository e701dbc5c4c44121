import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from registries.models import ComponentSpec, Connector, Scope
from tests.registries.factories import ComponentSpecFactory, ConnectorFactory, ScopeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["Bad Id", "x", "1github", "git_hub", "a" * 64])
def test_connector_id_format_refused_by_validation_and_database(bad):
    with pytest.raises(ValidationError) as err:
        Connector(connector_id=bad, name="x").full_clean()
    assert "connector_id" in err.value.message_dict
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Connector.objects.create(connector_id=bad, name="x")


def test_duplicate_spec_version_refused_with_clear_message():
    ComponentSpecFactory(spec_id="atom-a", version="1.0.0")
    with pytest.raises(ValidationError) as err:
        ComponentSpec(spec_id="atom-a", version="1.0.0", kind="atom").full_clean()
    assert "already published" in str(err.value)


def test_published_spec_never_changes_or_goes_away():
    spec = ComponentSpecFactory(name="One")
    spec.name = "Two"
    with pytest.raises(ValidationError):
        spec.save()
    with pytest.raises(ValidationError):
        spec.delete()
    with pytest.raises(ValidationError):
        ComponentSpec.objects.filter(pk=spec.pk).delete()
    with pytest.raises(ValidationError):
        ComponentSpec.objects.filter(pk=spec.pk).update(schema={"x": 1})
    assert ComponentSpec.objects.get(pk=spec.pk).name == "One"


def test_spec_can_be_deprecated():
    spec = ComponentSpecFactory()
    ComponentSpec.objects.filter(pk=spec.pk).update(deprecation_message="use 2.0.0")
    spec.refresh_from_db()
    spec.deprecation_message = "use 2.1.0"
    spec.save()
    assert ComponentSpec.objects.get(pk=spec.pk).deprecation_message == "use 2.1.0"


def test_versions_sort_as_semver():
    for version in ["1.9.0", "1.10.0", "1.2.0"]:
        ComponentSpecFactory(spec_id="atom-b", version=version)
    assert [s.version for s in ComponentSpec.objects.filter(spec_id="atom-b")] == ["1.10.0", "1.9.0", "1.2.0"]


def test_scope_natural_key_round_trip():
    scope = ScopeFactory(name="read_public")
    key = scope.natural_key()
    assert key == (scope.connector.connector_id, "1.0.0", "read_public")
    assert Scope.objects.get_by_natural_key(*key) == scope


def test_scope_duplicate_name_in_version_refused():
    scope = ScopeFactory(name="admin_write")
    dup = Scope(spec=scope.spec, connector=scope.connector, name="admin_write", tools=[])
    with pytest.raises(ValidationError) as err:
        dup.full_clean()
    assert "already has a scope" in str(err.value)


def test_connector_latest_spec_must_match_id():
    connector = ConnectorFactory(connector_id="github")
    other = ConnectorFactory(connector_id="gitlab")
    connector.latest_spec = other.latest_spec
    with pytest.raises(ValidationError) as err:
        connector.full_clean()
    assert "latest_spec" in err.value.message_dict
