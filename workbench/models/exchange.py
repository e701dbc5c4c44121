"""The admin's TSV exchange page lists the policy matrix's rows: the scopes of each connector's latest
published version. A proxy, so the page and its import flow have a model to hang on; no table."""

from registries.models import Scope


class TsvExchange(Scope):
    class Meta:
        proxy = True
        verbose_name = "TSV exchange"
        verbose_name_plural = "TSV exchange"
