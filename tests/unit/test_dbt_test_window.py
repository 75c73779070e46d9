"""The nightly dbt build tests the large per-day relations on the days it changed only.

``data_tests_since`` (the Dagster dbt asset) picks the first day the loads since the last
passed build can change; dbt's ``get_where_subquery`` (macros/incremental_test_window.sql)
scopes the data tests of the relations in var('incremental_test_windows') to it, read from
``ROTATION_DBT_TESTS_SINCE``; unset, every row is tested.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dagster_project.defs.transform.dbt import (
    QUARTER_LOOKBACK,
    data_tests_since,
    dbt_tested_through,
    latest_load,
    record_tested,
)
from dagster_project.lib.warehouse import store as wh
from tests.unit.dbt_build import invoke_dbt

T1, T2 = dt.datetime(2025, 1, 1, 22), dt.datetime(2025, 1, 2, 22)
DAYS = [dt.date(2024, 12, 30), dt.date(2024, 12, 31), dt.date(2025, 1, 2)]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse: two tickers priced on the first two days, loaded at T1, and
    A's first two quarters."""
    con = duckdb.connect()
    wh.ensure_raw_schema(con)
    for ticker in ("A", "B"):
        for day in DAYS[:2]:
            add_price(con, ticker, day, 10.0, T1)
    for period_end in (dt.date(2024, 3, 31), dt.date(2024, 6, 30)):
        add_quarter(con, "A", period_end, T1)
    yield con
    con.close()


def add_price(con, ticker: str, day: dt.date, close: float, at: dt.datetime, dividends=0.0):
    con.execute(
        "INSERT INTO raw.prices BY NAME SELECT ? AS ticker, ? AS trade_date, ? AS close, "
        "? AS dividends, 'test' AS source, ? AS loaded_at",
        [ticker, day, close, dividends, at],
    )


def add_quarter(con, ticker: str, period_end: dt.date, at: dt.datetime):
    con.execute(
        "INSERT INTO raw.fundamentals BY NAME SELECT ? AS ticker, ? AS period_end, "
        "1.0 AS eps, 100.0 AS shares_outstanding, 'test' AS source, ? AS loaded_at",
        [ticker, period_end, at],
    )


def test_nothing_recorded_tests_everything(con):
    assert dbt_tested_through(con) is None
    assert data_tests_since(con) is None


def test_a_new_day_is_tested_from_that_day(con):
    record_tested(con, latest_load(con), "run-1")
    assert dbt_tested_through(con) == T1
    for ticker in ("A", "B"):
        add_price(con, ticker, DAYS[2], 11.0, T2)
    assert data_tests_since(con) == DAYS[2]


def test_a_reloaded_window_is_tested_from_its_first_day(con):
    record_tested(con, T1, "run-1")
    add_price(con, "B", DAYS[2], 11.0, T2)
    con.execute("UPDATE raw.prices SET loaded_at = ? WHERE trade_date = ?", [T2, DAYS[1]])
    assert data_tests_since(con) == DAYS[1]


def test_nothing_new_still_tests_the_last_day(con):
    record_tested(con, T1, "run-1")
    assert data_tests_since(con) == DAYS[1]


def test_a_new_quarter_is_tested_from_two_quarters_before_it(con):
    record_tested(con, T1, "run-1")
    add_quarter(con, "A", dt.date(2024, 9, 30), T2)
    assert data_tests_since(con) == dt.date(2024, 9, 30) - QUARTER_LOOKBACK


def test_a_first_quarter_tests_everything(con):
    """A ticker's first quarter sets its cap weights over its whole history."""
    record_tested(con, T1, "run-1")
    add_quarter(con, "B", dt.date(2024, 9, 30), T2)
    assert data_tests_since(con) is None


def test_the_watermark_has_one_row_and_leaves_the_raw_gates_alone(con):
    con.execute(
        "INSERT INTO raw.quality_watermarks VALUES ('prices', ?, 4, now()::TIMESTAMP, 'gx')", [T1]
    )
    record_tested(con, T1, "run-1")
    record_tested(con, T2, "run-2")
    assert dbt_tested_through(con) == T2
    assert wh.validated_through(con, "prices") == T1


def dbt_test(db: Path, tmp: Path, since: str | None) -> list[str]:
    """``dbt test`` of stg_raw__prices; the failing tests' names."""
    result = invoke_dbt(
        db,
        tmp,
        "test",
        "--select",
        "stg_raw__prices",
        "--exclude",
        "test_type:unit",
        tests_since=since,
    )
    assert result.exception is None, result.exception
    return [r.node.name for r in result.result if str(r.status) != "pass"]


@pytest.mark.slow
def test_dbt_tests_only_the_window_when_given_one(tmp_path):
    """A bad row before the window is not re-tested nightly; a full build catches it."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        wh.ensure_raw_schema(con)
        add_price(con, "A", DAYS[0], 10.0, T1, dividends=-1.0)  # negative: fails the range
        add_price(con, "A", DAYS[1], 10.0, T1)
    (tmp_path / "target").mkdir()
    built = invoke_dbt(db, tmp_path, "run", "--select", "stg_raw__prices")
    assert built.success, built.exception

    assert dbt_test(db, tmp_path, since=DAYS[1].isoformat()) == []
    failing = dbt_test(db, tmp_path, since=None)
    assert failing == ["column_rules_stg_raw__prices"], failing
    failing = dbt_test(db, tmp_path, since=DAYS[0].isoformat())
    assert failing == ["column_rules_stg_raw__prices"], failing


@pytest.mark.slow
def test_a_malformed_window_stops_the_tests(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        wh.ensure_raw_schema(con)
    result = invoke_dbt(
        db,
        tmp_path,
        "test",
        "--select",
        "source:raw.prices",
        tests_since="2025-01-02'; drop table raw.prices; --",
    )
    assert not result.success
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM raw.prices").fetchall() == [(0,)]
