"""Policy matrix: one row per scope of each connector's latest published version (PRODUCT.md section 6).

Export: connector_id, scope, firearm_id (the firearm a FirearmBinding puts on `<connector_id>:<scope>`,
or NONE), strategy_lock (TRUE when a strategy lock *policy* covers the scope's action, its connector
or its firearm, engaged right now or not: the matrix says what policy applies to a scope, like the
firearm column, not today's operational state, which the admin and the dashboard show).

Import (the Google Sheets round trip): an edited matrix never touches the live registry; it becomes one
draft per changed connector in the importer's tenant (drafting.py says how, for every import into
drafts). A row is a change when its firearm_id differs from what it would change (the open draft's
decision, else the live one). A row naming a scope that is not in the latest published version, an
unknown firearm, or a strategy_lock cell that differs from the live value (it is derived from the lock
policies and cannot be imported) is an error.
"""

from import_export.fields import Field

from registries.models import Scope
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import CHUNK_ROWS, TsvExport
from workbench.selectors.policy_matrix import LockCover, latest_scopes_with_firearms

from .drafting import FirearmDecisionImport


class PolicyMatrixResource(TsvExport, FirearmDecisionImport):
    kind = "policy-matrix"
    export_permissions = (
        "registries.view_scope", "policies.view_firearmbinding", "policies.view_strategylock",
    )
    import_permissions = ("registries.view_scope", "workbench.add_workbenchdraft")
    required_columns = ("connector_id", "scope", "firearm_id")
    scope_column = "name"

    connector_id = Field(
        attribute="connector__connector_id", column_name="connector_id", widget=tsv.TextCell(), readonly=True
    )
    scope = Field(attribute="name", column_name="scope", widget=tsv.TextCell(), readonly=True)
    firearm_id = Field(attribute="firearm_decision", column_name="firearm_id", widget=tsv.FirearmCell())
    strategy_lock = Field(
        attribute="strategy_lock", column_name="strategy_lock", widget=tsv.BoolCell(), readonly=True
    )

    class Meta:
        model = Scope
        fields = ("connector_id", "scope", "firearm_id", "strategy_lock")
        import_id_fields = ("connector_id", "scope")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock_cover = None

    # -- export -----------------------------------------------------------------------------------

    def get_queryset(self):
        return latest_scopes_with_firearms()

    def source_rows(self, queryset):
        covers = LockCover().covers
        rows = queryset.values_list("connector__connector_id", "name", "bound_firearm_id")
        for connector_id, scope, firearm_id in rows.iterator(chunk_size=CHUNK_ROWS):
            yield connector_id, scope, firearm_id, covers(connector_id, scope, firearm_id)

    # -- import -----------------------------------------------------------------------------------

    @property
    def lock_cover(self):
        if self._lock_cover is None:
            self._lock_cover = LockCover()
        return self._lock_cover

    def prepare_scopes(self, scopes):
        super().prepare_scopes(scopes)
        covers = self.lock_cover.covers
        for scope in scopes:
            scope.strategy_lock = covers(scope.connector_id_text, scope.name, scope.bound_firearm_id)

    def row_label(self, row):
        return f"{row.get('connector_id', '')}:{row.get('scope', '')}"

    def row_problems(self, instance, row):
        if "strategy_lock" not in row:
            return {}
        live_lock = instance.strategy_lock
        try:
            wanted = self.fields["strategy_lock"].clean(row)
        except ValueError as exc:
            return {"strategy_lock": [str(exc)]}
        if wanted == live_lock:
            return {}
        return {
            "strategy_lock": [
                f"strategy_lock is derived from the strategy lock policies and is "
                f"{tsv.TRUE if live_lock else tsv.FALSE} for this scope; it cannot be imported. "
                "Change the lock in the admin (or export the matrix again)."
            ]
        }
