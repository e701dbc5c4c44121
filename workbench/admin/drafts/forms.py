"""Forms of the draft card: the card fields, one row per scope (tools, firearm decision, KPIs), the
tools, portability and skills as JSON documents checked against the MCP contract, the declared
entitlements one per line, and the MCP import page."""

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple

from policies.models import Firearm, KpiDefinition
from workbench.contract import named, strings
from workbench.kit import identifiers as ids
from workbench.models import WorkbenchDraft
from workbench.models.drafts import stage_index, stage_moves

from .fields import EntitlementsField, SpecSectionJsonField, ToolsJsonField

NONE_DECISION = "__none__"
PACKAGING_FIELDS = ("registry_type", "identifier", "version", "bin", "transport")


def stage_choices(current):
    """The moves a draft at `current` may make, labelled: back to any earlier stage, stay, or the next."""
    here = stage_index(current)
    labels = {-1: "back", 0: "current", 1: "next"}
    return [
        (stage, f"{stage} ({labels[max(-1, stage_index(stage) - here)]})") for stage in stage_moves(current)
    ]


class CardForm(forms.Form):
    base_revision = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.CharField(
        max_length=32, help_text="Only upward (MAJOR.MINOR.PATCH).", validators=[ids.validate_semver]
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    stage = forms.ChoiceField(choices=WorkbenchDraft.Stage.choices)
    status = forms.ChoiceField(choices=[("draft", "draft"), ("abandoned", "abandoned")])
    registry_type = forms.ChoiceField(
        label="Package registry",
        required=False,
        choices=[
            ("", "---------"),
            ("npm", "npm"),
            ("pypi", "pypi"),
            ("oci", "oci"),
            ("nuget", "nuget"),
            ("mcpb", "mcpb"),
        ],
    )
    identifier = forms.CharField(label="Package", required=False, max_length=200)
    package_version = forms.CharField(
        label="Package version",
        required=False,
        max_length=64,
        help_text="An exact version: no ranges, not 'latest'.",
    )
    bin = forms.CharField(required=False, max_length=200)
    transport = forms.ChoiceField(
        required=False,
        choices=[
            ("", "---------"),
            ("stdio", "stdio"),
            ("streamable-http", "streamable-http"),
            ("sse", "sse"),
        ],
    )
    tools = ToolsJsonField(required=False, help_text="The tools/list tools as JSON (MCP Tool objects).")
    portability = SpecSectionJsonField(
        section="portability",
        empty={},
        required=False,
        help_text="A JSON object (declared entitlements have their own field).",
    )
    entitlements = EntitlementsField(
        label="Declared entitlements",
        required=False,
        help_text="Billing entitlements the connector needs, one per line. No entitlement store exists: "
        "validation and coverage report each as a missing dependency.",
    )
    skills = SpecSectionJsonField(
        section="skills",
        empty=[],
        required=False,
        help_text='Skills (walkthroughs) as a JSON array of {"spec_id": "<connector_id>.<name>", "name", '
        '"description", "markdown"}; published as curriculum specs at the connector\'s version.',
    )
    reason = forms.CharField(required=False, max_length=100, help_text="Why (kept in the history).")

    def __init__(self, *args, scopes_editable=True, stage=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not scopes_editable:
            self.fields["tools"].disabled = True
        if stage is not None:
            # The select offers the moves the path allows; any posted stage is still accepted here, so a
            # move the path forbids is refused by the draft service (409 wrong_stage), as in the API.
            self.fields["stage"].widget.choices = stage_choices(stage)

    #: The card's fieldsets (title, id, field names); tools and the reason are laid out on their own.
    FIELDSETS = (
        ("Card", "card", ("version", "description", "stage", "status")),
        ("Packaging", "packaging", ("registry_type", "identifier", "package_version", "bin", "transport")),
        ("Portability, entitlements and skills", "portability", ("portability", "entitlements", "skills")),
    )

    @property
    def fieldsets(self):
        return [(title, slug, [self[name] for name in names]) for title, slug, names in self.FIELDSETS]

    def clean_portability(self):
        portability = self.cleaned_data.get("portability") or {}
        if "entitlements" in portability:
            raise forms.ValidationError("Declared entitlements have their own field; list them there.")
        return portability

    @classmethod
    def initial_for(cls, draft):
        spec = draft.spec_snapshot if isinstance(draft.spec_snapshot, dict) else {}
        # Drafts stored before packaging had to be an object may hold anything there: show it empty.
        packaging = spec.get("packaging") if isinstance(spec.get("packaging"), dict) else {}
        portability = spec.get("portability") if isinstance(spec.get("portability"), dict) else {}
        return {
            "base_revision": draft.revision,
            "version": spec.get("version", ""),
            "description": spec.get("description", ""),
            "stage": draft.stage,
            "status": draft.status,
            "registry_type": packaging.get("registry_type", ""),
            "identifier": packaging.get("identifier", ""),
            "package_version": packaging.get("version", ""),
            "bin": packaging.get("bin", ""),
            "transport": packaging.get("transport", ""),
            "tools": spec.get("tools") or [],
            "portability": {key: value for key, value in portability.items() if key != "entitlements"},
            "entitlements": _entitlement_lines(portability.get("entitlements")),
            "skills": spec.get("skills") if isinstance(spec.get("skills"), list) else [],
        }

    def portability_value(self, stored):
        """The portability object the card describes: its JSON plus the declared entitlements (the key is
        written when there are some, or when the stored portability already had it)."""
        stored = stored if isinstance(stored, dict) else {}
        portability = dict(self.cleaned_data.get("portability") or {})
        entitlements = self.cleaned_data.get("entitlements") or []
        if entitlements or "entitlements" in stored:
            portability["entitlements"] = entitlements
        return portability

    def packaging(self, stored):
        """The stored packaging with the card's fields applied (a stored non-object is replaced)."""
        packaging = dict(stored) if isinstance(stored, dict) else {}
        values = {
            "registry_type": "registry_type",
            "identifier": "identifier",
            "version": "package_version",
            "bin": "bin",
            "transport": "transport",
        }
        for key, field in values.items():
            value = self.cleaned_data.get(field) or ""
            if value:
                packaging[key] = value
            else:
                packaging.pop(key, None)
        return packaging


def _entitlement_lines(value):
    values = value if isinstance(value, list) else [value] if value else []
    return [str(item) for item in values]


def firearm_choices():
    return [("", "— undecided —"), (NONE_DECISION, "NONE (no firearm)")] + [
        (firearm_id, firearm_id) for firearm_id in Firearm.objects.values_list("firearm_id", flat=True)
    ]


class ScopeForm(forms.Form):
    name = forms.CharField(max_length=63, required=False, validators=[ids.validate_scope_name])
    description = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 40}))
    tools = forms.MultipleChoiceField(
        required=False, widget=FilteredSelectMultiple("tools", is_stacked=False)
    )
    firearm = forms.ChoiceField(label="Firearm decision", required=False)
    kpis = forms.MultipleChoiceField(
        label="KPIs", required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )

    def __init__(self, *args, tool_names=(), firearms=(), kpis=(), scopes_editable=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tools"].choices = [(name, name) for name in tool_names]
        self.fields["firearm"].choices = firearms
        self.fields["kpis"].choices = kpis
        if not scopes_editable:
            for name in ("name", "description", "tools"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name") and (cleaned.get("tools") or cleaned.get("description")):
            self.add_error("name", "A scope needs a name.")
        return cleaned


class BaseScopeFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        names = [
            form.cleaned_data.get("name")
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form) and form.cleaned_data.get("name")
        ]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise forms.ValidationError(f"Scope names must be unique: {', '.join(duplicates)}.")


ScopeFormSet = forms.formset_factory(ScopeForm, formset=BaseScopeFormSet, extra=2, can_delete=True)


def scope_formset(draft, *, data=None, tool_names=None):
    spec, policy = draft.spec_snapshot or {}, draft.policy_snapshot or {}
    firearms, kpis = policy.get("firearms") or {}, policy.get("kpis") or {}
    firearms, kpis = (
        (firearms if isinstance(firearms, dict) else {}),
        (kpis if isinstance(kpis, dict) else {}),
    )
    initial = []
    for scope in named(spec.get("scopes")):
        name = scope["name"]
        decision = firearms.get(name, "") if name in firearms else ""
        initial.append(
            {
                "name": name,
                "description": scope.get("description", ""),
                "tools": strings(scope.get("tools")),
                "firearm": NONE_DECISION if name in firearms and decision is None else (decision or ""),
                "kpis": strings(kpis.get(name)),
            }
        )
    if tool_names is None:
        tool_names = [tool["name"] for tool in named(spec.get("tools"))]
    editable = draft.status == WorkbenchDraft.Status.DRAFT
    form_kwargs = {
        "tool_names": tool_names,
        "firearms": firearm_choices(),
        "kpis": [(k, k) for k in KpiDefinition.objects.values_list("kpi_id", flat=True)],
        "scopes_editable": editable,
    }
    formset = ScopeFormSet(data=data, initial=initial, prefix="scopes", form_kwargs=form_kwargs)
    if not editable:
        formset.extra = 0
    return formset


def scopes_and_policy(formset, stored_scopes):
    """Scopes (in page order) and the policy the formset describes; an undecided firearm has no key."""
    scopes, firearms, kpis = [], {}, {}
    stored_by_name = {scope.get("name"): scope for scope in stored_scopes or []}
    for form in formset.forms:
        data = form.cleaned_data
        if not data or formset._should_delete_form(form) or not data.get("name"):
            continue
        name = data["name"]
        scope = {
            "name": name,
            "description": data.get("description", ""),
            "tools": list(data.get("tools") or []),
        }
        if form.fields["name"].disabled:
            scope = stored_by_name.get(name, scope)
        scopes.append(scope)
        if data.get("firearm") == NONE_DECISION:
            firearms[name] = None
        elif data.get("firearm"):
            firearms[name] = data["firearm"]
        if data.get("kpis"):
            kpis[name] = list(data["kpis"])
    return scopes, {"firearms": firearms, "kpis": kpis}
