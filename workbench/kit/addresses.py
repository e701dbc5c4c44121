"""Who the client is, by address: the one rule the login throttle (django-axes), the API's rate limits
for anonymous callers (DRF's `NUM_PROXIES`) and the audit trail share.

Without proxies (`WORKBENCH_NUM_PROXIES` 0) the client is the peer the server sees (REMOTE_ADDR) and
X-Forwarded-For is not read: a client could send any address in it. Behind N trusted reverse proxies the
client is the address the outermost of them saw: the N-th entry from the right of X-Forwarded-For (each
proxy appends the address it saw), as DRF counts it; entries further left were written by the client."""

import ipaddress

from django.conf import settings


def client_address(request):
    """The client's address as text, or None when there is no valid one."""
    meta = getattr(request, "META", None) or {}
    value = meta.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "WORKBENCH_NUM_PROXIES", 0)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = str(forwarded).split(",")
        value = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None
