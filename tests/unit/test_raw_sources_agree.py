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


def required_columns(table: dict) -> list[str]:
    """The columns a source table's ``column_rules`` tests require to be filled (``not_null``).

    dbt takes a generic test's arguments under ``arguments:`` or (older style) beside
    its config; both are read so a test written either way still counts.
    """
    required = []
    for test in table.get("data_tests") or []:
        if isinstance(test, dict) and "column_rules" in test:
            spec = test["column_rules"] or {}
            required += (spec.get("arguments") or spec).get("not_null") or []
    return required


def test_columns_dbt_requires_filled_are_not_null_in_the_schema():
    """dbt must not require a value the canonical DDL lets be NULL (a load would pass the
    table's constraints and then fail the build), nor name a column the table lacks."""
    document = yaml.safe_load(SOURCES_FILE.read_text())
    (raw,) = [s for s in document["sources"] if s["name"] == "raw"]
    schemas = {t.name: t.columns for t in (*RAW_TABLES.values(), QUARANTINE)}
    checked = 0
    for table in raw["tables"]:
        columns = schemas[table["name"]]
        for column in required_columns(table):
            assert column in columns, f"{table['name']}.{column}: not a column"
            assert "NOT NULL" in columns[column].upper(), f"{table['name']}.{column} is nullable"
            checked += 1
    assert checked > 0  # the tests are found at all: a renamed test key must not pass silently
