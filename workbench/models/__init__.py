from .drafts import WorkbenchDraft
from .tenants import Membership, Tenant

__all__ = ["Membership", "Tenant", "WorkbenchDraft"]
