"""Tool name -> handler: `domain.method` -> module `domain`, function `method`; `a.b.c` -> module `a`,
function `b_c`, searched in settings.WORKBENCH_TOOL_HANDLER_PACKAGES in order."""

import importlib
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Handler:
    path: str  # dotted path of the function, or of where it would be when not configured
    function: object = None

    @property
    def configured(self):
        return self.function is not None

    @property
    def status(self):
        return "real" if self.configured else "not_configured"


def handler_parts(tool_name):
    domain, *rest = tool_name.split(".")
    return domain, "_".join(rest)


def _import(module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # Only "this module does not exist" means not configured; a broken import inside a handler
        # module must surface, not hide as not_configured.
        if error.name and (module_name == error.name or module_name.startswith(f"{error.name}.")):
            return None
        raise


def resolve_handler(tool_name):
    """The handler for a tool, or a not-configured Handler naming where it was expected."""
    domain, function_name = handler_parts(tool_name)
    packages = list(settings.WORKBENCH_TOOL_HANDLER_PACKAGES)
    for package in packages:
        module = _import(f"{package}.{domain}")
        function = getattr(module, function_name, None) if module is not None else None
        # Only functions defined in the handler module count: `leads.iso` must not reach a helper it imports.
        if callable(function) and getattr(function, "__module__", None) == module.__name__:
            return Handler(f"{package}.{domain}.{function_name}", function)
    first = packages[0] if packages else "<no handler package configured>"
    return Handler(f"{first}.{domain}.{function_name}")
