"""dbt's description of the raw tables (``_raw__sources.yml``) and the one canonical schema
(``schemas.py``) cannot drift apart: a column added to one must be added to the other."""

import yaml

from dagster_project.lib.settings import DBT_PROJECT_DIR
from dagster_project.lib.warehouse.schemas import QUARANTINE, RAW_TABLES

SOURCES_FILE = DBT_PROJECT_DIR / "models" / "staging" / "raw" / "_raw__sources.yml"


def test_every_raw_table_is_a_dbt_source_with_the_schemas_columns():
    document = yaml.safe_load(SOURCES_FILE.read_text())
    (raw,) = [s for s in document["sources"] if s["name"] == "raw"]
    described = {t["name"]: [c["name"] for c in t.get("columns", [])] for t in raw["tables"]}
    expected = {t.name: list(t.columns) for t in (*RAW_TABLES.values(), QUARANTINE)}
    assert set(described) == set(expected)
    for name, columns in described.items():
        if columns:  # a table may leave its columns undocumented, never misdocument them
            assert columns == expected[name], name
