"""The API's rate limits (README "Production", rate limits): a DRF throttle counting each request per
token and per tenant, with separate rates for reads, writes and tool invokes.

- kind: `invoke` for the gateway's invoke endpoint (views mark it with `throttle_scope = "invoke"`),
  `read` for GET, HEAD and OPTIONS, `write` for every other method;
- whose: the API token presented (knox), else the signed-in user (admin session), else the client's
  address (anonymous readers of a public MCP registry);
- the tenant the request acts in: the `tenant` named in a JSON body or the query string when the caller
  is a member of it, else the caller's only tenant, else none (a request without a tenant counts per
  token only). The gateway resolves an invoke's tenant the same way.

Rates are settings (`WORKBENCH_RATE_READ`, ..., DRF's "N/period" syntax); a rate that is off counts
nothing. Counting is `workbench.services.rate_limits.rate_limit_hit`, whose 429 refusal the exception
handler answers as problem+json with Retry-After. DRF runs throttles in `initial()`, after
authentication and permissions and before the view: a refused request has no effect at all.
"""

import hashlib
import re

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from workbench.kit import identifiers as ids
from workbench.services.rate_limits import Bucket, rate_limit_hit
from workbench.tenancy.models import Membership

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
TENANT_SLUG = re.compile(ids.SLUG)


def request_kind(request, view):
    if getattr(view, "throttle_scope", None) == "invoke":
        return "invoke"
    return "read" if request.method in READ_METHODS else "write"


class WorkbenchRateThrottle(SimpleRateThrottle):
    """Per token and per tenant, by kind of request. Rates are read on each request (not at start-up),
    so a changed setting applies at once; counters live in the shared store, never in the process."""

    def __init__(self):
        # SimpleRateThrottle reads one rate here; this throttle picks two per request.
        pass

    def allow_request(self, request, view):
        kind = request_kind(request, view)
        token_rate = settings.WORKBENCH_RATES.get(kind)
        tenant_rate = settings.WORKBENCH_TENANT_RATES.get(kind)
        buckets = []
        if token_rate:
            limit, period = self.parse_rate(token_rate)
            buckets.append(Bucket(f"{kind}:{period}:{self.caller_key(request)}", limit, period, "token"))
        if tenant_rate:
            tenant_id = acting_tenant_id(request)
            if tenant_id is not None:
                limit, period = self.parse_rate(tenant_rate)
                buckets.append(Bucket(f"{kind}:{period}:tenant:{tenant_id}", limit, period, "tenant"))
        if buckets:
            rate_limit_hit(buckets=buckets)
        return True

    def caller_key(self, request):
        token = request.auth
        if token is not None and getattr(token, "pk", None) is not None:
            return f"token:{token.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        # The address as DRF sees it (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies),
        # hashed: it is the client's text, of any length.
        ident = self.get_ident(request) or ""
        return "ip:" + hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()[:32]


def acting_tenant_id(request):
    """The tenant a request acts in (module docstring), as an id; None for none."""
    user = request.user
    if not (user and user.is_authenticated):
        return None
    memberships = Membership.objects.filter(user=user)
    slug = named_tenant(request)
    if slug is not None:
        named = memberships.filter(tenant__slug=slug).values_list("tenant_id", flat=True).first()
        if named is not None:
            return named
    first_two = list(memberships.order_by("pk").values_list("tenant_id", flat=True)[:2])
    return first_two[0] if len(first_two) == 1 else None


def named_tenant(request):
    slug = None
    if request.method in BODY_METHODS and (request.content_type or "").startswith("application/json"):
        # The body as the view will read it (parsed once, kept on the request); a body that is no JSON is
        # the same 400 the view would answer, which the schema documents for these methods. A DELETE's
        # body is never read.
        data = request.data
        if isinstance(data, dict):
            slug = data.get("tenant")
    if slug is None:
        slug = request.query_params.get("tenant")
    # Only a name that can be a tenant's reaches the database (a NUL is PostgreSQL's error).
    if isinstance(slug, str) and TENANT_SLUG.fullmatch(slug):
        return slug
    return None
