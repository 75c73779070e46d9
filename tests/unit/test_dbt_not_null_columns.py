"""The generic test ``not_null_columns`` (dbt/tests/generic/test_not_null_columns.sql).

It replaces dbt's per-column ``not_null`` with one scan per relation, so it must still
fail on any NULL in a listed column, and say which column and how many rows. Checked on
a scratch warehouse holding only a hand-made ``raw.prices`` (the source whose test lists
ticker and trade_date), without the NOT NULL constraints of the real DDL so the NULLs
can be written at all.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.unit.dbt_build import invoke_dbt

DAY = dt.date(2025, 1, 2)


def scratch_prices(db: Path, rows: list[tuple[str | None, dt.date | None]]) -> None:
    """A warehouse whose raw.prices holds just ``rows`` of (ticker, trade_date)."""
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.prices (ticker VARCHAR, trade_date DATE, close DOUBLE)")
        con.executemany("INSERT INTO raw.prices VALUES (?, ?, 1.0)", rows)


def null_columns(db: Path, tmp: Path) -> tuple[bool, list[tuple[str, int]]]:
    """Run raw.prices' not_null_columns test, storing its failing rows.

    Returns whether it passed and its result rows (column_name, null_rows).
    """
    result = invoke_dbt(
        db,
        tmp,
        "test",
        "--select",
        "source:raw.prices,test_name:not_null_columns",
        "--store-failures",
    )
    assert result.exception is None, result.exception
    (run,) = result.result
    passed = str(run.status) == "pass"
    with duckdb.connect(str(db)) as con:
        rows = con.execute(
            f"SELECT column_name, null_rows FROM {run.node.relation_name} ORDER BY column_name"
        ).fetchall()
    return passed, rows


@pytest.mark.slow
def test_a_null_fails_naming_the_column_and_its_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_prices(db, [("A", DAY), ("B", None), (None, None), (None, DAY)])
    (tmp_path / "target").mkdir()

    passed, rows = null_columns(db, tmp_path)

    assert not passed
    assert rows == [("ticker", 2), ("trade_date", 2)]


@pytest.mark.slow
def test_one_null_column_is_the_only_one_reported(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_prices(db, [("A", DAY), ("B", None)])
    (tmp_path / "target").mkdir()

    passed, rows = null_columns(db, tmp_path)

    assert not passed
    assert rows == [("trade_date", 1)]


@pytest.mark.slow
def test_filled_columns_pass_with_no_rows(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    scratch_prices(db, [("A", DAY), ("B", DAY)])
    (tmp_path / "target").mkdir()

    passed, rows = null_columns(db, tmp_path)

    assert passed
    assert rows == []
