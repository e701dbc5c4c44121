from .specs import component_spec_deprecate, connector_transfer

__all__ = ["component_spec_deprecate", "connector_transfer"]
