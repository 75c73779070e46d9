"""The incremental marts equal a full refresh after every kind of new data.

fct_daily_prices and int_stock_valuation_daily build incrementally (strategy
``ticker_window``), int_stock_period_returns by calendar period (``period_window``). Each
scenario loads raw rows through the one writer, runs ``dbt build`` incrementally with its
data tests scoped as the Dagster asset scopes them (``data_tests_since``), then builds a
copy of the same warehouse with ``--full-refresh`` and compares every row: (i) a day
appended, (ii) a split and a dividend arriving in the new window, (iii) a window reloaded
with a revised close and a dropped day, (iv) a quarter's fundamentals reloaded, revised.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.defs.transform.dbt import data_tests_since, latest_load, record_tested
from dagster_project.lib.sources import Window
from dagster_project.lib.sources.base import FrameChunks, as_frame
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, PRICES, UNIVERSE
from tests.unit.dbt_build import invoke_dbt

pytestmark = pytest.mark.slow

START, END = dt.date(2024, 1, 2), dt.date(2024, 12, 31)
MODELS = {
    "marts.fct_daily_prices": ["ticker", "trade_date"],
    "intermediate.int_stock_valuation_daily": ["ticker", "trade_date"],
    "intermediate.int_stock_period_returns": ["period_type", "period_start", "ticker"],
}
LOAD_TIMES = ("loaded_at", "fundamentals_loaded_at")
"""When rows were loaded: a reload that changes nothing keeps the earlier time in an
incremental build, so these are not compared."""


@pytest.fixture(scope="module")
def market() -> SampleSource:
    return SampleSource(seed=7, tickers=36, start=START, end=END)


def dbt(db: Path, tmp: Path, *flags: str, command: str = "run", since: dt.date | None = None):
    """``dbt <command>`` of the incremental models and everything upstream, in-process;
    ``since`` scopes the large relations' data tests as the Dagster asset does."""
    result = invoke_dbt(
        db,
        tmp,
        command,
        "--select",
        "+int_stock_period_returns",
        *flags,
        tests_since=since and since.isoformat(),
    )
    failed = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success and not failed, result.exception or failed


def build_incrementally(db: Path, tmp: Path) -> dt.date | None:
    """``dbt build`` (models and tests) as the nightly runs it: the tests of the large
    relations scoped to the days since the last passed build, which then moves on."""
    with duckdb.connect(str(db)) as con:
        since, through = data_tests_since(con), latest_load(con)
    dbt(db, tmp, command="build", since=since)
    with duckdb.connect(str(db)) as con:
        record_tested(con, through, "test")
    return since


def load(
    db: Path, table, frame: pd.DataFrame | FrameChunks, window: Window | None, at: dt.datetime
) -> None:
    with wh.connect(db) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(con, table, frame, "sample", window, at)


def contents(db: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY {', '.join(key)}")
            .df()
            .drop(columns=list(LOAD_TIMES), errors="ignore")
            for name, key in MODELS.items()
        }


def assert_equals_full_refresh(db: Path, tmp: Path) -> None:
    copy = tmp / "full_refresh.duckdb"
    shutil.copy(db, copy)
    dbt(copy, tmp, "--full-refresh")
    incremental, full = contents(db), contents(copy)
    for name in MODELS:
        assert len(incremental[name]) == len(full[name]) > 0, name
        pd.testing.assert_frame_equal(incremental[name], full[name], rtol=1e-9, obj=name)
    copy.unlink()


def at(day: int) -> dt.datetime:
    return dt.datetime(2025, 1, day, 22)


@pytest.fixture
def built(tmp_path, market) -> tuple[Path, list[dt.date]]:
    """A warehouse built through the sample's second to last session."""
    db = tmp_path / "warehouse.duckdb"
    prices = as_frame(market.prices(Window(START, END)))
    days = sorted(pd.Timestamp(d).date() for d in prices["trade_date"].unique())
    load(db, UNIVERSE, market.universe(), None, at(1))
    load(db, FUNDAMENTALS, market.fundamentals(Window(START, END)), Window(START, END), at(1))
    load(
        db,
        PRICES,
        prices[prices["trade_date"] < pd.Timestamp(days[-1])],
        Window(START, days[-2]),
        at(1),
    )
    dbt(db, tmp_path)
    with duckdb.connect(str(db)) as con:
        record_tested(con, latest_load(con), "test")
    return db, days


def test_appending_a_day_equals_a_full_refresh(built, tmp_path, market):
    db, days = built
    last = Window(days[-1], days[-1])
    load(db, PRICES, market.prices(last), last, at(2))
    load(db, FUNDAMENTALS, market.fundamentals(last), last, at(2))
    assert build_incrementally(db, tmp_path) == days[-1]
    assert_equals_full_refresh(db, tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        periods = con.execute(
            "SELECT count(*) FROM intermediate.int_stock_period_returns WHERE end_date = ?",
            [days[-1]],
        ).fetchall()[0][0]
    assert periods > 0  # the current month and year now end on the new day


def test_a_split_and_a_dividend_in_the_new_window_equal_a_full_refresh(built, tmp_path, market):
    db, days = built
    frame = as_frame(market.prices(Window(days[-1], days[-1]))).reset_index(drop=True)
    stocks = sorted(set(market.universe().query("kind == 'stock'")["ticker"]))
    split, dividend = frame["ticker"] == stocks[0], frame["ticker"] == stocks[1]
    for column in ("open", "high", "low", "close"):
        frame.loc[split, column] = frame.loc[split, column] / 2
    frame.loc[split, "splits"] = 2.0
    frame.loc[dividend, "dividends"] = 0.5
    load(db, PRICES, frame, Window(days[-1], days[-1]), at(2))
    build_incrementally(db, tmp_path)
    assert_equals_full_refresh(db, tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        first_adj, first_close = con.execute(
            "SELECT adj_close, close FROM marts.fct_daily_prices WHERE ticker = ? "
            "ORDER BY trade_date LIMIT 1",
            [stocks[0]],
        ).fetchall()[0]
    assert first_adj < first_close * 0.51  # the whole history was re-adjusted


def test_reloading_a_window_with_revisions_equals_a_full_refresh(built, tmp_path, market):
    db, days = built
    window = Window(days[-12], days[-6])
    frame = as_frame(market.prices(window)).reset_index(drop=True)
    stocks = sorted(set(market.universe().query("kind == 'stock'")["ticker"]))
    revised = (frame["ticker"] == stocks[2]) & (frame["trade_date"] == pd.Timestamp(days[-9]))
    frame.loc[revised, "close"] = frame.loc[revised, "close"] * 1.01
    frame.loc[revised, "high"] = frame.loc[revised, "high"] * 1.01
    dropped = (frame["ticker"] == stocks[3]) & (frame["trade_date"] == pd.Timestamp(days[-8]))
    load(db, PRICES, frame[~dropped], window, at(2))
    assert build_incrementally(db, tmp_path) == days[-12]
    assert_equals_full_refresh(db, tmp_path)


def test_a_revised_quarter_of_fundamentals_equals_a_full_refresh(built, tmp_path, market):
    db, days = built
    quarter = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))
    frame = market.fundamentals(quarter).reset_index(drop=True)
    assert len(frame) > 0
    frame["shares_outstanding"] = frame["shares_outstanding"] * 1.25
    load(db, FUNDAMENTALS, frame, quarter, at(2))
    since = build_incrementally(db, tmp_path)
    assert since is not None and since <= frame["period_end"].min().date() - dt.timedelta(190)
    assert_equals_full_refresh(db, tmp_path)


def test_a_failed_build_keeps_its_days_under_test(built, tmp_path, market):
    """The models move on even when a test fails; the tested watermark does not."""
    db, days = built
    last = Window(days[-1], days[-1])
    load(db, PRICES, market.prices(last), last, at(2))
    dbt(db, tmp_path)  # built, as a build whose tests then failed would leave it
    with duckdb.connect(str(db)) as con:
        assert data_tests_since(con) == days[-1]
