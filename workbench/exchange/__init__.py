"""TSV exchange for Google Sheets (PRODUCT.md section 6): three exports and four imports, each defined
once as a django-import-export resource and used alike by the admin, the API and the commands.

- tsv.py: the dialect (cells, lines, parsing) and the import-export format
- exporting.py: streaming exports; connectors.py, policy_matrix.py, coverage.py: the three exports
- importing.py: all-or-nothing imports and their report; policies.py (firearms, grants, KPI
  corridors) and policy_matrix.py (edited matrix -> drafts): the four imports
- http.py: the streaming download response; admin.py: the admin export and import mixins
"""

from policies.exchange import FirearmGrantResource, FirearmResource, KpiCorridorResource

from .connectors import ConnectorRegistryResource
from .coverage import CoverageResource
from .policy_matrix import PolicyMatrixResource

EXPORTS = {
    resource.kind: resource
    for resource in (ConnectorRegistryResource, PolicyMatrixResource, CoverageResource)
}
IMPORTS = {
    resource.kind: resource
    for resource in (FirearmResource, FirearmGrantResource, KpiCorridorResource, PolicyMatrixResource)
}

__all__ = ["EXPORTS", "IMPORTS"]
