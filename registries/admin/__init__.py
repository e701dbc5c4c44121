from . import routing, specs, tools  # noqa: F401
