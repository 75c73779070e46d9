"""Run a Great Expectations 1.x suite on a pandas frame and describe what failed.

GX's SQL datasource returns nothing on DuckDB 2.0, so the checks read the table into
pandas with DuckDB and validate the frame; the suites stay plain GX JSON under version
control (``quality/suites/``), so GX Data Docs can render them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

SUITES_DIR = Path(__file__).parent / "suites"
MAX_REPORTED_ROWS = 50


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

    def failing_rows(self) -> pd.DataFrame:
        """One row per (rule, offending row), for metadata tables and quarantine."""
        records = [{"rule": f.rule, **row} for f in self.failures for row in f.rows]
        return pd.DataFrame.from_records(records)

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
        failures.append(Failure(rule, config.type, count, rows[:MAX_REPORTED_ROWS]))
    return SuiteOutcome(suite_name, tuple(row_key), len(result.results), len(frame), failures)


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
