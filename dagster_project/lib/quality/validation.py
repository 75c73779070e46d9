"""Run a Great Expectations 1.x suite on a pandas frame and describe what failed.

GX's SQL datasource returns nothing on DuckDB 2.0, so GX validates pandas frames; the
suites stay plain GX JSON under version control (``quality/suites/``), the one definition
of every rule. Reading a 19M-row table into pandas for GX costs minutes and gigabytes, so
``validate_in_duckdb`` first lets DuckDB keep only the rows that *could* break a rule (a
predicate generated from each expectation, never weaker than it) plus a bounded sample,
and GX then evaluates the real suite on those: any violating row is in GX's frame, so it
fails the check and is named, and GX still sees real rows when nothing is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

SUITES_DIR = Path(__file__).parent / "suites"
MAX_REPORTED_ROWS = 50
MAX_KEPT_ROWS = 10_000
"""Failing rows kept per rule (for quarantine); the count is always exact."""
SAMPLE_ROWS = 20_000
"""About this many passing rows go to GX beside the candidates, whatever the table size."""


@dataclass(frozen=True)
class Failure:
    """One failed rule and the rows that broke it (up to MAX_REPORTED_ROWS of them)."""

    rule: str
    expectation: str
    unexpected_count: int
    rows: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    row_key: tuple[str, ...]
    evaluated: int
    row_count: int
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures

    def failing_rows(self, limit: int | None = MAX_REPORTED_ROWS) -> pd.DataFrame:
        """One row per (rule, offending row), up to ``limit`` per rule (None: all kept)."""
        records = [{"rule": f.rule, **row} for f in self.failures for row in f.rows[:limit]]
        return pd.DataFrame.from_records(records)

    def quarantine_rows(self, table_name: str) -> pd.DataFrame:
        """The failing rows in ``raw.quarantine``'s shape: key, date, rule, values as JSON."""
        entity, day = self.row_key[0], self.row_key[-1]
        records = [
            {
                "table_name": table_name,
                "key": None if row.get(entity) is None else str(row.get(entity)),
                "obs_date": row.get(day),
                "rule": f.rule,
                "value": json.dumps(
                    {k: v for k, v in row.items() if k not in self.row_key}, default=str
                ),
            }
            for f in self.failures
            for row in f.rows
        ]
        columns = ["table_name", "key", "obs_date", "rule", "value"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return frame.astype({"obs_date": "datetime64[ns]"})

    def summary(self) -> str:
        if self.passed:
            return f"{self.suite}: all {self.evaluated} rules passed on {self.row_count:,} rows"
        parts = []
        for f in self.failures:
            examples = "; ".join(describe_row(r, self.row_key) for r in f.rows[:5])
            more = f" (+{f.unexpected_count - 5:,} more)" if f.unexpected_count > 5 else ""
            parts.append(f"{f.rule}: {f.unexpected_count:,} rows, e.g. {examples}{more}")
        return f"{self.suite}: {len(self.failures)} rule(s) failed. " + " | ".join(parts)


def describe_row(row: dict, row_key: tuple[str, ...]) -> str:
    """``SPY 2024-03-05 (close=-1.0)``: the key first, then the offending values."""
    keys = [str(row[k]) for k in row_key if k in row]
    values = [f"{k}={v}" for k, v in row.items() if k not in row_key]
    return " ".join(keys) + (f" ({', '.join(values)})" if values else "")


@cache
def load_suite_json(name: str) -> dict:
    """The suite as stored in ``quality/suites/<name>.json``."""
    return json.loads((SUITES_DIR / f"{name}.json").read_text())


def validate_frame(suite_name: str, frame: pd.DataFrame, row_key: list[str]) -> SuiteOutcome:
    """Validate ``frame`` against a stored suite; failed rows are identified by ``row_key``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suite_json = load_suite_json(suite_name)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(name="warehouse")
        .add_dataframe_asset(name=suite_name)
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(**{k: v for k, v in suite_json.items() if k != "meta"})
    result = batch.validate(
        suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": row_key,
            "return_unexpected_index_query": False,
        },
    )
    failures = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        rule = (config.meta or {}).get("rule", config.type)
        detail = r.result or {}
        rows = [_clean(row, row_key) for row in (detail.get("unexpected_index_list") or [])]
        count = int(detail.get("unexpected_count") or len(rows) or 1)
        if r.exception_info and r.exception_info.get("raised_exception"):
            rule = f"{rule} (could not evaluate: {r.exception_info.get('exception_message')})"
        failures.append(Failure(rule, config.type, count, rows[:MAX_KEPT_ROWS]))
    return SuiteOutcome(suite_name, tuple(row_key), len(result.results), len(frame), failures)


def validate_in_duckdb(
    con,
    suite_name: str,
    checked_sql: str,
    params: list | dict,
    row_key: list[str],
    rows_checked: int,
    candidates: Mapping[str, str] | None = None,
) -> tuple[SuiteOutcome, int]:
    """Validate the rows of ``checked_sql`` with the stored suite, reading only what matters.

    DuckDB evaluates ``candidate_predicate`` over every row and returns the candidates plus
    a hash sample of about SAMPLE_ROWS rows; GX validates that frame. Returns the outcome
    (``row_count`` = ``rows_checked``, the rows the predicate covered) and the number of
    rows GX saw. ``candidates`` replaces the generated predicate of a rule (by its
    ``meta.rule``) with a cheaper one ``checked_sql`` computes, e.g. a flag from a window
    it already sorts; it must flag at least every row GX would reject.
    """
    suite = load_suite_json(suite_name)
    stride = max(1, -(-rows_checked // SAMPLE_ROWS))
    sample = f"hash({', '.join(_quote(c) for c in row_key)}) % {stride} = 0"
    sql = (
        f"SELECT * EXCLUDE (_candidate) FROM ("
        f"SELECT *, {candidate_predicate(suite, candidates)} AS _candidate "
        f"FROM ({checked_sql}) AS checked"
        f") WHERE _candidate OR {sample}"
    )
    frame = con.execute(sql, params).df()
    outcome = validate_frame(suite_name, frame, row_key)
    return (
        SuiteOutcome(
            outcome.suite, outcome.row_key, outcome.evaluated, rows_checked, outcome.failures
        ),
        len(frame),
    )


def candidate_predicate(suite: dict, overrides: Mapping[str, str] | None = None) -> str:
    """A DuckDB predicate true for every row any expectation of ``suite`` could reject.

    Generated from the suite itself, so a changed bound or a new rule needs no second
    edit. It may be wider than GX (NaN counts as a candidate everywhere; GX decides), never
    narrower: an expectation it cannot translate makes every row a candidate.
    """
    overrides = overrides or {}
    predicates = [
        overrides.get((e.get("meta") or {}).get("rule", ""), violation_sql(e))
        for e in suite["expectations"]
    ]
    return " OR ".join(f"coalesce({p}, false)" for p in predicates)


def violation_sql(expectation: dict) -> str:
    """The predicate for one expectation (see ``candidate_predicate``)."""
    kind, kw = expectation["type"], expectation.get("kwargs", {})
    if "mostly" in kw or "row_condition" in kw:
        return "true"  # GX would judge a fraction of the whole set: give it every row
    if kind == "expect_column_values_to_not_be_null":
        column = _quote(kw["column"])
        return f"({column} IS NULL OR {_nan(column)})"
    if kind == "expect_column_values_to_be_between":
        column, parts = _quote(kw["column"]), []
        if kw.get("min_value") is not None:
            op = "<=" if kw.get("strict_min") else "<"
            parts.append(f"{column} {op} {_literal(kw['min_value'])}")
        if kw.get("max_value") is not None:
            op = ">=" if kw.get("strict_max") else ">"
            parts.append(f"{column} {op} {_literal(kw['max_value'])}")
        return f"({' OR '.join([*parts, _nan(column)])})"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = _quote(kw["column_A"]), _quote(kw["column_B"])
        op = "<" if kw.get("or_equal") else "<="
        if kw.get("ignore_row_if", "both_values_are_missing") == "either_value_is_missing":
            return f"({a} {op} {b} OR {_nan(a)} OR {_nan(b)})"
        return f"({a} {op} {b} OR {a} IS NULL OR {b} IS NULL OR {_nan(a)} OR {_nan(b)})"
    if kind == "expect_compound_columns_to_be_unique":
        columns = ", ".join(_quote(c) for c in kw["column_list"])
        return f"(count(*) OVER (PARTITION BY {columns}) > 1)"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_literal(v) for v in kw["value_set"])
        return f"({_quote(kw['column'])} NOT IN ({values}))"
    if kind == "expect_column_values_to_match_regex":
        return f"(NOT regexp_matches({_quote(kw['column'])}, {_literal(kw['regex'])}))"
    return "true"


def _nan(column: str) -> str:
    """NaN: pandas and GX treat it as missing, DuckDB as a number above every other."""
    return f"isnan(TRY_CAST({column} AS DOUBLE))"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value) -> str:
    """A SQL literal for a suite value (numbers, booleans, strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _clean(row: dict, row_key: list[str]) -> dict:
    """Plain Python values, key columns first, so messages print rows cleanly."""
    out = {}
    for key in [*row_key, *(k for k in row if k not in row_key)]:
        if key not in row:
            continue
        value = row[key]
        if hasattr(value, "item"):
            value = value.item()
        if hasattr(value, "isoformat"):
            value = value.isoformat()[:10]
        out[key] = value
    return out
