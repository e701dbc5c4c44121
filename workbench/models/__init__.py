from workbench.tenancy.models import Membership, Tenant

from .audit import SecurityEvent
from .drafts import WorkbenchDraft
from .exchange import TsvExchange
from .probes import Probe
from .rate_limits import RateCounter
from .snapshots import DraftSnapshot

__all__ = [
    "DraftSnapshot",
    "Membership",
    "Probe",
    "RateCounter",
    "SecurityEvent",
    "Tenant",
    "TsvExchange",
    "WorkbenchDraft",
]
