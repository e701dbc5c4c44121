from workbench.tenancy.models import Membership, Tenant

from .drafts import DraftSnapshot, WorkbenchDraft
from .exchange import TsvExchange

__all__ = ["DraftSnapshot", "Membership", "Tenant", "TsvExchange", "WorkbenchDraft"]
