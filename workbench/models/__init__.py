from workbench.tenancy.models import Membership, Tenant

from .drafts import WorkbenchDraft
from .exchange import TsvExchange

__all__ = ["Membership", "Tenant", "TsvExchange", "WorkbenchDraft"]
