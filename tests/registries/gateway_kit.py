"""What the gateway and tool registry tests share: the seed registry loaded or written to a file, probe
tools, callers, and threads."""

import json
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection

from registries.services.tool_registry import tool_registry_import
from tests.registries.factories import ToolDefinitionFactory, ensure_seed_permissions, tool_input_schema
from tests.workbench.factories import UserFactory, platform_staff
from workbench.kit.access import SYSTEM

SEED_REGISTRY = Path(settings.BASE_DIR) / "seeds" / "tools.registry.json"
PROBE_PACKAGES = ["registries.handlers", "tests.registries.handlers"]


def seed_document():
    return json.loads(SEED_REGISTRY.read_text(encoding="utf-8"))


def write_registry(tmp_path, document, name="tools.registry.json"):
    """`document` written as a registry file under `tmp_path`."""
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load_seed_registry():
    ensure_seed_permissions()
    return tool_registry_import(document=seed_document(), user=SYSTEM, source="seeds/tools.registry.json")


def probe_tool(
    name="probe.touch",
    *,
    mode="none",
    key_field="",
    timeout_ms=5000,
    output_schema=None,
    input_schema=None,
    **extra,
):
    """A probe tool (tests.registries.handlers.probe) with a permissive input schema."""
    properties = {
        "title": {"type": "string"},
        "hold": {"type": "number"},
        "seconds": {"type": "number"},
        "key": {"type": "string"},
        "when": {"type": "string", "format": "date-time"},
    }
    schema = input_schema or tool_input_schema(**properties)
    if key_field:
        schema["required"] = [key_field]
    return ToolDefinitionFactory(
        name=name,
        idempotency_mode=mode,
        idempotency_key_field=key_field,
        timeout_ms=timeout_ms,
        input_schema=schema,
        output_schema=output_schema or {},
        **extra,
    )


def invoker_with_perm(**kwargs):
    return UserFactory(perms=["registries.invoke_tooldefinition", "registries.view_tooldefinition"], **kwargs)


def lock_keeper(**kwargs):
    """Platform staff who engage and release strategy locks (platform rows: the change permission alone,
    held by a tool's caller, is not enough)."""
    return platform_staff(["policies.change_strategylock"], auditor=False, **kwargs)


def run_in_threads(count, work):
    """Run work(index) in `count` threads released together; returns each result or exception, in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects what each caller got
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def invoke(user, name="probe.touch", input=None, call_id="call-1", **kwargs):
    """tool_invoke with the probe defaults the gateway tests share."""
    from registries.services.gateway import tool_invoke

    return tool_invoke(
        tool_name=name, call_id=call_id, input={"title": "t"} if input is None else input, user=user, **kwargs
    )


def refused(user, *args, **kwargs):
    """The Refusal a refused invoke raises."""
    import pytest

    from workbench.kit.refusals import Refusal

    with pytest.raises(Refusal) as error:
        invoke(user, *args, **kwargs)
    return error.value
