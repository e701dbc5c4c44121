from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from registries.api import mcp_registry
from workbench.api import docs
from workbench.kit.api.errors import not_found

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("workbench.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs pages, under the Content-Security-Policy (workbench/api/docs.py).
    path("api/docs/", docs.swagger_view, name="api-docs"),
    path("api/redoc/", docs.redoc_view, name="api-redoc"),
    # The MCP Registry read API (openapi.yaml's paths, names with their '/' decoded); any other /v0/ URL
    # is the registry's JSON 404 (POST /v0/publish too: publishing goes through drafts).
    re_path(r"^v0/servers$", mcp_registry.ServerListView.as_view(), name="mcp-registry-servers"),
    re_path(
        r"^v0/servers/(?P<serverName>.+)/versions$",
        mcp_registry.ServerVersionsView.as_view(),
        name="mcp-registry-versions",
    ),
    re_path(
        r"^v0/servers/(?P<serverName>.+)/versions/(?P<version>[^/]+)$",
        mcp_registry.ServerVersionView.as_view(),
        name="mcp-registry-version",
    ),
    re_path(r"^v0/", csrf_exempt(mcp_registry.not_found)),
    # Any other URL under /api/ is a problem+json 404, in debug too, whatever the method (csrf_exempt:
    # a DELETE to an id the router does not match is a 404, not the CSRF middleware's HTML 403).
    re_path(r"^api/", csrf_exempt(not_found)),
]

handler404 = "workbench.kit.api.errors.handler404"
handler500 = "workbench.kit.api.errors.handler500"
