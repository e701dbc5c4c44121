"""Everything under /api/v1/: one router; each app lists its endpoints in `<app>/api/routes.py`.

A routes module exposes ROUTES = [(prefix, viewset, basename), ...]; adding an endpoint is one line
there (and a new app's routes module is one line in ROUTE_MODULES). It may also expose PATHS, plain
Django paths for URLs the router cannot spell (a file name such as exports/connectors.tsv, which has no
trailing slash).
"""

from importlib import import_module

from rest_framework.routers import DefaultRouter

ROUTE_MODULES = (
    "registries.api.routes",
    "policies.api.routes",
    "workbench.api.routes",
)

router = DefaultRouter()
router.include_format_suffixes = False
paths = []

for module_name in ROUTE_MODULES:
    routes_module = import_module(module_name)
    for prefix, viewset, basename in routes_module.ROUTES:
        router.register(prefix, viewset, basename=basename)
    paths.extend(getattr(routes_module, "PATHS", []))

urlpatterns = [*paths, *router.urls]
