"""The sample source: deterministic, in the canonical schemas, and plausible as a market."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from dagster_project.lib.sources.base import Window, as_frame
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.sources.sample.extremes import DELISTED, EARLY_INDEX_END
from dagster_project.lib.sources.sample.universe import (
    LARGE_CAP,
    SECTORS,
    SMALL_CAP,
    interleave_by_sector,
    load_universe,
    share_evenly,
)
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, PRICES, RATES, UNIVERSE, RawTable

END = dt.date(2025, 12, 31)
FIXED_TICKERS = 29
"""Index proxies, sector funds and the Magnificent 7: kept at every scale."""


def everything(source: SampleSource) -> Window:
    return Window(source.start, source.end)


@pytest.fixture(scope="module")
def small() -> SampleSource:
    return SampleSource(tickers=40, years=3)


@pytest.fixture(scope="module")
def small_prices(small) -> pd.DataFrame:
    return as_frame(small.prices(everything(small)))


@pytest.fixture(scope="module")
def decade() -> SampleSource:
    """Enough tickers and years for splits and P/E medians, still fast."""
    return SampleSource(tickers=80, years=10)


@pytest.fixture(scope="module")
def decade_prices(decade) -> pd.DataFrame:
    return as_frame(decade.prices(everything(decade))).sort_values(["ticker", "trade_date"])


@pytest.fixture(scope="module")
def full_history() -> SampleSource:
    """The whole 1990-2025 history of the fixed tickers only."""
    return SampleSource(tickers=FIXED_TICKERS)


# --- determinism --------------------------------------------------------------------


def test_same_arguments_give_identical_frames(small):
    again = SampleSource(tickers=40, years=3)
    window = everything(small)
    for method in ("prices", "fundamentals", "rates"):
        assert_frame_equal(
            as_frame(getattr(small, method)(window)), as_frame(getattr(again, method)(window))
        )
    assert_frame_equal(small.universe(), again.universe())


def test_another_seed_gives_another_market(small, small_prices):
    other = as_frame(SampleSource(seed=7, tickers=40, years=3).prices(everything(small)))
    assert not np.allclose(other["close"], small_prices["close"])


def test_extending_end_leaves_earlier_rows_unchanged():
    start, short_end = dt.date(2019, 1, 1), dt.date(2021, 6, 30)
    short = SampleSource(tickers=35, start=start, end=short_end)
    longer = SampleSource(tickers=35, start=start, end=dt.date(2023, 3, 15))
    window = Window(start, short_end)
    assert_frame_equal(short.rates(window), longer.rates(window))
    # The one exception (``extremes.EARLY_INDEX_END``): ^RUT's series ends 8 sessions
    # before ``end``, so the longer history has ^RUT on the short one's last 8 sessions.
    short_prices, longer_prices = as_frame(short.prices(window)), as_frame(longer.prices(window))
    last_sessions = np.sort(short_prices["trade_date"].unique())[-EARLY_INDEX_END.sessions :]
    revealed = (longer_prices["ticker"] == EARLY_INDEX_END.ticker) & longer_prices[
        "trade_date"
    ].isin(last_sessions)
    assert revealed.sum() == EARLY_INDEX_END.sessions
    assert_frame_equal(short_prices, longer_prices[~revealed].reset_index(drop=True))
    known = longer.fundamentals(window)
    known = known[known["report_date"] <= pd.Timestamp(short_end)].reset_index(drop=True)
    assert_frame_equal(short.fundamentals(window), known)


def test_a_ticker_keeps_its_path_when_the_universe_grows(small, small_prices):
    bigger = as_frame(SampleSource(tickers=120, years=3).prices(everything(small)))
    common = bigger[bigger["ticker"].isin(set(small_prices["ticker"]))]
    key = ["ticker", "trade_date"]
    assert_frame_equal(
        small_prices.sort_values(key).reset_index(drop=True),
        common.sort_values(key).reset_index(drop=True),
    )


# --- schemas ------------------------------------------------------------------------


def assert_payload(frame: pd.DataFrame, table: RawTable) -> None:
    assert list(frame.columns) == list(table.payload)
    for column, sql_type in table.payload.items():
        dtype = frame[column].dtype
        if sql_type.startswith("DOUBLE"):
            assert dtype == np.float64, column
        elif sql_type.startswith("DATE"):
            assert pd.api.types.is_datetime64_dtype(dtype), column
        elif sql_type.startswith("BOOLEAN"):
            assert pd.api.types.is_bool_dtype(dtype), column


def test_frames_have_exactly_the_payload_columns(small, small_prices):
    window = everything(small)
    assert_payload(small_prices, PRICES)
    assert_payload(small.fundamentals(window), FUNDAMENTALS)
    assert_payload(small.rates(window), RATES)
    assert_payload(small.universe(), UNIVERSE)


def test_an_empty_window_gives_empty_frames_with_the_payload_columns(small):
    holiday = Window(dt.date(2024, 7, 4), dt.date(2024, 7, 4))
    assert as_frame(small.prices(holiday)).empty
    assert_payload(as_frame(small.prices(holiday)), PRICES)
    before = Window(dt.date(1995, 1, 1), dt.date(1995, 12, 31))
    assert small.fundamentals(before).empty
    assert_payload(small.fundamentals(before), FUNDAMENTALS)


def test_source_is_labelled_synthetic(small):
    assert small.label == "sample"
    assert small.synthetic is True


# --- prices -------------------------------------------------------------------------


def test_ohlc_is_consistent_and_positive(small_prices):
    p = small_prices
    assert (p["low"] > 0).all()
    assert (p["low"] <= p[["open", "close"]].min(axis=1)).all()
    assert (p[["open", "close"]].max(axis=1) <= p["high"]).all()
    assert (p["volume"] > 0).all()
    assert p["adj_close"].isna().all()


def test_trade_dates_are_exactly_the_nyse_sessions(small, small_prices):
    days = pd.DatetimeIndex(small_prices["trade_date"].unique())
    calendar = xcals.get_calendar("XNYS", start=small.start, end=small.end)
    assert days.equals(pd.DatetimeIndex(calendar.sessions))
    assert pd.Timestamp("2024-07-04") not in days
    assert pd.Timestamp("2024-07-06") not in days  # a Saturday
    # every ticker on every session, but ^RUT, whose series ends 8 sessions early
    priced = small_prices.groupby("trade_date")["ticker"].count()
    assert (priced.iloc[: -EARLY_INDEX_END.sessions] == 40).all()
    assert (priced.iloc[-EARLY_INDEX_END.sessions :] == 39).all()


def test_a_window_returns_only_its_sessions(small):
    window = Window(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    dates = as_frame(small.prices(window))["trade_date"]
    assert dates.min() >= pd.Timestamp(window.start)
    assert dates.max() <= pd.Timestamp(window.end)
    assert dates.nunique() == 20


def test_plausible_index_levels(full_history):
    prices = as_frame(full_history.prices(Window(dt.date(1990, 1, 2), dt.date(1990, 1, 31))))
    first = prices.groupby("ticker")["close"].first()
    assert 300 < first["^GSPC"] < 420
    assert 140 < first["^RUT"] < 200


def test_split_day_drops_the_close_by_the_ratio_and_undoing_it_is_continuous(decade_prices):
    p = decade_prices.assign(previous=decade_prices.groupby("ticker")["close"].shift())
    splits = p[p["splits"] > 0]
    assert len(splits) >= 2, "expected some stocks to split over ten years"
    assert set(splits["splits"]) <= {2.0, 3.0, 4.0, 9.0, 10.0, 16.0}
    drop = splits["previous"] / splits["close"]
    assert ((drop / splits["splits"]).between(0.75, 1.33)).all()
    undone = splits["close"] * splits["splits"] / splits["previous"]
    assert undone.between(0.8, 1.25).all()
    assert set(splits["ticker"]) <= set(p.loc[p["ticker"].str.isalpha(), "ticker"])


def test_dividends_drop_the_close_and_funds_pay_quarterly(decade_prices):
    p = decade_prices.assign(previous=decade_prices.groupby("ticker")["close"].shift())
    ex = p[p["dividends"] > 0].dropna(subset=["previous"])
    with_dividend = (ex["close"] + ex["dividends"]) / ex["previous"] - 1
    without = ex["close"] / ex["previous"] - 1
    assert abs(with_dividend.median()) < 0.003
    assert without.median() < with_dividend.median()
    payments = p[p["dividends"] > 0].groupby("ticker").size()
    assert payments["SPY"] == pytest.approx(40, abs=1)
    assert "^GSPC" not in payments and "^RUT" not in payments


def test_small_caps_are_more_volatile_and_highly_correlated(full_history):
    prices = as_frame(full_history.prices(everything(full_history)))
    closes = prices.pivot(index="trade_date", columns="ticker", values="close")
    returns = np.log(closes[["^GSPC", "^RUT"]]).diff().dropna()
    vols = returns.std()
    assert 0.007 < vols["^GSPC"] < 0.014
    assert vols["^RUT"] > vols["^GSPC"]
    assert 0.75 <= returns.corr().loc["^GSPC", "^RUT"] <= 0.95


# --- scaling --------------------------------------------------------------------------


def test_tickers_n_gives_exactly_n_tickers(small, small_prices):
    assert small_prices["ticker"].nunique() == 40
    assert len(small.universe()) == 40
    universe = small.universe().set_index("ticker")
    assert universe.loc["AAPL", "is_magnificent_7"]
    assert {"^GSPC", "^RUT", "XLK", "XLC"} <= set(universe.index)


def test_trimmed_baskets_share_the_slots_evenly(small):
    stocks = [i for i in small.instruments if i.basket is not None]
    sizes = pd.Series([i.basket for i in stocks]).value_counts()
    assert sizes[LARGE_CAP] - sizes[SMALL_CAP] in (0, 1)
    assert len({i.sector for i in stocks if i.basket == LARGE_CAP}) == sizes[LARGE_CAP]


def test_large_n_adds_synthetic_stocks():
    source = SampleSource(tickers=150, years=1)
    universe = source.universe()
    assert len(universe) == 150
    synthetic = universe[universe["ticker"].str.startswith("SYN")]
    assert synthetic["ticker"].iloc[0] == "SYN00001"
    assert set(synthetic["size"]) == {"small", "large"}
    assert synthetic["sector"].nunique() == len(SECTORS)
    priced = set(as_frame(source.prices(everything(source)))["ticker"])
    assert priced == set(universe["ticker"]) - {DELISTED.ticker}  # delisted in 2016


def test_fixed_tickers_alone_are_allowed_and_fewer_are_not():
    assert len(SampleSource(tickers=FIXED_TICKERS, years=1).universe()) == FIXED_TICKERS
    with pytest.raises(ValueError, match="too few"):
        SampleSource(tickers=FIXED_TICKERS - 1)


def test_years_counts_back_from_end_and_history_cannot_precede_1990():
    assert SampleSource(years=3).start == dt.date(2022, 12, 31)
    with pytest.raises(ValueError, match="before 1990-01-02"):
        SampleSource(start=dt.date(1985, 1, 1))


def test_share_evenly_and_interleave_helpers():
    assert share_evenly(7, [10, 10]) == [4, 3]
    assert share_evenly(7, [2, 10]) == [2, 5]
    assert share_evenly(50, [2, 3]) == [2, 3]
    universe = [i for i in load_universe() if i.basket == SMALL_CAP]
    first_eleven = interleave_by_sector(universe)[: len(SECTORS)]
    assert {i.sector for i in first_eleven} == set(SECTORS)


# --- the configured universe -----------------------------------------------------------


def test_universe_yaml_has_the_proxies_sectors_megacaps_and_baskets():
    universe = load_universe()
    by_ticker = {i.ticker: i for i in universe}
    proxies = {"^GSPC", "^RUT", "SPY", "IWM", "IWB", "IJR", "IWD", "IWF", "IWN", "IWO", "RSP"}
    assert proxies <= set(by_ticker)
    sector_funds = [i for i in universe if i.kind == "etf" and i.sector]
    assert sorted(i.sector for i in sector_funds) == sorted(SECTORS)
    megacaps = {i.ticker for i in universe if i.magnificent_7}
    assert megacaps == {"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA"}
    for basket in (LARGE_CAP, SMALL_CAP):
        members = [i for i in universe if i.basket == basket]
        assert len(members) >= 30
        assert {i.sector for i in members} == set(SECTORS)


# --- fundamentals -----------------------------------------------------------------------


def test_fundamentals_are_quarterly_stock_rows_reported_after_the_quarter(small):
    fundamentals = small.fundamentals(everything(small))
    stocks = set(small.universe().query("kind == 'stock'")["ticker"])
    assert set(fundamentals["ticker"]) == stocks
    assert fundamentals["period_end"].dt.is_quarter_end.all()
    lag = (fundamentals["report_date"] - fundamentals["period_end"]).dt.days
    assert lag.between(20, 50).all()
    assert (fundamentals["report_date"] <= pd.Timestamp(small.end)).all()
    assert not fundamentals.duplicated(["ticker", "period_end"]).any()


def test_shares_outstanding_step_up_with_splits(decade, decade_prices):
    split = decade_prices[decade_prices["splits"] > 0].iloc[0]
    shares = (
        decade.fundamentals(everything(decade))
        .query("ticker == @split.ticker")
        .set_index("period_end")["shares_outstanding"]
    )
    before = shares[shares.index < split.trade_date].iloc[-1]
    after = shares[shares.index >= split.trade_date].iloc[0]
    assert after / before == pytest.approx(split.splits, rel=0.05)


def test_trailing_pe_is_lower_for_small_caps_than_large_caps(decade, decade_prices):
    """P/E as market cap over trailing-year earnings in dollars: robust to splits."""
    fundamentals = decade.fundamentals(everything(decade)).sort_values(["ticker", "period_end"])
    earnings = fundamentals["eps"] * fundamentals["shares_outstanding"]
    fundamentals["ttm_earnings"] = earnings.groupby(fundamentals["ticker"]).transform(
        lambda quarter: quarter.rolling(4).sum()
    )
    closes = decade_prices[["ticker", "trade_date", "close"]].rename(
        columns={"trade_date": "period_end"}
    )
    valued = pd.merge_asof(
        fundamentals.sort_values("period_end"),
        closes.sort_values("period_end"),
        on="period_end",
        by="ticker",
    ).dropna(subset=["ttm_earnings"])
    valued["pe"] = valued["close"] * valued["shares_outstanding"] / valued["ttm_earnings"]
    universe = decade.universe().set_index("ticker")
    baskets = {i.ticker: i.basket for i in decade.instruments}
    valued["basket"] = valued["ticker"].map(baskets)
    medians = valued[valued["pe"] > 0].groupby("basket")["pe"].median()
    assert 16 <= medians[LARGE_CAP] <= 26
    assert 11 <= medians[SMALL_CAP] <= 18
    assert medians[SMALL_CAP] < medians[LARGE_CAP]
    small_names = universe.index[universe["size"] == "small"]
    assert (valued.loc[valued["ticker"].isin(small_names), "eps"] < 0).any()


# --- rates ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rates(full_history) -> pd.DataFrame:
    frame = full_history.rates(everything(full_history))
    return frame.pivot(index="obs_date", columns="series_id", values="value")


def test_targets_are_dated_as_fred_records_them(rates):
    # The range moves the day after the decision; the single target on the decision day.
    assert rates.loc["2024-09-18", ["DFEDTARL", "DFEDTARU"]].tolist() == [5.25, 5.50]
    assert rates.loc["2024-09-19", ["DFEDTARL", "DFEDTARU"]].tolist() == [4.75, 5.00]
    assert rates.loc["2001-09-16", "DFEDTAR"] == 3.50
    assert rates.loc["2001-09-17", "DFEDTAR"] == 3.00
    assert rates.loc["2025-12-11", "DFEDTARU"] == 3.75


def test_single_target_series_ends_where_the_range_series_begin(rates):
    assert rates["DFEDTAR"].last_valid_index() == pd.Timestamp("2008-12-15")
    assert rates["DFEDTARU"].first_valid_index() == pd.Timestamp("2008-12-16")
    assert rates.loc["2008-12-16", ["DFEDTARL", "DFEDTARU"]].tolist() == [0.0, 0.25]
    calendar_days = pd.date_range("1990-01-02", "2025-12-31")
    assert rates["DFF"].dropna().index.equals(calendar_days)


def test_effective_rate_sits_at_the_target_or_inside_the_range(rates):
    single = rates.loc[:"2008-09-30"]
    assert (single["DFF"] - single["DFEDTAR"]).abs().median() < 0.1
    ranged = rates.loc["2008-12-16":]
    assert (ranged["DFF"] >= ranged["DFEDTARL"]).all()
    assert (ranged["DFF"] <= ranged["DFEDTARU"]).all()


def test_treasury_yields_are_on_sessions_bounded_and_the_slope_is_their_difference(rates):
    yields = rates[["DGS2", "DGS10", "T10Y2Y"]].dropna()
    assert yields.index.dayofweek.max() <= 4
    assert yields[["DGS2", "DGS10"]].stack().between(-1, 25).all()
    slope = (yields["DGS10"] - yields["DGS2"]).round(2)
    assert (slope == yields["T10Y2Y"]).all()
    assert (yields.round(2) == yields).all().all()
    assert yields.loc["2023", "DGS2"].mean() > yields.loc["2021", "DGS2"].mean() + 2
