from workbench.tenancy.models import Membership, Tenant

from .drafts import WorkbenchDraft
from .exchange import TsvExchange
from .snapshots import DraftSnapshot

__all__ = ["DraftSnapshot", "Membership", "Tenant", "TsvExchange", "WorkbenchDraft"]
