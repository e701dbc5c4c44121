"""Recording security events: `audit_record`, called inside the transaction of the change it records, so
the event commits or rolls back with that change."""

import json
import math

from django.db import transaction
from simple_history.models import HistoricalRecords

from workbench.kit.addresses import client_address
from workbench.models.audit import (
    DETAIL_LIMIT,
    SUBJECT_LIMIT,
    USER_AGENT_LIMIT,
    USERNAME_LIMIT,
    SecurityEvent,
)

Kind = SecurityEvent.Kind
#: How deep a detail is kept; deeper values are kept as their text.
DETAIL_DEPTH = 6


def audit_record(*, kind, actor=None, subject="", tenant=None, request=None, detail=None):
    """Write one security event in the current transaction and return it.

    `actor` is the user who acted (None, an anonymous user or the system: nobody by name); `subject` the
    user, group, token or row concerned, as text; `tenant` the tenant whose members may read the event
    (a Tenant or its id; none: auditors and platform staff only); `request` gives the IP address and the
    User-Agent (when not passed: the request being served, as simple-history's middleware holds it);
    `detail` a small JSON object. Text a client chose (a failed login's username, the User-Agent) is kept
    printable and cut to its column, and a detail over its cap is replaced by a note saying so, so
    recording never fails on hostile input.
    """
    if kind not in Kind.values:
        raise ValueError(f"{kind!r} is not a security event kind ({', '.join(Kind.values)}).")
    if request is None:
        request = getattr(HistoricalRecords.context, "request", None)
    person = actor if _is_person(actor) else None
    with transaction.atomic():
        return SecurityEvent.objects.create(
            kind=kind,
            actor=person,
            actor_username=_text(_username(actor), USERNAME_LIMIT),
            subject=_text(subject, SUBJECT_LIMIT),
            tenant_id=getattr(tenant, "pk", tenant),
            ip=client_ip(request),
            user_agent=_text(_meta(request).get("HTTP_USER_AGENT", ""), USER_AGENT_LIMIT),
            detail=bounded_detail(detail),
        )


def client_ip(request):
    """The client's address as the login throttle counts it (`workbench.kit.addresses`: the peer, or
    behind WORKBENCH_NUM_PROXIES proxies the address the outermost saw); None when there is no valid one."""
    return client_address(request)


def _meta(request):
    # Imports run from a command stand in a bare namespace with only a user for the request.
    return getattr(request, "META", None) or {}


def _is_person(user):
    # The system actor (environment loads) and anonymous users are nobody by name: no foreign key.
    return getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None


def _username(actor):
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    getter = getattr(actor, "get_username", None)
    return getter() if getter else str(actor)


def _text(value, limit):
    """`value` as one printable line of at most `limit` characters: control characters, NUL and unpaired
    surrogates (which no database column takes) become U+FFFD."""
    text = str(value if value is not None else "")
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ("\ufffd" if not c.isspace() else " ") for c in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def bounded_detail(detail):
    """`detail` as JSON every database stores, and at most DETAIL_LIMIT characters of it."""
    if detail is None:
        return {}
    clean = _json_value(detail if isinstance(detail, dict) else {"value": detail}, 0)
    size = len(json.dumps(clean, separators=(",", ":"), ensure_ascii=False))
    if size <= DETAIL_LIMIT:
        return clean
    keys = [_text(key, 100) for key in list(clean)[:20]]
    return {"truncated": True, "size": size, "keys": keys}


def _json_value(value, depth):
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= DETAIL_DEPTH:
        return _text(value, 200)
    if isinstance(value, dict):
        return {_text(key, 200): _json_value(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_value(item, depth + 1) for item in items]
    return _text(value, 2000)
