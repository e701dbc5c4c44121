"""Everything under /api/v1/: one router; each app lists its endpoints in `<app>/api/routes.py`.

A routes module exposes ROUTES = [(prefix, viewset, basename), ...]; adding an endpoint is one line
there (and a new app's routes module is one line in ROUTE_MODULES).
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

for module_name in ROUTE_MODULES:
    for prefix, viewset, basename in import_module(module_name).ROUTES:
        router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
