"""The floor: what every app here uses and what knows no app.

Model bases and natural keys (`models`), identifier formats (`identifiers`), versions (`semver`), the
refusal every service raises (`refusals`), the row write path and history reasons (`rows`), TSV
primitives (`exchange`), and the admin and API bases (`admin`, `api`) that translate refusals for
their interface. Nothing here imports `registries`, `policies` or the workbench domain; the
import-linter contracts in pyproject.toml check it.
"""
