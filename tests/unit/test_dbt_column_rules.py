"""The generic tests ``columns_in_range`` and ``columns_in_values`` (dbt/tests/generic/).

They replace dbt's per-column ``accepted_range`` and ``accepted_values`` with one scan per
relation, so they must still fail on any value out of bounds or not accepted, say which
column and how many rows, and let NULLs and the bounds themselves (unless strict) pass.
Checked on a scratch warehouse holding only a hand-made ``marts.pe_discount`` (a relation
with strict and inclusive lower bounds, upper bounds and accepted values), holding just the
columns its two tests read; ``dbt test`` reads the relation, it need not be built by dbt.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.lib.settings import DBT_PROJECT_DIR
from tests.unit.dbt_build import invoke_dbt

RULE_TESTS = ("columns_in_range", "columns_in_values")
PER_COLUMN_TESTS = ("accepted_range", "accepted_values")


def relations(document: dict) -> list[tuple[str, dict]]:
    """The models and source tables a properties file describes, by name."""
    found = [(m["name"], m) for m in document.get("models") or []]
    for source in document.get("sources") or []:
        found += [(f"{source['name']}.{t['name']}", t) for t in source.get("tables") or []]
    return found


def rule_columns(relation: dict, test_name: str) -> dict:
    """The ``columns`` mapping of the relation's ``test_name`` test ({} when it has none)."""
    columns = {}
    for test in relation.get("data_tests") or []:
        if isinstance(test, dict) and test_name in test:
            columns.update(test[test_name]["arguments"]["columns"])
    return columns


def properties_files() -> list[Path]:
    return sorted((DBT_PROJECT_DIR / "models").rglob("*.yml"))


def test_rules_name_documented_columns_and_no_per_column_test_is_left():
    """A misspelt column in a rule's mapping fails only when the test runs; here it fails
    at once. A per-column accepted_range / accepted_values would bring back a node, a scan
    and an asset check per column."""
    checked = 0
    for path in properties_files():
        for name, relation in relations(yaml.safe_load(path.read_text()) or {}):
            documented = [c["name"] for c in relation.get("columns") or []]
            for column in relation.get("columns") or []:
                for test in column.get("data_tests") or []:
                    key = test if isinstance(test, str) else next(iter(test))
                    assert key not in PER_COLUMN_TESTS, f"{path.name}: {name}.{column['name']}"
            for test_name in RULE_TESTS:
                for column in rule_columns(relation, test_name):
                    assert column in documented, f"{path.name}: {test_name} {name}.{column}"
                    checked += 1
    assert checked >= 68  # the 40 ranges and 28 value lists they replaced are all found


def scratch_pe_discount(db: Path, rows: list[dict]) -> None:
    """A warehouse whose marts.pe_discount holds just ``rows``: the columns the rules read
    (numbers for the bounded ones, text for the listed ones), NULL where a row omits one."""
    (model,) = [
        m
        for name, m in relations(
            yaml.safe_load((DBT_PROJECT_DIR / "models/marts/pe_discount.yml").read_text())
        )
        if name == "pe_discount"
    ]
    types = {c: "DOUBLE" for c in rule_columns(model, "columns_in_range")}
    types |= {c: "VARCHAR" for c in rule_columns(model, "columns_in_values")}
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.pe_discount ("
            + ", ".join(f"{column} {kind}" for column, kind in types.items())
            + ")"
        )
        for row in rows:
            names = list(row)
            con.execute(
                f"INSERT INTO marts.pe_discount ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                list(row.values()),
            )


def rule_results(db: Path, tmp: Path) -> dict[str, tuple[bool, list[tuple[str, int]]]]:
    """Run pe_discount's two rule tests, storing their failing rows.

    Returns, per test, whether it passed and its result rows (column_name, violating_rows).
    """
    result = invoke_dbt(
        db,
        tmp,
        "test",
        "--select",
        *(f"pe_discount,test_name:{test_name}" for test_name in RULE_TESTS),
        "--store-failures",
    )
    assert result.exception is None, result.exception
    assert len(result.result) == len(RULE_TESTS)
    outcomes = {}
    with duckdb.connect(str(db)) as con:
        for run in result.result:
            rows = con.execute(
                f"SELECT column_name, violating_rows FROM {run.node.relation_name} "
                "ORDER BY column_name"
            ).fetchall()
            test_name = run.node.test_metadata.name
            outcomes[test_name] = (str(run.status) == "pass", rows)
    return outcomes


@pytest.mark.slow
def test_values_out_of_range_or_not_accepted_fail_naming_the_column_and_its_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_pe_discount(
        db,
        [
            # 0 breaks the strict lower bound; -1 and 1 are on inclusive bounds and pass
            {"small_trailing_pe": 0.0, "discount": -1.0, "discount_percentile": 1.0},
            # below the inclusive -1, above the inclusive 1, a reason not in the list
            {
                "small_trailing_pe": 12.0,
                "discount": -1.5,
                "discount_percentile": 1.2,
                "small_forward_pe_null_reason": "stale",
            },
            {"small_trailing_pe": -3.0, "discount_percentile": -0.1},
            {"large_forward_pe_null_reason": "thin_coverage"},
        ],
    )
    (tmp_path / "target").mkdir()

    outcomes = rule_results(db, tmp_path)

    assert outcomes["columns_in_range"] == (
        False,
        [("discount", 1), ("discount_percentile", 2), ("small_trailing_pe", 2)],
    )
    assert outcomes["columns_in_values"] == (False, [("small_forward_pe_null_reason", 1)])


@pytest.mark.slow
def test_values_on_the_bounds_in_the_lists_or_null_pass_with_no_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_pe_discount(
        db,
        [
            {
                "small_trailing_pe": 0.5,
                "discount": -1.0,
                "discount_percentile": 0.0,
                "small_forward_pe_null_reason": "no_snapshot",
            },
            {"discount_percentile": 1.0, "large_forward_pe_null_reason": "earnings_not_positive"},
            {"discount": None, "small_forward_pe_null_reason": None},  # all NULL
        ],
    )
    (tmp_path / "target").mkdir()

    outcomes = rule_results(db, tmp_path)

    assert outcomes == {"columns_in_range": (True, []), "columns_in_values": (True, [])}
