"""The "Import from a package" form: the tenant and connector the draft is for, and the package named
exactly. The service checks it again (and is the one that refuses)."""

from django import forms

from workbench.services.probes.targets import PACKAGE_TYPES


class ImportPackageForm(forms.Form):
    tenant = forms.ModelChoiceField(
        queryset=None, to_field_name="slug", help_text="Where the draft is created."
    )
    connector_id = forms.CharField(max_length=63, help_text="The connector the draft is for, e.g. time.")
    registry_type = forms.ChoiceField(choices=[(kind, kind) for kind in PACKAGE_TYPES])
    identifier = forms.CharField(max_length=214, help_text="The package name, e.g. mcp-server-time.")
    version = forms.CharField(
        max_length=64, help_text="One exact version, e.g. 2025.9.25 (no ranges, no tags such as latest)."
    )
    bin = forms.CharField(
        max_length=214, required=False, help_text="npm: the executable to start, when not the default."
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        if len(tenants) == 1:
            self.fields["tenant"].initial = tenants[0]
