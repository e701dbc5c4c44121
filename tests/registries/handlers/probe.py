"""`probe.*` tools: each effect is a Task row, so "the handler ran N times" is counted in the database."""

import time

from django.db import connection

from registries.models import Task
from registries.services.gateway import ToolError


def _task(input, context):
    return Task.objects.create(title=str(input.get("title", "probe")), call_id=context.call_id)


def touch(input, *, context):
    """Write one Task; optionally hold the call open for `hold` seconds (widens race windows)."""
    task = _task(input, context)
    if input.get("hold"):
        time.sleep(input["hold"])
    return {"task_id": task.pk, "title": task.title}


def slow_write(input, *, context):
    """Write, then overrun in Python: only the wall-clock check can catch it."""
    _task(input, context)
    time.sleep(input["seconds"])
    return {"done": True}


def slow_query(input, *, context):
    """Write, then run one statement longer than any test timeout: the database must stop it."""
    _task(input, context)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(%s)", [input["seconds"]])
        else:
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
                "SELECT count(*) FROM n"
            )
    return {"done": True}


def bad_output(input, *, context):
    _task(input, context)
    return {"count": "three"}


def refuse(input, *, context):
    _task(input, context)
    raise ToolError(409, "already_exists", "Refused by the probe.")


def crash(input, *, context):
    _task(input, context)
    raise RuntimeError("probe crashed")


def deep_call(input, *, context):
    """Reached by the three-part name `probe.deep.call`."""
    return {"reached": "deep_call"}
