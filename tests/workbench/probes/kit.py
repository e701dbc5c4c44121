"""What the probe tests share: outcomes the runner's stand-in answers with (conftest.py), the served tools
of a well-behaved server, and a tenant editor."""

from tests.workbench.factories import MembershipFactory, StaffFactory, TenantFactory, draft_tool
from workbench.models import Membership

SERVED = [
    draft_tool("search_notes", read_only=True),
    draft_tool("create_note", destructive=False),
    draft_tool("delete_note", destructive=True),
]


def outcome(*, ok=True, tools=None, reason="", stderr_tail="", **extra):
    return {
        "ok": ok,
        "reason": reason,
        "server_name": "notes-server",
        "server_version": "1.2.3",
        "protocol_version": "2025-06-18",
        "tools": SERVED if tools is None else tools,
        "timing": {"total_ms": 12},
        "stderr_tail": stderr_tail,
        "isolated": True,
        **extra,
    }


def editor(tenant=None, role=Membership.Role.EDITOR, **kwargs):
    user = StaffFactory(**kwargs)
    MembershipFactory(tenant=tenant or TenantFactory(), user=user, role=role)
    return user
