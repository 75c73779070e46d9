"""The generic test ``column_rules`` (dbt/tests/generic/test_column_rules.sql).

It replaces dbt's per-column ``not_null``, ``accepted_range`` and ``accepted_values`` with
one scan, one node and one Dagster check per relation, so it must still fail on any NULL in
a required column and on any value out of bounds or not accepted, name the column, the rule
and the number of rows, and let NULLs and the bounds themselves (unless strict) pass the
range and value rules. Checked on a scratch warehouse holding only a hand-made
``marts.pe_discount`` (a relation with required columns, strict and inclusive lower bounds,
upper bounds and accepted values), holding just the columns its rules read; ``dbt test``
reads the relation, it need not be built by dbt.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.lib.settings import DBT_PROJECT_DIR
from tests.unit.dbt_build import invoke_dbt

PER_COLUMN_TESTS = ("not_null", "accepted_range", "accepted_values")
RULES = ("not_null", "ranges", "values")


def relations(document: dict) -> list[tuple[str, dict]]:
    """The models, seeds and source tables a properties file describes, by name."""
    found = [(m["name"], m) for kind in ("models", "seeds") for m in document.get(kind) or []]
    for source in document.get("sources") or []:
        found += [(f"{source['name']}.{t['name']}", t) for t in source.get("tables") or []]
    return found


def column_rules_tests(relation: dict) -> list[dict]:
    """The relation's ``column_rules`` tests (name, arguments, config as written)."""
    return [
        test["column_rules"]
        for test in relation.get("data_tests") or []
        if isinstance(test, dict) and "column_rules" in test
    ]


def rule_columns(relation: dict, rule: str) -> list[str]:
    """The columns the relation's column_rules tests give ``rule`` (not_null, ranges, values)."""
    return [
        column
        for test in column_rules_tests(relation)
        for column in test["arguments"].get(rule) or []
    ]


def properties_files() -> list[Path]:
    return sorted(
        path for folder in ("models", "seeds") for path in (DBT_PROJECT_DIR / folder).rglob("*.yml")
    )


def test_one_column_rules_test_per_relation_naming_documented_columns():
    """A misspelt column in a rule fails only when the test runs; here it fails at once.
    A per-column not_null / accepted_range / accepted_values, or a second column_rules
    test without a config of its own, would bring back a node, a scan and an asset check."""
    checked = {rule: 0 for rule in RULES}
    for path in properties_files():
        for name, relation in relations(yaml.safe_load(path.read_text()) or {}):
            documented = [c["name"] for c in relation.get("columns") or []]
            for column in relation.get("columns") or []:
                for test in column.get("data_tests") or []:
                    key = test if isinstance(test, str) else next(iter(test))
                    assert key not in PER_COLUMN_TESTS, f"{path.name}: {name}.{column['name']}"
            tests = column_rules_tests(relation)
            assert len([t for t in tests if "config" not in t]) <= 1, f"{path.name}: {name}"
            for test in tests:
                assert set(test["arguments"]) <= set(RULES), f"{path.name}: {name}"
                assert test["name"].startswith(f"column_rules_{name.replace('.', '_')}"), name
            for rule in RULES:
                for column in rule_columns(relation, rule):
                    assert column in documented, f"{path.name}: {rule} {name}.{column}"
                    checked[rule] += 1
    # the 40 ranges and 28 value lists of the old per-column tests are all found, and the
    # required columns of every relation
    assert checked["ranges"] >= 40 and checked["values"] >= 28 and checked["not_null"] >= 200


def pe_discount_rules() -> dict[str, list[str]]:
    (model,) = [
        m
        for name, m in relations(
            yaml.safe_load((DBT_PROJECT_DIR / "models/marts/pe_discount.yml").read_text())
        )
        if name == "pe_discount"
    ]
    return {rule: rule_columns(model, rule) for rule in RULES}


def filled() -> dict[str, int]:
    """A value for every required column of pe_discount (none of them has another rule)."""
    return dict.fromkeys(pe_discount_rules()["not_null"], 1)


def scratch_pe_discount(db: Path, rows: list[dict]) -> None:
    """A warehouse whose marts.pe_discount holds just ``rows``: the columns the rules read
    (numbers for the required and bounded ones, text for the listed ones), NULL where a
    row omits one."""
    rules = pe_discount_rules()
    types = {c: "DOUBLE" for c in [*rules["not_null"], *rules["ranges"]]}
    types |= {c: "VARCHAR" for c in rules["values"]}
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


def rule_results(db: Path, tmp: Path) -> tuple[bool, list[tuple[str, str, int]]]:
    """Run pe_discount's column_rules test, storing its failing rows.

    Returns whether it passed and its result rows (column_name, rule, failing_rows).
    """
    result = invoke_dbt(
        db,
        tmp,
        "test",
        "--select",
        "pe_discount,test_name:column_rules",
        "--store-failures",
    )
    assert result.exception is None, result.exception
    (run,) = result.result
    assert run.node.name == "column_rules_pe_discount"
    with duckdb.connect(str(db)) as con:
        rows = con.execute(
            f"SELECT column_name, rule, failing_rows FROM {run.node.relation_name} "
            "ORDER BY column_name, rule"
        ).fetchall()
    return str(run.status) == "pass", rows


@pytest.mark.slow
def test_nulls_values_out_of_range_or_not_accepted_fail_naming_column_rule_and_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_pe_discount(
        db,
        [
            # 0 breaks the strict lower bound; -1 and 1 are on inclusive bounds and pass
            {**filled(), "small_trailing_pe": 0.0, "discount": -1.0, "discount_percentile": 1.0},
            # below the inclusive -1, above the inclusive 1, a reason not in the list
            {
                **filled(),
                "small_trailing_pe": 12.0,
                "discount": -1.5,
                "discount_percentile": 1.2,
                "small_forward_pe_null_reason": "stale",
            },
            # two required columns NULL
            {
                **filled(),
                "trade_date": None,
                "small_constituents": None,
                "small_trailing_pe": -3.0,
                "discount_percentile": -0.1,
            },
            {**filled(), "trade_date": None, "large_forward_pe_null_reason": "thin_coverage"},
        ],
    )
    (tmp_path / "target").mkdir()

    passed, rows = rule_results(db, tmp_path)

    assert not passed
    assert rows == [
        ("discount", "range", 1),
        ("discount_percentile", "range", 2),
        ("small_constituents", "not_null", 1),
        ("small_forward_pe_null_reason", "values", 1),
        ("small_trailing_pe", "range", 2),
        ("trade_date", "not_null", 2),
    ]


@pytest.mark.slow
def test_values_on_the_bounds_in_the_lists_or_null_pass_with_no_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_pe_discount(
        db,
        [
            {
                **filled(),
                "small_trailing_pe": 0.5,
                "discount": -1.0,
                "discount_percentile": 0.0,
                "small_forward_pe_null_reason": "no_snapshot",
            },
            {
                **filled(),
                "discount_percentile": 1.0,
                "large_forward_pe_null_reason": "earnings_not_positive",
            },
            {**filled(), "discount": None, "small_forward_pe_null_reason": None},  # all NULL
        ],
    )
    (tmp_path / "target").mkdir()

    assert rule_results(db, tmp_path) == (True, [])
