"""Tasks: `os.create_task` (mode none: every call is a new task) and `os.list_tasks` (a read)."""

from registries.models import Task

from ._kit import input_datetime, iso


def _task(task):
    return {
        "task_id": task.pk,
        "title": task.title,
        "notes": task.notes,
        "due_at": iso(task.due_at),
        "status": task.status,
        "created_at": iso(task.created_at),
    }


def create_task(input, *, context):
    due_at = input_datetime(input, "due_at")
    task = Task(
        title=input["title"],
        notes=input.get("notes", ""),
        due_at=due_at,
        call_id=context.call_id,
        tenant=context.tenant,
    )
    task.full_clean()
    task.save()
    return _task(task)


def list_tasks(input, *, context):
    tasks = Task.objects.filter(tenant=context.tenant)
    if input.get("status"):
        tasks = tasks.filter(status=input["status"])
    limit = input.get("limit", 50)
    rows = [_task(task) for task in tasks[:limit]]
    return {"tasks": rows, "count": len(rows)}
