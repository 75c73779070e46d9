"""The incremental marts equal a full refresh after every kind of new data.

fct_daily_prices, int_stock_valuation_daily and stock_valuation_daily build incrementally
(strategy ``ticker_window``), int_stock_period_returns by calendar period
(``period_window``). Each scenario loads raw rows through the one writer, runs ``dbt
build`` incrementally with its data tests scoped as the Dagster asset scopes them
(``data_tests_since``), then builds a copy of the same warehouse with ``--full-refresh``
and compares every row: (i) a day appended, (ii) a split and a dividend arriving in the
new window, (iii) a window reloaded with a revised close and a dropped day, (iv) a
quarter's fundamentals reloaded, revised, (v) a company's first EDGAR facts (its source
switches for its whole history), (vi) a new quarter's EDGAR filing of a company with
EDGAR facts (its days from the session after the filing change).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.defs.transform.dbt import (
    PRODUCTION_EXCLUDES,
    data_tests_since,
    edgar_tests_since,
    latest_load,
    record_tested,
)
from dagster_project.lib.sources import Window
from dagster_project.lib.sources.base import FrameChunks, as_frame
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS, FUNDAMENTALS, PRICES, UNIVERSE
from tests.unit.dbt_build import invoke_dbt

pytestmark = pytest.mark.slow

# two years: the EDGAR quarters of the first make trailing-twelve-month sums in the second
START, END = dt.date(2023, 1, 3), dt.date(2024, 12, 31)
MODELS = {
    "marts.fct_daily_prices": ["ticker", "trade_date"],
    "intermediate.int_stock_valuation_daily": ["ticker", "trade_date"],
    "intermediate.int_stock_period_returns": ["period_type", "period_start", "ticker"],
    "marts.stock_valuation_daily": ["ticker", "trade_date"],
}
LOAD_TIMES = ("loaded_at", "fundamentals_loaded_at", "edgar_loaded_at")
"""When rows were loaded: a reload that changes nothing keeps the earlier time in an
incremental build, so these are not compared."""


WITHOUT_EDGAR = ("HD", "FFIN")
"""Basket stocks (a large and a small one) whose EDGAR facts the built warehouse lacks."""

FILED_BY = dt.date(2024, 10, 1)
"""The built warehouse holds the EDGAR facts filed before this day; the rest come later."""


@pytest.fixture(scope="module")
def market() -> SampleSource:
    return SampleSource(seed=7, tickers=36, start=START, end=END)


@pytest.fixture(scope="module")
def edgar_facts(market) -> pd.DataFrame:
    """The sample's EDGAR fact versions of every stock, as the ingest asset fetches them."""
    universe = market.universe()
    facts = market.edgar_facts(sorted(universe.loc[universe["kind"] == "stock", "ticker"]))
    assert set(WITHOUT_EDGAR) <= set(facts["ticker"])
    return facts


def dbt(db: Path, tmp: Path, *flags: str, command: str = "run", since: dt.date | None = None):
    """``dbt <command>`` of the incremental models and everything upstream, in-process, as
    the Dagster asset runs it: ``since`` scopes the large relations' data tests, and dbt's
    unit tests (model logic on fixed inputs, run once per suite by ``test_dbt_project``)
    are left out of a ``build``."""
    result = invoke_dbt(
        db,
        tmp,
        command,
        "--select",
        "+int_stock_period_returns",
        "+stock_valuation_daily",
        *(PRODUCTION_EXCLUDES if command == "build" else ()),
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


def load_edgar(db: Path, facts: pd.DataFrame, at: dt.datetime) -> None:
    """Append EDGAR fact versions as the ingest asset does (new versions only)."""
    with wh.connect(db) as con:
        wh.ensure_raw_schema(con)
        wh.append_new_versions(con, EDGAR_FACTS, facts, "sample", at)


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


@pytest.fixture(scope="module")
def built_once(tmp_path_factory, market, edgar_facts) -> tuple[Path, list[dt.date]]:
    """A warehouse built through the sample's second to last session, with the EDGAR facts
    filed before FILED_BY of every stock but WITHOUT_EDGAR. Built once for the module;
    each test changes its own copy (``built``)."""
    tmp_path = tmp_path_factory.mktemp("incremental_base")
    db = tmp_path / "warehouse.duckdb"
    prices = as_frame(market.prices(Window(START, END)))
    days = sorted(pd.Timestamp(d).date() for d in prices["trade_date"].unique())
    load(db, UNIVERSE, market.universe(), None, at(1))
    load(db, FUNDAMENTALS, market.fundamentals(Window(START, END)), Window(START, END), at(1))
    held = ~edgar_facts["ticker"].isin(WITHOUT_EDGAR) & (
        edgar_facts["filed"] < pd.Timestamp(FILED_BY)
    )
    load_edgar(db, edgar_facts[held], at(1))
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


@pytest.fixture
def built(built_once, tmp_path) -> tuple[Path, list[dt.date]]:
    """The module's built warehouse, copied for one test to change."""
    source, days = built_once
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(source, db)
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


def valuations(db: Path, ticker: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return (
            con.execute(
                "SELECT * FROM marts.stock_valuation_daily WHERE ticker = ? ORDER BY trade_date",
                [ticker],
            )
            .df()
            .drop(columns=list(LOAD_TIMES))
        )


def test_a_companys_first_edgar_facts_equal_a_full_refresh(built, tmp_path, edgar_facts):
    """HD had no EDGAR facts: its first ones switch its earnings and shares to EDGAR on
    every day it traded, its first days included; the data tests then check every row."""
    db, days = built
    before = valuations(db, "HD")
    assert not before["uses_edgar_shares"].any()
    assert (before["shares_source"].dropna() == "fundamentals").all()
    load_edgar(db, edgar_facts[edgar_facts["ticker"] == "HD"], at(2))
    assert build_incrementally(db, tmp_path) is None
    assert_equals_full_refresh(db, tmp_path)
    after = valuations(db, "HD")
    assert after["uses_edgar_earnings"].all() and after["uses_edgar_shares"].all()
    assert (after["shares_source"].dropna() == "edgar").all()
    first = before["shares_source"].first_valid_index()  # its first day with a count
    assert after.loc[first, "shares_source"] != "fundamentals"


def test_a_new_edgar_filing_equals_a_full_refresh(built, tmp_path, edgar_facts):
    """AAPL's 10-Q filed after FILED_BY arrives: its figures change from the session after
    the filing on, not before; the data tests check the days from the filing date."""
    db, days = built
    filing = edgar_facts[
        (edgar_facts["ticker"] == "AAPL") & (edgar_facts["filed"] >= pd.Timestamp(FILED_BY))
    ]
    filed = filing["filed"].min().date()
    assert filing["filed"].nunique() == 1 and filed < days[-1]
    before = valuations(db, "AAPL")
    load_edgar(db, filing, at(2))
    assert build_incrementally(db, tmp_path) == filed
    assert_equals_full_refresh(db, tmp_path)
    after = valuations(db, "AAPL")
    upto = before["trade_date"] <= pd.Timestamp(filed)
    pd.testing.assert_frame_equal(after[upto], before[upto])
    changed = after.loc[~upto, "shares_as_of"] != before.loc[~upto, "shares_as_of"]
    assert changed.all()  # the new cover count counts from the next session


def fact(ticker: str, concept: str, start: str | None, end: str, filed: str) -> dict:
    """One EDGAR fact version of company 1 (net income in USD or a cover-page count)."""
    income = concept == "NetIncomeLoss"
    return {
        "ticker": ticker,
        "cik": "0000000001",
        "taxonomy": "us-gaap" if income else "dei",
        "concept": concept,
        "unit": "USD" if income else "shares",
        "period_start": start and pd.Timestamp(start),
        "period_end": pd.Timestamp(end),
        "value": 1.0,
        "fy": None,
        "fp": None,
        "form": "10-Q",
        "filed": pd.Timestamp(filed),
        "accn": f"0000000001-{filed}",
        "frame": None,
    }


QUARTER = ("X", "NetIncomeLoss", "2024-01-01", "2024-03-31", "2024-04-25")
YEAR = ("X", "NetIncomeLoss", "2023-01-01", "2023-12-31", "2024-02-20")
COVER = ("X", "EntityCommonStockSharesOutstanding", None, "2024-04-15", "2024-04-25")
NEXT_QUARTER = ("X", "NetIncomeLoss", "2024-04-01", "2024-06-30", "2024-07-26")
NEXT_COVER = ("X", "EntityCommonStockSharesOutstanding", None, "2024-07-15", "2024-07-26")


@pytest.mark.parametrize(
    ("held", "new", "expected"),
    [
        # nothing loaded since
        ([QUARTER, COVER], [], (False, None)),
        # a new 10-Q of a company with quarters and cover counts: from its filing day
        ([QUARTER, COVER], [NEXT_QUARTER, NEXT_COVER], (False, dt.date(2024, 7, 26))),
        # a company's first facts switch its source
        ([], [QUARTER, COVER], (True, dt.date(2024, 4, 25))),
        # its first quarter (only a fiscal year before: no EDGAR earnings then)
        ([YEAR, COVER], [NEXT_QUARTER], (True, dt.date(2024, 7, 26))),
        # its first cover count (a multi-class company's shares came from fundamentals)
        ([QUARTER], [NEXT_QUARTER, NEXT_COVER], (True, dt.date(2024, 7, 26))),
        # its facts now load under another symbol
        ([QUARTER, COVER], [("Y", *NEXT_QUARTER[1:])], (True, dt.date(2024, 7, 26))),
    ],
)
def test_edgar_facts_loaded_since_decide_what_the_data_tests_check(tmp_path, held, new, expected):
    """The filing day of the facts loaded since the last tested build, and whether they
    may switch a company's source (stock_valuation_daily then rewrites all its days)."""
    db = tmp_path / "warehouse.duckdb"
    for rows, day in ((held, 1), (new, 2)):
        if rows:
            load_edgar(db, pd.DataFrame([fact(*row) for row in rows]), at(day))
    with wh.connect(db) as con:
        wh.ensure_raw_schema(con)
        assert edgar_tests_since(con, at(1)) == expected
