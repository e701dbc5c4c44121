"""TSV exchange for Google Sheets (PRODUCT.md section 6): three exports and six imports, each defined
once as a django-import-export resource and used alike by the admin, the API and the commands.

- tsv.py: the dialect (cells, lines, parsing) and the import-export format
- exporting.py: streaming exports; connectors.py, policy_matrix.py, coverage.py: the three exports
- importing.py: all-or-nothing imports and their report; policies.py (firearms, grants, KPI
  corridors), policy_matrix.py (edited matrix -> drafts) and bindings.py (firearm bindings and KPI
  tool bindings -> drafts): the six imports; drafting.py: what the imports into drafts share
- http.py: the streaming download response; admin.py: the admin export and import mixins
"""

from policies.exchange import FirearmGrantResource, FirearmResource, KpiCorridorResource

from .bindings import FirearmBindingResource, KpiToolBindingResource
from .connectors import ConnectorRegistryResource
from .coverage import CoverageResource
from .policy_matrix import PolicyMatrixResource

EXPORTS = {
    resource.kind: resource
    for resource in (ConnectorRegistryResource, PolicyMatrixResource, CoverageResource)
}
IMPORTS = {
    resource.kind: resource
    for resource in (
        FirearmResource, FirearmGrantResource, KpiCorridorResource,
        PolicyMatrixResource, FirearmBindingResource, KpiToolBindingResource,
    )
}
#: the imports that write drafts, offered together on the admin's TSV exchange page
DRAFT_IMPORTS = (PolicyMatrixResource, FirearmBindingResource, KpiToolBindingResource)

__all__ = ["DRAFT_IMPORTS", "EXPORTS", "IMPORTS"]
