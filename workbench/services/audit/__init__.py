"""The audit trail of security events: `audit_record` writes one in the caller's transaction; the
receivers record sign-ins, lockouts, API tokens, group, permission, membership and role changes and
platform-scope writes as they happen; `purge_security_events` keeps the table to its retention."""

from .purge import purge_security_events
from .receivers import record_platform_write
from .recording import Kind, audit_record, client_ip

__all__ = ["Kind", "audit_record", "client_ip", "purge_security_events", "record_platform_write"]
