"""Firearm bindings and KPI tool bindings from TSV, into drafts (PRODUCT.md sections 3, 6 and 10).

Bindings are live rows, written only by publish and environment loads: an edited sheet of them becomes
one draft per changed connector in the importer's tenant, exactly as an edited policy matrix does
(drafting.py: the same draft writer, the same comparison with the open draft, else live).

- `firearm-bindings`: `action_name` (`<connector_id>:<scope>`), `firearm_id` (a firearm, or NONE for
  the explicit decision "no firearm"). One row per scope; a row is a change when its firearm differs.
- `kpi-tool-bindings`: `action_name`, `kpi_id` (a KPI, or NONE for a scope that moves no KPI). One row
  per binding. The rows of a scope are its whole KPI list: a KPI the scope has (in the open draft, else
  live) and the file leaves out is removed from the draft, and the preview says so; a scope the file
  does not name keeps its KPIs. NONE is a scope's only row.

An action naming a registry tool (`domain.method`) is refused: a tool is no connector's scope, so its
bindings have no draft; they change through the environment fixtures.
"""

import re

from django.core.exceptions import ValidationError
from import_export.fields import Field

from policies.models import KpiDefinition, KpiToolBinding
from registries.models import Scope
from workbench.kit import identifiers as ids
from workbench.kit.exchange import tsv

from .drafting import DraftImportResource, FirearmDecisionImport, draft_policy

_SCOPE_ACTION = re.compile(ids.SCOPE_ACTION)
_TOOL_NAME = re.compile(ids.TOOL_NAME)


def action_scope(row):
    """(connector_id, scope) of the row's action_name, ("", "") when it names no connector scope."""
    text = str(row.get("action_name") or "").strip()
    if not _SCOPE_ACTION.match(text):
        return "", ""
    connector_id, scope = text.split(":", 1)
    return connector_id, scope


def check_action(row):
    """A ValidationError on action_name unless the row names a connector scope `<connector_id>:<scope>`."""
    text = str(row.get("action_name") or "").strip()
    if _SCOPE_ACTION.match(text):
        return
    if not text:
        message = "Empty: write the action '<connector_id>:<scope>'."
    elif _TOOL_NAME.match(text):
        message = (
            f"{text!r} is a registry tool, not a connector scope: its bindings belong to no connector's "
            "draft and change through the environment fixtures."
        )
    else:
        message = f"{text!r} is not an action '<connector_id>:<scope>'."
    raise ValidationError({"action_name": message})


def action_field():
    return Field(attribute="action_name", column_name="action_name", widget=tsv.TextCell(), readonly=True)


class BindingRows:
    """What the two binding sheets share: rows name their scope by action_name, errors land on it."""

    connector_column = "action_name"
    scope_column = "action_name"

    def scope_key(self, row):
        return action_scope(row)


class FirearmBindingResource(BindingRows, FirearmDecisionImport):
    kind = "firearm-bindings"
    import_permissions = ("policies.view_firearmbinding", "workbench.add_workbenchdraft")
    required_columns = ("action_name", "firearm_id")

    action_name = action_field()
    firearm_id = Field(attribute="firearm_decision", column_name="firearm_id", widget=tsv.FirearmCell())

    class Meta:
        model = Scope  # a row's instance is the live scope it decides; nothing of it is saved
        fields = ("action_name", "firearm_id")
        import_id_fields = ("action_name",)

    def get_instance(self, instance_loader, row):
        check_action(row)
        return super().get_instance(instance_loader, row)


class KpiToolBindingResource(BindingRows, DraftImportResource):
    kind = "kpi-tool-bindings"
    import_permissions = ("policies.view_kpitoolbinding", "workbench.add_workbenchdraft")
    required_columns = ("action_name", "kpi_id")
    change_noun = ("KPI list", "KPI lists")

    action_name = action_field()
    kpi_id = Field(attribute="kpi_choice", column_name="kpi_id", widget=tsv.KpiCell())

    class Meta:
        model = KpiToolBinding  # a row's instance stands for one binding; nothing of it is saved
        fields = ("action_name", "kpi_id")
        import_id_fields = ("action_name", "kpi_id")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._kpis = None
        self._listed = {}  # (connector_id, scope) -> {kpi id or None: line}
        self._scopes = {}  # (connector_id, scope) -> the live scope, with `kpi_baseline`
        self._new_row_scope = None

    def known_kpis(self):
        if self._kpis is None:
            self._kpis = set(KpiDefinition.objects.values_list("kpi_id", flat=True))
        return self._kpis

    def prepare_scopes(self, scopes):
        """Each scope's KPIs as its rows are compared with: the open draft's list when the draft has the
        scope, else the live bindings (one query per chunk of connectors)."""
        live = {}
        actions = [scope.action_name for scope in scopes]
        bindings = KpiToolBinding.objects.filter(action_name__in=actions)
        for action_name, kpi_id in bindings.values_list("action_name", "kpi__kpi_id"):
            live.setdefault(action_name, set()).add(kpi_id)
        for scope in scopes:
            if scope.in_draft:
                _, kpis = draft_policy(scope.draft)
                listed = kpis.get(scope.name)
                listed = listed if isinstance(listed, list) else []
                scope.kpi_baseline = {kpi for kpi in listed if isinstance(kpi, str)}
            else:
                scope.kpi_baseline = live.get(scope.action_name, set())

    def get_instance(self, instance_loader, row):
        check_action(row)
        self._refuse_repeats(row)
        scope = self.live_scope(instance_loader, row)
        try:
            kpi = self.fields["kpi_id"].clean(row)
        except ValueError as exc:
            raise ValidationError({"kpi_id": str(exc)}) from None
        key = (scope.connector_id_text, scope.name)
        listed = self._listed.setdefault(key, {})
        others = [line for other, line in listed.items() if (other is None) != (kpi is None)]
        if others:
            raise ValidationError({"kpi_id": (
                f"{scope.action_name} has NONE and KPIs (line {others[0]} and this one): a scope's rows "
                "are its KPIs, or one row NONE for no KPI."
            )})
        listed[kpi] = self._row_number + 1
        self._scopes[key] = scope
        baseline = scope.kpi_baseline
        if kpi in baseline or (kpi is None and not baseline):
            return self._binding(scope, kpi)  # the row says what the scope already has: unchanged
        if kpi is None:
            return self._binding(scope, " ".join(sorted(baseline)))  # NONE removes these: an update
        self._new_row_scope = scope
        return None

    def _binding(self, scope, kpi_choice):
        binding = KpiToolBinding(action_name=scope.action_name)
        binding.connector_id_text = scope.connector_id_text
        binding.kpi_choice = kpi_choice
        return binding

    def init_instance(self, row=None):
        return self._binding(self._new_row_scope, None)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        kpi = instance.kpi_choice
        if kpi is not None and kpi not in self.known_kpis():
            raise ValidationError({"kpi_choice": f"No KPI {kpi!r}."})

    def save_instance(self, instance, is_create, row, **kwargs):
        # Nothing is saved row by row: a scope's whole list is compared after the last row.
        pass

    def after_import(self, dataset, result, **kwargs):
        if not (result.has_errors() or result.has_validation_errors()):
            for (connector_id, name), listed in sorted(self._listed.items()):
                scope = self._scopes[(connector_id, name)]
                wanted = {kpi for kpi in listed if kpi is not None}
                if wanted == scope.kpi_baseline:
                    continue
                self.kpis.setdefault(connector_id, {})[name] = sorted(wanted)
                removed = sorted(scope.kpi_baseline - wanted)
                if removed:
                    self.notes.append(
                        f"{scope.action_name} no longer moves {', '.join(removed)} (not in the file)"
                    )
        super().after_import(dataset, result, **kwargs)
