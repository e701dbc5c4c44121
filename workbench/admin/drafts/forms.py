"""Forms of the draft card: the card fields (version, stage, packaging), portability and skills as JSON
documents checked against the MCP contract, the declared entitlements one per line, and the choices of
the tools x scopes grid (grid.py)."""

from django import forms

from policies.models import Firearm, KpiDefinition
from workbench.contract import packaging_choices, packaging_problems
from workbench.kit import identifiers as ids
from workbench.models import WorkbenchDraft
from workbench.models.drafts import stage_index, stage_moves
from workbench.services.drafts.card import version_move_problem

from .fields import EntitlementsField, SpecSectionJsonField
from .grid import NONE_DECISION

#: packaging key -> the card field that edits it
PACKAGING_FIELDS = {
    "registry_type": "registry_type",
    "identifier": "identifier",
    "version": "package_version",
    "bin": "bin",
    "transport": "transport",
}


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
        choices=[("", "---------"), *packaging_choices("registry_type")],
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
        required=False, choices=[("", "---------"), *packaging_choices("transport")]
    )
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

    def __init__(self, *args, stage=None, stored_spec=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The stored spec the save starts from: the version and packaging rules judge against it.
        self.stored_spec = stored_spec if isinstance(stored_spec, dict) else {}
        if stage is not None:
            # The select offers the moves the path allows; any posted stage is still accepted here, so a
            # move the path forbids is refused by the draft service (409 wrong_stage), as in the API.
            self.fields["stage"].widget.choices = stage_choices(stage)

    #: The card's fieldsets (title, id, field names): each field once; the grid and the reason are laid
    #: out on their own.
    FIELDSETS = (
        ("Card", "card", ("version", "description", "stage", "status")),
        ("Packaging", "packaging", ("registry_type", "identifier", "package_version", "bin", "transport")),
        ("Portability, entitlements and skills", "portability", ("portability", "entitlements", "skills")),
    )

    @property
    def fieldsets(self):
        return [(title, slug, [self[name] for name in names]) for title, slug, names in self.FIELDSETS]

    @property
    def text_fieldsets(self):
        """The fieldsets as (label, text) pairs, for someone who may only view the draft."""
        return [
            (title, slug, [(field.label, self._text(field)) for field in fields])
            for title, slug, fields in self.fieldsets
        ]

    @staticmethod
    def _text(bound_field):
        value = bound_field.field.prepare_value(bound_field.value())
        return "" if value is None else str(value)

    def clean_portability(self):
        portability = self.cleaned_data.get("portability") or {}
        if "entitlements" in portability:
            raise forms.ValidationError("Declared entitlements have their own field; list them there.")
        return portability

    def clean_version(self):
        # The draft service's own rule, asked here too so a refused version is listed with the form's
        # other mistakes instead of in a second round after they are fixed.
        version = self.cleaned_data["version"]
        problem = version_move_problem(self.stored_spec.get("version"), version)
        if problem:
            raise forms.ValidationError(problem)
        return version

    def clean(self):
        cleaned = super().clean()
        # The contract's packaging rule (the MCP import page's and validation's), on the field it names;
        # a field already in error (e.g. an unknown registry) is not judged twice.
        packaging = self.packaging(self.stored_spec.get("packaging"))
        if packaging:
            for path, messages in packaging_problems(packaging).items():
                name = PACKAGING_FIELDS.get(path.removeprefix("packaging."))
                if name in self.errors:
                    continue
                if name in self.fields:
                    self.add_error(name, messages)
                else:
                    self.add_error(None, [f"{path}: {message}" for message in messages])
        return cleaned

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
        for key, field in PACKAGING_FIELDS.items():
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
    """The firearm decisions a scope column offers: undecided, NONE, then every firearm."""
    return [("", "undecided"), (NONE_DECISION, "NONE")] + [
        (firearm_id, firearm_id) for firearm_id in Firearm.objects.values_list("firearm_id", flat=True)
    ]


def kpi_choices():
    return [(kpi_id, kpi_id) for kpi_id in KpiDefinition.objects.values_list("kpi_id", flat=True)]
