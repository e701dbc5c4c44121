"""The API docs pages under the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY).

Swagger UI: drf-spectacular's split view serves the page's start-up script as its own URL instead of an
inline <script> (templates/drf_spectacular/swagger_ui.html drops the inline <style> too), so the page
runs under script-src 'self' and style-src 'self' unchanged.

Redoc renders its styles with styled-components, which writes <style> elements at run time and offers
no nonce for a prebuilt bundle: its page alone adds 'unsafe-inline' to style-src (styles only; scripts
stay 'self') and blob: workers (its search runs in a worker built from a blob). The page shows nothing
but this API's own schema.
"""

from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

# The docs pages are a static shell anyone may open; the schema they fetch needs a signed-in user (admin
# session or token), like every endpoint.
swagger_view = SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny])
redoc_view = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema", permission_classes=[AllowAny])
)
