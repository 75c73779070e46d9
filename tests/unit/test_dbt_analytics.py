"""The analytics marts on a tiny hand-made warehouse, checked against numbers worked by hand.

The warehouse holds five basket stocks (three small, one of them a loss-maker, and two
large, one of them a Magnificent 7), the IWM and SPY funds, five quarters of fundamentals
and a Fed path that holds, hikes twice and cuts three times. ``dbt build`` runs every
model, data test and unit test on it inside ``tmp_path`` (as in ``test_dbt_project.py``);
the assertions recompute each figure from the inputs below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest

from tests.unit.dbt_build import dbt_built_warehouse

LOADED_AT = dt.datetime(2024, 3, 2)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# The trading calendar: sparse on purpose (the models count rows, not weekdays).
DAYS = [
    d(x)
    for x in (
        "2023-11-14",
        "2023-11-15",
        "2023-12-29",
        "2024-01-02",
        "2024-01-03",
        "2024-01-24",
        "2024-01-25",
        "2024-01-31",
        "2024-02-01",
        "2024-02-29",
    )
]

# Closes as traded. S1 splits 2-for-1 on 2023-11-15 (40 -> 20); IWM pays 1.00 ex on
# 2024-01-24. MAG and BIG move in February only.
CLOSES = {
    "S1": {day: 40.0 if day < d("2023-11-15") else 20.0 for day in DAYS},
    "S2": {day: 30.0 for day in DAYS},
    "S3": {day: 50.0 for day in DAYS},
    "MAG": {day: 66.0 if day >= d("2024-02-01") else 60.0 for day in DAYS},
    "BIG": {day: 98.0 if day >= d("2024-02-01") else 100.0 for day in DAYS},
    "IWM": dict(zip(DAYS, [100, 100, 100, 100, 100, 101, 102, 103, 104, 105], strict=True)),
    "SPY": dict(zip(DAYS, [400, 400, 400, 400, 400, 404, 404, 408, 410, 412], strict=True)),
}
SPLITS = {("S1", d("2023-11-15")): 2.0}
DIVIDENDS = {("IWM", d("2024-01-24")): 1.0}

UNIVERSE = [
    # ticker, kind, size, sector, magnificent_7
    ("S1", "stock", "small", "Energy", False),
    ("S2", "stock", "small", "Information Technology", False),
    ("S3", "stock", "small", "Utilities", False),
    ("MAG", "stock", "large", "Information Technology", True),
    ("BIG", "stock", "large", "Energy", False),
    ("IWM", "etf", "small", None, False),
    ("SPY", "etf", "large", None, False),
]

QUARTERS = [d(x) for x in ("2022-12-31", "2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31")]
REPORTED = [d(x) for x in ("2023-02-10", "2023-04-28", "2023-07-28", "2023-10-27", "2024-01-25")]
UPCOMING = d("2024-03-31")  # not reported yet: no EPS, no report date, only an estimate
# ticker -> ([eps per quarter], [shares per quarter], estimate of the upcoming quarter)
FUNDAMENTALS = {
    # Q4 2023 is after the split: half the EPS on twice the shares, the same 100 dollars.
    "S1": ([0.6, 1.0, 1.0, 1.0, 0.5], [100, 100, 100, 100, 200], 0.625),
    "S2": ([0.5] * 5, [50] * 5, 0.75),
    "S3": ([-2.5] * 5, [10] * 5, -2.0),  # the loss-maker
    "MAG": ([0.5] * 5, [1000] * 5, 0.6),
    "BIG": ([1.25] * 5, [200] * 5, 1.5),
}

# The Fed: a hold, hikes decided 2023-12-13 and 2024-01-03, cuts decided 2024-01-24
# (25 bp), 2024-01-31 (50 bp) and 2024-02-29 (25 bp). FRED's range moves the day after.
RANGE_STARTS = [
    (d("2023-11-01"), 5.25, 5.50),
    (d("2023-12-14"), 5.50, 5.75),
    (d("2024-01-04"), 5.75, 6.00),
    (d("2024-01-25"), 5.50, 5.75),
    (d("2024-02-01"), 5.00, 5.25),
    (d("2024-03-01"), 4.75, 5.00),
]
RATE_DAYS = [d("2023-11-01") + dt.timedelta(days=i) for i in range(122)]  # to 2024-03-01


def _range_on(day: dt.date) -> tuple[float, float]:
    return [(lo, hi) for start, lo, hi in RANGE_STARTS if start <= day][-1]


def _fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "INSERT INTO raw.prices (ticker, trade_date, close, dividends, splits, source,"
        " loaded_at) VALUES (?, ?, ?, ?, ?, 'test', ?)",
        [
            (
                ticker,
                day,
                close,
                DIVIDENDS.get((ticker, day), 0.0),
                SPLITS.get((ticker, day)),
                LOADED_AT,
            )
            for ticker, closes in CLOSES.items()
            for day, close in closes.items()
        ],
    )
    con.executemany(
        "INSERT INTO raw.universe VALUES (?, ?, ?, ?, NULL, ?, ?, 'test', ?)",
        [(t, t, kind, size, sector, mag7, LOADED_AT) for t, kind, size, sector, mag7 in UNIVERSE],
    )
    rows = []
    for ticker, (eps, shares, estimate) in FUNDAMENTALS.items():
        for q, period_end in enumerate(QUARTERS):
            # the consensus sits a little below the actual; only the upcoming one is used
            rows.append((ticker, period_end, REPORTED[q], eps[q], eps[q] - 0.01, shares[q]))
        rows.append((ticker, UPCOMING, None, None, estimate, None))
    con.executemany(
        "INSERT INTO raw.fundamentals VALUES (?, ?, ?, ?, ?, ?, 'test', ?)",
        [(*row, LOADED_AT) for row in rows],
    )
    rates = []
    for day in RATE_DAYS:
        lower, upper = _range_on(day)
        rates += [("DFEDTARL", day, lower), ("DFEDTARU", day, upper)]
        if day.weekday() < 5:
            rates += [("DFF", day, lower + 0.08), ("DGS2", day, 4.25), ("DGS10", day, 4.0)]
    con.executemany(
        "INSERT INTO raw.rates VALUES (?, ?, ?, 'test', ?)",
        [(*row, LOADED_AT) for row in rates],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    with dbt_built_warehouse(tmp_path_factory.mktemp("dbt_analytics"), _fill_raw) as con:
        yield con


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    rows = _rows(con, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


NEW_MARTS = (
    "pe_discount",
    "fomc_decisions",
    "rate_cut_event_study",
    "rate_cut_event_summary",
    "sector_rotation",
    "megacap_contribution",
)


@pytest.mark.parametrize("mart", NEW_MARTS)
def test_every_new_mart_has_rows(warehouse, mart):
    assert warehouse.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] > 0


def test_pe_discount_has_a_row_per_trading_day(warehouse):
    days = warehouse.execute("SELECT trade_date FROM marts.pe_discount ORDER BY 1").fetchall()
    days = [day for (day,) in days]
    assert days == DAYS


def test_basket_pe_with_a_loss_maker_and_a_split(warehouse):
    row = _one(warehouse, "SELECT * FROM marts.pe_discount WHERE trade_date = ?", [d("2024-01-31")])
    # Market caps: S1 20 x (100 pre-split shares x 2) = 4000, S2 30 x 50 = 1500, S3 50 x 10 = 500.
    # TTM after the Q4 2023 reports: S1 1x100 x3 + 0.5x200 = 400, S2 0.5x50x4 = 100,
    # S3 -2.5x10x4 = -100: the loss counts. 6000 / 400 = 15.
    assert row["small_market_cap"] == pytest.approx(6000.0)
    assert row["small_ttm_earnings"] == pytest.approx(400.0)
    assert row["small_trailing_pe"] == pytest.approx(15.0)
    # Large: MAG 60 x 1000 = 60000 on 2000, BIG 100 x 200 = 20000 on 1000: 80000 / 3000.
    assert row["large_trailing_pe"] == pytest.approx(80000 / 3000)
    assert row["large_ex_mag7_trailing_pe"] == pytest.approx(20.0)
    assert row["discount"] == pytest.approx(15 / (80000 / 3000) - 1)  # -0.4375
    assert (row["small_names_priced"], row["small_names_trailing"]) == (3, 3)
    assert (row["small_constituents"], row["large_constituents"]) == (3, 2)
    # No rank day (end of May) in the data: the baskets are the raw.universe list, labelled.
    assert row["small_membership_method"] == row["large_membership_method"] == "static_list"
    # Forward P/E only from valuation snapshots that existed on the day, and there are
    # none (the consensus in raw.fundamentals is not dated: using it would look ahead).
    assert row["small_forward_pe"] is None and row["large_forward_pe"] is None
    assert row["small_forward_pe_null_reason"] == row["large_forward_pe_null_reason"]
    assert row["small_forward_pe_null_reason"] == "no_snapshot"
    assert row["small_names_forward"] == 0
    assert row["small_snapshot_trailing_pe"] is None and row["snapshot_discount"] is None


def test_pe_uses_only_quarters_reported_by_the_day(warehouse):
    rows = {
        r["trade_date"]: r
        for r in _rows(warehouse, "SELECT * FROM marts.pe_discount ORDER BY trade_date")
    }
    # Before Q4 2023 is usable, S1's TTM is Q4 2022..Q3 2023: 0.6x100 + 3x100 = 360, so
    # the small basket earns 360 and trades at 6000 / 360. Q4 is reported on 2024-01-25
    # with no time of day: it counts from the next session (2024-01-31 in this sparse
    # calendar), never at the report day's own close.
    assert rows[d("2024-01-24")]["small_ttm_earnings"] == pytest.approx(360.0)
    assert rows[d("2024-01-24")]["small_trailing_pe"] == pytest.approx(6000 / 360)
    assert rows[d("2024-01-25")]["small_ttm_earnings"] == pytest.approx(360.0)
    assert rows[d("2024-01-31")]["small_ttm_earnings"] == pytest.approx(400.0)
    # Before and after the split the market cap is the same 4000 (S1 40 x 100 = 20 x 200).
    assert rows[d("2023-11-14")]["small_market_cap"] == pytest.approx(6000.0)
    assert rows[d("2023-11-15")]["small_market_cap"] == pytest.approx(6000.0)
    # Seven days at -0.375, then -0.4375: far less history than the three years the
    # percentile and median need (the pe_discount unit test works them out).
    early = 6000 / 360 / (80000 / 3000) - 1
    assert early == pytest.approx(-0.375)
    assert rows[d("2024-01-24")]["discount_history_sessions"] == 6
    assert rows[d("2024-01-31")]["discount_history_sessions"] == 8
    assert rows[d("2024-01-31")]["discount_percentile"] is None
    assert rows[d("2024-01-31")]["discount_median_to_date"] is None


def test_fomc_cycles_after_a_hold_two_hikes_and_three_cuts(warehouse):
    rows = _rows(
        warehouse,
        "SELECT decision_date, change_bp, new_target_lower, new_target_upper, direction,"
        " cycle_id, is_first_cut_of_cycle, is_first_hike_of_cycle, move_number_in_cycle,"
        " cycle_flag_reason FROM marts.fomc_decisions ORDER BY decision_date",
    )
    assert [
        (
            r["decision_date"],
            r["change_bp"],
            r["direction"],
            r["cycle_id"],
            r["is_first_cut_of_cycle"],
            r["is_first_hike_of_cycle"],
        )
        for r in rows
    ] == [
        # the first move in the data: whether it opened its cycle is unknown
        (d("2023-12-13"), 25.0, "hike", "tightening-2023-12-13", None, None),
        (d("2024-01-03"), 25.0, "hike", "tightening-2023-12-13", False, False),
        (d("2024-01-24"), -25.0, "cut", "easing-2024-01-24", True, False),
        (d("2024-01-31"), -50.0, "cut", "easing-2024-01-24", False, False),
        (d("2024-02-29"), -25.0, "cut", "easing-2024-01-24", False, False),
    ]
    assert (rows[3]["new_target_lower"], rows[3]["new_target_upper"]) == (5.0, 5.25)
    assert [r["move_number_in_cycle"] for r in rows] == [1, 2, 1, 2, 3]
    assert [r["cycle_flag_reason"] for r in rows] == [
        "first_move_in_data",
        "continuation",
        "reversal",
        "continuation",
        "continuation",
    ]


def test_fed_policy_daily_regime_and_days_since_first_cut(warehouse):
    rows = {
        r["calendar_date"]: r
        for r in _rows(
            warehouse,
            "SELECT calendar_date, regime, cycle_type, days_since_first_cut, last_trading_date"
            " FROM marts.fed_policy_daily",
        )
    }
    # Before the first move in the data, when the Fed last moved is unknown: not "hold".
    assert rows[d("2023-12-01")]["regime"] == "unknown"
    assert rows[d("2023-12-01")]["days_since_first_cut"] is None
    assert rows[d("2024-01-10")]["regime"] == "tightening"
    assert rows[d("2024-01-24")]["days_since_first_cut"] == 0
    assert rows[d("2024-02-10")]["regime"] == "easing"
    assert rows[d("2024-02-10")]["days_since_first_cut"] == 17
    # A non-trading day reads the latest trading day before it.
    assert rows[d("2024-02-10")]["last_trading_date"] == d("2024-02-01")


def _adj_close(con: duckdb.DuckDBPyConnection, ticker: str, day: dt.date) -> float:
    return con.execute(
        "SELECT adj_close FROM marts.fct_daily_prices WHERE ticker = ? AND trade_date = ?",
        [ticker, day],
    ).fetchone()[0]


def test_event_study_row_equals_returns_from_the_prices_table(warehouse):
    row = _one(
        warehouse,
        "SELECT * FROM marts.rate_cut_event_study"
        " WHERE pair = 'IWM/SPY' AND decision_date = ? AND horizon_days = 5",
        [d("2024-01-24")],
    )
    # The close before the 01-24 decision is 01-03's; five trading days on is 02-29.
    assert (row["base_date"], row["end_date"]) == (d("2024-01-03"), d("2024-02-29"))
    small = _adj_close(warehouse, "IWM", d("2024-02-29")) / _adj_close(
        warehouse, "IWM", d("2024-01-03")
    )
    large = _adj_close(warehouse, "SPY", d("2024-02-29")) / _adj_close(
        warehouse, "SPY", d("2024-01-03")
    )
    assert row["small_return"] == pytest.approx(small - 1, abs=1e-12)
    assert row["large_return"] == pytest.approx(large - 1, abs=1e-12)
    assert row["relative_return"] == pytest.approx(small - large, abs=1e-12)
    # By hand: IWM's 1.00 dividend (ex 01-24, previous close 100) scales earlier closes by
    # 0.99, so IWM returns 105 / 99 - 1; SPY 412 / 400 - 1.
    assert row["small_return"] == pytest.approx(105 / 99 - 1)
    assert row["large_return"] == pytest.approx(412 / 400 - 1)
    assert row["is_first_cut_of_cycle"] is True
    # One trading day is the decision day's own close: IWM 101 / 99 - 1.
    one_day = _one(
        warehouse,
        "SELECT end_date, small_return FROM marts.rate_cut_event_study"
        " WHERE pair = 'IWM/SPY' AND decision_date = ? AND horizon_days = 1",
        [d("2024-01-24")],
    )
    assert one_day["end_date"] == d("2024-01-24")
    assert one_day["small_return"] == pytest.approx(101 / 99 - 1)
    # 21 trading days run past the data: the row stays, without returns.
    past = _one(
        warehouse,
        "SELECT end_date, small_return, is_complete FROM marts.rate_cut_event_study"
        " WHERE pair = 'IWM/SPY' AND decision_date = ? AND horizon_days = 21",
        [d("2024-01-24")],
    )
    assert past == {"end_date": None, "small_return": None, "is_complete": False}


def test_event_summary_counts_first_cuts_and_all_cuts(warehouse):
    rows = {
        r["cut_set"]: r
        for r in _rows(
            warehouse,
            "SELECT * FROM marts.rate_cut_event_summary WHERE pair = 'IWM/SPY'"
            " AND horizon_days = 1",
        )
    }
    # Every cut has a next close; only the 01-24 cut opened its cycle.
    assert rows["all_cuts"]["n_events"] == 3
    assert rows["first_cuts"]["n_events"] == 1
    # Returns are summarised to 4 decimals (1 bp).
    assert rows["first_cuts"]["avg_small_return"] == round(101 / 99 - 1, 4)
    assert rows["first_cuts"]["n_cycles"] == 1
    assert rows["first_cuts"]["se_relative_return"] is None  # one cycle: no interval
    # The three cuts belong to one cycle, and their 1-day windows (01-03 to 01-24,
    # 01-25 to 01-31, 02-01 to 02-29 on this sparse calendar) do not overlap.
    assert rows["all_cuts"]["n_cycles"] == 1
    assert rows["all_cuts"]["n_non_overlapping"] == 3


def test_magnificent_7_share_of_a_two_stock_index(warehouse):
    row = _one(
        warehouse,
        "SELECT * FROM marts.megacap_contribution"
        " WHERE period_type = 'month' AND period_start = DATE '2024-02-01'",
    )
    # Weights at the 01-31 close: MAG 60 x 1000 = 60000, BIG 100 x 200 = 20000 -> 0.75 / 0.25.
    # February: MAG 60 -> 66 (+10%), BIG 100 -> 98 (-2%).
    assert row["base_date"] == d("2024-01-31") and row["end_date"] == d("2024-02-29")
    assert row["mag7_start_weight"] == pytest.approx(0.75)
    assert row["mag7_contribution"] == pytest.approx(0.075)
    assert row["rest_contribution"] == pytest.approx(-0.005)
    assert row["index_return"] == pytest.approx(0.07)
    assert row["mag7_share"] == pytest.approx(0.075 / 0.07)
    assert row["benchmark_return"] == pytest.approx(412 / 408 - 1)
    assert row["mag7_share_of_benchmark"] == pytest.approx(0.075 / (412 / 408 - 1))
    assert row["membership_method"] == "static_list"


def test_sector_rotation_months_and_buckets(warehouse):
    rows = _rows(
        warehouse,
        "SELECT size_bucket, sector, sector_return, return_rank, weighting, n_cap_weighted"
        " FROM marts.sector_rotation"
        " WHERE month_start = DATE '2024-02-01' ORDER BY size_bucket, return_rank, sector",
    )
    assert [(r["size_bucket"], r["sector"], r["return_rank"]) for r in rows] == [
        ("large", "Information Technology", 1),
        ("large", "Energy", 2),
        ("small", "Energy", 1),
        ("small", "Information Technology", 1),
        ("small", "Utilities", 1),
    ]
    assert rows[0]["sector_return"] == pytest.approx(0.1)
    assert rows[1]["sector_return"] == pytest.approx(-0.02)
    # Every name has a market cap known at the 01-31 close (its reported shares x close):
    # cap-weighted, one name per sector here (the unit test weighs several).
    assert {(r["weighting"], r["n_cap_weighted"]) for r in rows} == {("cap", 1)}
