"""The generic test ``column_rules`` (dbt/tests/generic/test_column_rules.sql).

It replaces dbt's per-column ``unique``, ``not_null``, ``accepted_range`` and
``accepted_values``, the grain test and the expression tests with one query, one node and
one Dagster check per relation, so it must still fail on a repeated grain or unique value,
on any NULL in a required column, on any value out of bounds or not accepted and on any row
breaking a condition, name the column(s), the rule and the number of rows, and let NULLs
and the bounds themselves (unless strict) pass the range and value rules and the
conditions; ``unique`` leaves NULLs out, the grain groups NULL key parts together.
Checked on a scratch warehouse holding only a hand-made ``marts.pe_discount`` (a relation
with a grain, required columns, strict and inclusive lower bounds, upper bounds, accepted
values and conditions), holding just the columns its rules read; ``dbt test`` reads the
relation, it need not be built by dbt. The grain, unique and expression rules in detail,
and the argument checks, run on a scratch dbt project: the project's macros and generic
tests with one hand-written source.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from dagster_project.defs.transform.dbt import ENV_TESTS_SINCE
from dagster_project.lib.settings import DBT_PROJECT_DIR
from tests.unit.dbt_build import invoke_dbt

# Tests column_rules replaces: none may come back, on a column or on a relation.
REPLACED_TESTS = (
    "unique",
    "not_null",
    "accepted_range",
    "accepted_values",
    "unique_combination_of_columns",
    "expression_is_true",
)
RULES = ("grain", "unique", "not_null", "ranges", "values", "expressions")
COLUMN_RULES = ("grain", "unique", "not_null", "ranges", "values")  # the rules naming columns


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
    """The columns the relation's column_rules tests give ``rule`` (grain, unique, not_null,
    ranges, values)."""
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
    A per-column unique / not_null / accepted_range / accepted_values, a grain or
    expression test of its own, or a second column_rules test without a config of its
    own, would bring back a node, a query and an asset check. The grain comes first, so
    each relation's YAML states it at the top."""
    checked = dict.fromkeys(RULES, 0)
    for path in properties_files():
        for name, relation in relations(yaml.safe_load(path.read_text()) or {}):
            documented = [c["name"] for c in relation.get("columns") or []]
            for column in relation.get("columns") or []:
                for test in column.get("data_tests") or []:
                    key = test if isinstance(test, str) else next(iter(test))
                    assert key not in REPLACED_TESTS, f"{path.name}: {name}.{column['name']}"
            for test in relation.get("data_tests") or []:
                key = test if isinstance(test, str) else next(iter(test))
                assert key not in REPLACED_TESTS, f"{path.name}: {name} {key}"
            tests = column_rules_tests(relation)
            assert len([t for t in tests if "config" not in t]) <= 1, f"{path.name}: {name}"
            for test in tests:
                assert set(test["arguments"]) <= set(RULES), f"{path.name}: {name}"
                assert test["name"].startswith(f"column_rules_{name.replace('.', '_')}"), name
                if "grain" in test["arguments"]:
                    assert next(iter(test["arguments"])) == "grain", f"{path.name}: {name}"
                    checked["grain"] += 1
                checked["expressions"] += len(test["arguments"].get("expressions") or [])
            for rule in COLUMN_RULES:
                for column in rule_columns(relation, rule):
                    assert column in documented, f"{path.name}: {rule} {name}.{column}"
                    checked[rule] += rule != "grain"
    # the 39 grains (28 multi-column, 11 single columns of the built-in unique tests), 3
    # other unique columns, 17 conditions, 40 ranges and 28 value lists of the old
    # separate tests are all found, and the required columns of every relation
    assert checked["grain"] >= 39 and checked["unique"] >= 3 and checked["expressions"] >= 17
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


def filled(day: int) -> dict[str, int]:
    """A value for every required column of pe_discount (none of them has another rule
    but the grain, trade_date: ``day``, and the conditions, which equal counts meet)."""
    return dict.fromkeys(pe_discount_rules()["not_null"], 1) | {"trade_date": day}


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
            {**filled(1), "small_trailing_pe": 0.0, "discount": -1.0, "discount_percentile": 1.0},
            # below the inclusive -1, above the inclusive 1, a reason not in the list, more
            # names with trailing earnings than priced (breaks a condition)
            {
                **filled(2),
                "small_trailing_pe": 12.0,
                "discount": -1.5,
                "discount_percentile": 1.2,
                "small_forward_pe_null_reason": "stale",
                "small_names_trailing": 2,
            },
            # two required columns NULL: the two NULL trade dates also repeat the grain (NULLs
            # group together); the NULL count leaves a condition on it NULL, which passes
            {
                **filled(3),
                "trade_date": None,
                "small_constituents": None,
                "small_trailing_pe": -3.0,
                "discount_percentile": -0.1,
            },
            {**filled(4), "trade_date": None, "large_forward_pe_null_reason": "thin_coverage"},
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
        (
            "small_names_trailing <= small_names_priced"
            " and large_names_trailing <= large_names_priced",
            "expression",
            1,
        ),
        ("small_trailing_pe", "range", 2),
        ("trade_date", "grain", 2),
        ("trade_date", "not_null", 2),
    ]


@pytest.mark.slow
def test_values_on_the_bounds_in_the_lists_or_null_pass_with_no_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_pe_discount(
        db,
        [
            {
                **filled(1),
                "small_trailing_pe": 0.5,
                "discount": -1.0,
                "discount_percentile": 0.0,
                "small_forward_pe_null_reason": "no_snapshot",
            },
            {
                **filled(2),
                "discount_percentile": 1.0,
                "large_forward_pe_null_reason": "earnings_not_positive",
            },
            {**filled(3), "discount": None, "small_forward_pe_null_reason": None},  # all NULL
        ],
    )
    (tmp_path / "target").mkdir()

    assert rule_results(db, tmp_path) == (True, [])


# The grain, unique and expression rules and the argument checks on a scratch dbt project:
# the project's macros and generic tests, and one source, scratch.<table>, per case.

SCRATCH_COLUMNS = {
    "id": "INTEGER",
    "code": "VARCHAR",
    "k1": "VARCHAR",
    "k2": "INTEGER",
    "lo": "DOUBLE",
    "hi": "DOUBLE",
}
# Every new rule at once: a two-column grain, two columns unique on their own, two
# conditions (one quoting a string, so its name must be escaped in the failure row).
SCRATCH_RULES = {
    "grain": ["k1", "k2"],
    "unique": ["id", "code"],
    "expressions": ["lo <= hi", "k1 <> 'it''s'"],
}


def scratch_project(tmp: Path, tests: dict[str, dict]) -> Path:
    """A dbt project in ``tmp/project``: this project's macros, generic tests and profile,
    and a source table ``scratch.<table>`` per entry of ``tests``, carrying one
    column_rules test ``column_rules_<table>`` with those arguments."""
    project = tmp / "project"
    shutil.copytree(DBT_PROJECT_DIR / "macros", project / "macros")
    shutil.copytree(DBT_PROJECT_DIR / "tests" / "generic", project / "tests" / "generic")
    shutil.copy(DBT_PROJECT_DIR / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "column_rules_scratch",
                "version": "1.0.0",
                "profile": "rotation",
                "flags": {"send_anonymous_usage_stats": False, "version_check": False},
            }
        )
    )
    tables = [
        {
            "name": table,
            "data_tests": [
                {"column_rules": {"name": f"column_rules_{table}", "arguments": arguments}}
            ],
        }
        for table, arguments in tests.items()
    ]
    (project / "models").mkdir()
    (project / "models" / "scratch.yml").write_text(
        yaml.safe_dump({"sources": [{"name": "scratch", "schema": "scratch", "tables": tables}]})
    )
    return project


def invoke_scratch(project: Path, db: Path, *args: str):
    """``dbt <args>`` in-process on the scratch project and the warehouse ``db``."""
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ROTATION_WAREHOUSE", str(db))
            mp.delenv(ENV_TESTS_SINCE, raising=False)
            return dbtRunner().invoke(
                [
                    *args,
                    "--project-dir",
                    str(project),
                    "--profiles-dir",
                    str(project),
                    "--target-path",
                    str(project / "target"),
                    "--log-path",
                    str(project / "logs"),
                    "--no-use-colors",
                    "--quiet",
                ]
            )
    finally:
        DuckDBConnectionManager.close_all_connections()


def scratch_table(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS scratch")
    con.execute(
        f"CREATE TABLE scratch.{table} ("
        + ", ".join(f"{column} {kind}" for column, kind in SCRATCH_COLUMNS.items())
        + ")"
    )
    con.executemany(f"INSERT INTO scratch.{table} VALUES (?, ?, ?, ?, ?, ?)", rows)


@pytest.mark.slow
def test_grain_unique_and_expressions_count_failing_rows_and_treat_nulls_as_documented(
    tmp_path,
):
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        scratch_table(
            con,
            "broken",
            [  # id, code, k1, k2, lo, hi
                (1, "a", "A", 1, 0.0, 1.0),
                (2, "b", "A", 1, 0.0, 1.0),  # (A, 1) a second time
                (3, "c", "A", 1, 2.0, 1.0),  # and a third; lo > hi
                (4, None, None, 2, None, 1.0),  # (NULL, 2): NULL lo, the condition is NULL
                (5, None, None, 2, 0.0, None),  # (NULL, 2) again: NULL parts group together
                (6, "a", None, 3, 0.0, 1.0),  # code a a second time
                (None, "d", "it's", 4, 0.0, 1.0),  # breaks k1 <> 'it''s'
                (None, "e", "B", 4, 0.0, 1.0),  # a second NULL id: unique leaves NULLs out
            ],
        )
        # every rule holds: NULL ids and codes, distinct keys with NULL parts, NULL
        # conditions
        scratch_table(
            con,
            "sound",
            [  # id, code, k1, k2, lo, hi
                (1, None, "A", 1, 0.0, 0.0),
                (None, None, "A", 2, None, 1.0),
                (None, "a", None, 1, 1.0, None),
                (2, "b", None, 2, 0.0, 1.0),
            ],
        )
    project = scratch_project(tmp_path, {"broken": SCRATCH_RULES, "sound": SCRATCH_RULES})

    result = invoke_scratch(project, db, "test", "--store-failures")

    assert result.exception is None, result.exception
    status = {run.node.name: str(run.status) for run in result.result}
    assert status == {"column_rules_broken": "fail", "column_rules_sound": "pass"}
    (broken,) = [run.node for run in result.result if run.node.name == "column_rules_broken"]
    with duckdb.connect(str(db)) as con:
        stored = con.execute(
            f"SELECT column_name, rule, failing_rows FROM {broken.relation_name}"
        ).fetchall()
        # the test's own query gives them in argument order (grain, unique, ...,
        # expressions, each in the order listed)
        compiled = project / "target" / "compiled" / "column_rules_scratch" / "models"
        in_order = con.execute(
            (compiled / "scratch.yml" / "column_rules_broken.sql").read_text()
        ).fetchall()
    expected = [
        ("k1, k2", "grain", 5),  # the three (A, 1) rows and the two (NULL, 2) rows
        ("code", "unique", 2),  # the two a rows; the two NULL codes do not count
        ("lo <= hi", "expression", 1),
        ("k1 <> 'it''s'", "expression", 1),
    ]
    assert in_order == expected
    assert sorted(stored) == sorted(expected)


ALL_SIX = (
    "give at least one of grain (list of columns), unique (list of columns), not_null (list "
    "of columns), ranges (column -> {min_value, max_value, inclusive}), values (column -> "
    "list of accepted values) and expressions (list of SQL conditions)"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, ALL_SIX),
        ({"grain": "k1"}, "grain must be a non-empty list of columns"),
        ({"grain": []}, "grain must be a non-empty list of columns"),
        ({"unique": [["k1", "k2"]]}, "unique must be a non-empty list of single columns"),
        ({"expressions": "lo <= hi"}, "expressions must be a non-empty list of SQL conditions"),
        (
            {"expressions": ["lo <= hi", 3]},
            "expressions must be a non-empty list of SQL conditions (text)",
        ),
    ],
)
def test_bad_arguments_stop_dbt_naming_the_argument(tmp_path, arguments, message):
    project = scratch_project(tmp_path, {"t": arguments})

    result = invoke_scratch(project, tmp_path / "warehouse.duckdb", "parse")

    assert not result.success
    assert "column_rules on " in str(result.exception)
    assert message in str(result.exception)
