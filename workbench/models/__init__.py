from .tenants import Membership, Tenant

__all__ = ["Membership", "Tenant"]
