"""The seed's own examples come back exactly (seed 001, section 3): the example rows of the connector
registry and policy matrix exports, read out of the seed document itself (the vendored copy in
seed_documents/), are what `connectors.tsv` and `policy-matrix.tsv` give after `load_environment dev`,
every column but `published_at` (a publish time is the database's, not the seed's). Other example
connectors may show more rows; the seed's connectors show exactly the seed's rows."""

import re
from pathlib import Path

import pytest

from tests.workbench.environments_kit import load, run

pytestmark = pytest.mark.django_db

SEED_001 = Path(__file__).parent / "seed_documents" / "001_3daebcca253174d9.txt"
SHARED_SEED_001 = Path(__file__).resolve().parents[3] / "shared" / "seeds" / SEED_001.name
UNCOMPARED = {"published_at"}


def seed_tables(text):
    """{section title: [header, row, ...]} of the markdown tables under each `### ` heading of section 3,
    their cells with the backticks taken off."""
    section = text.split("## 3.", 1)[1]
    tables = {}
    for block in re.split(r"^### ", section, flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        lines = [line for line in body.splitlines() if "|" in line]
        cells = [[cell.strip().strip("`") for cell in line.split("|")] for line in lines]
        tables[title.strip()] = [row for row in cells if not all(set(cell) <= {"-", ":"} for cell in row)]
    return tables


def tsv_rows(text):
    return [line.split("\t") for line in text.splitlines()]


def comparable(table, connector_ids=None):
    """The rows as dicts of every compared column, of those connectors when named."""
    header, *rows = table
    picked = [
        {column: cell for column, cell in zip(header, row, strict=True) if column not in UNCOMPARED}
        for row in rows
    ]
    if connector_ids is not None:
        picked = [row for row in picked if row["connector_id"] in connector_ids]
    return picked


def test_the_vendored_seed_is_the_shared_original():
    if not SHARED_SEED_001.exists():
        pytest.skip("the shared seeds folder is not beside this clone (CI runs on the repository alone)")
    assert SEED_001.read_bytes() == SHARED_SEED_001.read_bytes()


def test_the_seed_tables_are_read_as_written():
    tables = seed_tables(SEED_001.read_text())
    assert tables["B. Policy Matrix Export"] == [
        ["connector_id", "scope", "firearm_id", "strategy_lock"],
        ["github", "admin_write", "firearm.external_write", "TRUE"],
        ["github", "read_public", "NONE", "FALSE"],
    ]


@pytest.mark.parametrize(
    ("kind", "title"),
    [("connectors", "A. Connector Registry Export"), ("policy-matrix", "B. Policy Matrix Export")],
)
def test_dev_environment_gives_back_the_seed_example_rows(kind, title):
    seed = seed_tables(SEED_001.read_text())[title]
    load("dev")
    exported = tsv_rows(run("export_tsv", kind))
    assert exported[0] == seed[0], "the export's header is the seed's, in the seed's order"
    connector_ids = {row["connector_id"] for row in comparable(seed)}
    assert comparable(exported, connector_ids) == comparable(seed)
    # The seed's connectors are not the only ones the dev environment ships.
    assert len(exported) > len(seed)
