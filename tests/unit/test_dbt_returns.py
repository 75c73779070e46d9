"""Return conventions through the whole dbt build: price vs total return per instrument,
a split and a dividend on the same day, and a prices table from before ``return_type``.

The dbt unit tests pin each formula on fixtures (int_prices_adjusted, fct_daily_prices);
this builds every model on a tiny raw warehouse, so the staged universe, the adjustment
macro and the incremental mart are checked together, and then rebuilds the mart from a
table that lacks the column, as a warehouse built before it would hold.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.unit.dbt_build import dbt_built_warehouse, invoke_dbt

LOADED_AT = dt.datetime(2024, 1, 10)
D1, D2, D3 = dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)

# ticker -> [(trade_date, close, dividends, splits)], as traded.
PRICES = {
    # GOOGL-like: a 2-for-1 split and a 0.50 dividend (per new share) on D2.
    "SAME": [(D1, 100.0, 0.0, None), (D2, 50.5, 0.5, 2.0), (D3, 51.0, 0.0, None)],
    # A price index whose row carries a dividend anyway: its level is not adjusted.
    "^IDX": [(D1, 1000.0, 0.0, None), (D2, 1010.0, 5.0, None), (D3, 1020.0, 0.0, None)],
    # Not in the universe: a price index by its '^' prefix.
    "^NDX": [(D1, 500.0, 0.0, None), (D2, 505.0, 0.0, None), (D3, 510.0, 0.0, None)],
    # A fund: dividends reinvested.
    "SPY": [(D1, 400.0, 0.0, None), (D2, 398.0, 2.0, None), (D3, 402.0, 0.0, None)],
}
UNIVERSE = [("SAME", "stock", "large"), ("^IDX", "index", "large"), ("SPY", "etf", "large")]


def _fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "INSERT INTO raw.prices (ticker, trade_date, close, dividends, splits, source,"
        " loaded_at) VALUES (?, ?, ?, ?, ?, 'test', ?)",
        [
            (ticker, day, close, dividends, splits, LOADED_AT)
            for ticker, rows in PRICES.items()
            for day, close, dividends, splits in rows
        ],
    )
    con.executemany(
        "INSERT INTO raw.universe (ticker, name, kind, size, style, sector,"
        " is_magnificent_7, source, loaded_at) VALUES (?, ?, ?, ?, 'blend', NULL, false,"
        " 'test', ?)",
        [(ticker, ticker, kind, size, LOADED_AT) for ticker, kind, size in UNIVERSE],
    )


def _prices(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, dt.date], tuple]:
    rows = con.execute(
        "SELECT ticker, trade_date, return_type, adj_close, daily_return, total_return_index"
        " FROM marts.fct_daily_prices"
    ).fetchall()
    return {(ticker, day): rest for ticker, day, *rest in rows}


def test_return_types_same_day_split_and_dividend_and_an_older_table(tmp_path):
    with dbt_built_warehouse(tmp_path, _fill_raw) as con:
        prices = _prices(con)
        types = {ticker: row[0] for (ticker, _), row in prices.items()}
        assert types == {"SAME": "total", "SPY": "total", "^IDX": "price", "^NDX": "price"}

        # The dividend over the previous close in post-split terms, 100 / 2 = 50: the
        # split day returns 50.5 / (50 - 0.5) - 1 = +2.02% (over the pre-split close,
        # factor (1 - 0.5/100) / 2, it would read 50.5 / 49.75 - 1 = +1.51%).
        assert prices[("SAME", D1)][1] == pytest.approx(49.5)
        assert prices[("SAME", D2)][2] == pytest.approx(50.5 / 49.5 - 1)
        # The price index keeps its level: price returns, index = level rebased to 100.
        assert prices[("^IDX", D2)][1:] == pytest.approx((1010.0, 0.01, 101.0))
        assert prices[("^NDX", D3)][1:] == pytest.approx((510.0, 510 / 505 - 1, 102.0))
        # The fund reinvests: 398 on a 2.00 dividend against 400 is a 0% total return.
        assert prices[("SPY", D2)][2] == pytest.approx(0.0)

        # A warehouse built before return_type existed: the next build rebuilds the table.
        con.execute("ALTER TABLE marts.fct_daily_prices DROP COLUMN return_type")
        con.close()
        db = tmp_path / "warehouse.duckdb"
        result = invoke_dbt(db, tmp_path, "run", "--select", "fct_daily_prices")
        assert result.success, result.exception
        rebuilt = duckdb.connect(str(db), read_only=True)
        try:
            assert _prices(rebuilt) == prices
        finally:
            rebuilt.close()
