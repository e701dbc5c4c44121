from .specs import component_spec_deprecate

__all__ = ["component_spec_deprecate"]
