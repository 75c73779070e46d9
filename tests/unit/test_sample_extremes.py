"""The sample market's extremes: calibrated small-cap jumps, the scripted events of
``extremes`` and the rate series that are not policy rates (DFII10, VIXCLS).

All generated, offline and deterministic: a 41-ticker sample over 2008-2017 holds every
scripted event (41 is the smallest N that keeps all their tickers).
"""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from dagster_project.lib.sources.base import Window, as_frame
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.sources.sample.calibration import JUMPS
from dagster_project.lib.sources.sample.extremes import (
    BAD_TICK,
    DATED_EVENTS,
    DELISTED,
    EARLY_INDEX_END,
    REVERSE_SPLIT,
    STANDING_CRASH,
    STANDING_SPIKE,
)
from dagster_project.lib.sources.sample.generator import date_major
from dagster_project.lib.sources.sample.randomness import Stream
from dagster_project.lib.sources.sample.traits import instrument_traits
from dagster_project.lib.sources.sample.universe import SMALL_CAP, load_universe, scale_universe

EVENTS_N = 41
"""Tickers of the event sample: the smallest N that keeps every event's ticker."""
FIXED_TICKERS = 29
REVERSAL_SHARE = 0.1
"""The price gate calls a large move a bad tick when the next close lands back within
this share of the move (in log terms) of the close before it."""


@pytest.fixture(scope="module")
def events() -> SampleSource:
    return SampleSource(tickers=EVENTS_N, start=dt.date(2008, 1, 1), end=dt.date(2017, 12, 29))


@pytest.fixture(scope="module")
def prices(events) -> pd.DataFrame:
    return with_moves(as_frame(events.prices(Window(events.start, events.end))))


def with_moves(frame: pd.DataFrame) -> pd.DataFrame:
    """Prices by ticker and date, with the previous and next close and the daily total
    return the way dbt adjusts it: (close + dividend) * split ratio / previous close - 1."""
    p = frame.sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    by_ticker = p.groupby("ticker")["close"]
    p["previous"], p["next"] = by_ticker.shift(), by_ticker.shift(-1)
    ratio = p["splits"].where(p["splits"] > 0, 1.0)
    p["move"] = (p["close"] + p["dividends"]) * ratio / p["previous"] - 1
    return p


def rows_of(prices: pd.DataFrame, ticker: str) -> pd.DataFrame:
    return prices[prices["ticker"] == ticker].set_index("trade_date")


def position(rows: pd.DataFrame, day: dt.date) -> int:
    return rows.index.get_loc(pd.Timestamp(day))


def assert_ohlc(rows: pd.DataFrame) -> None:
    assert (rows["low"] > 0).all()
    assert (rows["low"] <= rows[["open", "close"]].min(axis=1)).all()
    assert (rows[["open", "close"]].max(axis=1) <= rows["high"]).all()
    assert (rows["volume"] > 0).all()


# --- where the events are ---------------------------------------------------------------


def test_events_are_on_nyse_sessions_2003_to_2024_and_never_adjacent_on_one_ticker():
    calendar = xcals.get_calendar("XNYS", start="2003-01-01", end="2024-12-31")
    sessions = pd.DatetimeIndex(calendar.sessions).tz_localize(None)
    universe = {i.ticker for i in load_universe()}
    for event in DATED_EVENTS:
        assert event.day in sessions, event
        assert event.ticker in universe, event
    for ticker in {e.ticker for e in DATED_EVENTS}:
        rows = sorted(sessions.get_loc(e.day) for e in DATED_EVENTS if e.ticker == ticker)
        assert all(b - a > 1 for a, b in zip(rows, rows[1:], strict=False)), ticker
    assert EARLY_INDEX_END.ticker in universe


def test_event_tickers_are_kept_from_the_event_sample_on_and_the_funds_always():
    universe = load_universe()
    always = {BAD_TICK.ticker, EARLY_INDEX_END.ticker}
    assert always <= {i.ticker for i in scale_universe(universe, FIXED_TICKERS)}
    assert BAD_TICK.ticker not in {"SPY", "IWM", "^GSPC", "^RUT", "IWD", "IWF"}
    assert not any(i.magnificent_7 for i in universe if i.ticker == BAD_TICK.ticker)
    for n in range(EVENTS_N, 200):
        kept = {i.ticker for i in scale_universe(universe, n)}
        assert {e.ticker for e in DATED_EVENTS} <= kept, n
    small = {i.ticker for i in universe if i.basket == SMALL_CAP}
    assert {STANDING_CRASH.ticker, STANDING_SPIKE.ticker, DELISTED.ticker} <= small


def test_a_sample_without_an_events_ticker_simply_lacks_the_event():
    source = SampleSource(tickers=33, start=dt.date(2008, 1, 1), end=dt.date(2011, 12, 30))
    tickers = {i.ticker for i in source.instruments}
    assert STANDING_CRASH.ticker not in tickers and STANDING_SPIKE.ticker in tickers
    p = with_moves(as_frame(source.prices(Window(source.start, source.end))))
    assert (p["splits"] != REVERSE_SPLIT.size).all()
    spike = rows_of(p, STANDING_SPIKE.ticker).loc[STANDING_SPIKE.day, "move"]
    assert spike == pytest.approx(STANDING_SPIKE.size, abs=0.01)


# --- the scripted events ------------------------------------------------------------------


@pytest.mark.parametrize("event", [STANDING_CRASH, STANDING_SPIKE], ids=["crash", "spike"])
def test_crash_and_spike_move_by_their_size_and_stand(prices, event):
    rows = rows_of(prices, event.ticker)
    at = position(rows, event.date)
    day = rows.iloc[at]
    assert day["dividends"] == 0 and day["splits"] == 0
    assert day["move"] == pytest.approx(event.size, abs=0.01)
    # The next sessions go on from the new level: no reversal, as the gate judges one.
    after = rows.iloc[at + 1 : at + 6]
    level = np.log(after["close"] / day["close"])
    assert level.abs().max() < 0.25
    round_trip = np.log(day["next"] / day["previous"])
    assert abs(round_trip) > 0.5 * abs(np.log1p(event.size))
    assert np.sign(round_trip) == np.sign(event.size)
    # A news day: heavy volume; open, high, low and close stay consistent.
    assert day["volume"] > 5 * rows.iloc[at - 20 : at]["volume"].median()
    assert_ohlc(rows.iloc[at - 2 : at + 3])


def test_bad_tick_is_one_row_ten_times_its_path(prices):
    rows = rows_of(prices, BAD_TICK.ticker)
    at = position(rows, BAD_TICK.date)
    day = rows.iloc[at]
    neighbours = rows.iloc[[at - 1, at + 1]]
    for column in ("open", "high", "low", "close"):
        ratio = day[column] / neighbours[column].mean()
        assert ratio == pytest.approx(BAD_TICK.size, rel=0.1), column
    assert_ohlc(rows.iloc[at - 1 : at + 2])
    # The path is untouched: the next close continues from the one before the bad print.
    assert abs(day["next"] / day["previous"] - 1) < 0.05
    # ... which is exactly what the gate calls a bad tick.
    assert abs(np.log(day["next"] / day["previous"])) <= REVERSAL_SHARE * np.log1p(day["move"])
    # Volume and corporate actions are those of an ordinary day.
    assert day["volume"] < 3 * rows.iloc[at - 20 : at]["volume"].median()
    assert day["dividends"] == 0 and day["splits"] == 0
    # One row only: every other day of the ticker's history moves by less than 25%.
    big = rows["move"].abs() > 0.25
    assert list(rows.index[big]) == [BAD_TICK.day, rows.index[at + 1]]


def test_reverse_split_multiplies_the_price_and_leaves_the_total_return(events, prices):
    rows = rows_of(prices, REVERSE_SPLIT.ticker)
    at = position(rows, REVERSE_SPLIT.date)
    day = rows.iloc[at]
    assert day["splits"] == REVERSE_SPLIT.size == 0.1
    assert day["close"] / day["previous"] == pytest.approx(10, rel=0.15)
    # close * split ratio / previous close - 1: an ordinary day's move.
    assert abs(day["move"]) < 0.1
    assert abs(day["close"] * day["splits"] / day["previous"] - 1) < 0.1
    after, before = rows.iloc[at : at + 20], rows.iloc[at - 20 : at]
    assert (after["close"] > 5 * before["close"].max()).all()
    ratio = after["volume"].median() / before["volume"].median()
    assert 0.03 < ratio < 0.3  # a tenth of the shares trade
    assert_ohlc(rows.iloc[at - 2 : at + 3])
    # No other split of the ticker in the sample: the reverse split brings on no forward one.
    assert (rows["splits"] > 0).sum() == 1
    # Shares outstanding drop tenfold with it.
    fundamentals = events.fundamentals(Window(events.start, events.end))
    shares = fundamentals[fundamentals["ticker"] == REVERSE_SPLIT.ticker].set_index("period_end")[
        "shares_outstanding"
    ]
    before_split = shares[shares.index < REVERSE_SPLIT.day].iloc[-1]
    after_split = shares[shares.index >= REVERSE_SPLIT.day].iloc[0]
    assert after_split / before_split == pytest.approx(REVERSE_SPLIT.size, rel=0.05)


def test_delisted_stock_has_no_prices_or_quarters_after_its_last_session(events, prices):
    rows = rows_of(prices, DELISTED.ticker)
    assert rows.index.max() == DELISTED.day
    assert rows.index.min() == pd.Timestamp("2008-01-02")  # listed from the first session
    fundamentals = events.fundamentals(Window(events.start, events.end))
    quarters = fundamentals.loc[fundamentals["ticker"] == DELISTED.ticker, "period_end"]
    assert quarters.max() == pd.Timestamp("2016-03-31")
    assert (quarters <= DELISTED.day).all()
    assert len(quarters) == 33  # 2008Q1 to 2016Q1
    later = as_frame(events.prices(Window(dt.date(2016, 5, 23), dt.date(2016, 12, 30))))
    assert DELISTED.ticker not in set(later["ticker"])
    assert later["ticker"].nunique() == EVENTS_N - 1


def test_rut_ends_eight_sessions_before_the_end(events, prices):
    sessions = pd.DatetimeIndex(sorted(prices["trade_date"].unique()))
    last = prices.groupby("ticker")["trade_date"].max()
    assert last[EARLY_INDEX_END.ticker] == sessions[-1 - EARLY_INDEX_END.sessions]
    others = last.drop([EARLY_INDEX_END.ticker, DELISTED.ticker])
    assert (others == sessions[-1]).all()
    assert EARLY_INDEX_END.last_session(sessions) == last[EARLY_INDEX_END.ticker]


def test_rut_early_end_is_the_one_thing_a_later_end_changes(events):
    """The documented exception to "extending end leaves earlier rows unchanged": one
    more session at the end gives ^RUT one more row, nothing else changes."""
    end = events.end
    later = SampleSource(tickers=EVENTS_N, start=events.start, end=dt.date(2018, 1, 2))
    window = Window(dt.date(2017, 11, 1), end)
    short = as_frame(events.prices(window))
    longer = as_frame(later.prices(window))
    rut = EARLY_INDEX_END.ticker
    extra = longer[~keys(longer).isin(keys(short))]
    assert list(extra["ticker"]) == [rut]
    sessions = pd.DatetimeIndex(sorted(short["trade_date"].unique()))
    rut_last = short.loc[short["ticker"] == rut, "trade_date"].max()
    assert extra["trade_date"].iloc[0] == sessions[sessions > rut_last][0]
    assert_frame_equal(short, longer.drop(extra.index).reset_index(drop=True))


def keys(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[["ticker", "trade_date"]])


def test_windows_and_batches_see_the_events_as_the_whole_history_does(events, prices):
    """Each event's session alone, and a window around the events in batches of 7
    tickers, have exactly the whole history's rows."""
    columns = ["ticker", "trade_date", "open", "high", "low", "close", "volume"]
    columns += ["dividends", "splits"]
    whole = prices[columns]
    for event in DATED_EVENTS:
        one_day = as_frame(events.prices(Window(event.date, event.date)))
        expected = whole[whole["trade_date"] == event.day]
        key = ["ticker", "trade_date"]
        assert_frame_equal(
            one_day[columns].sort_values(key).reset_index(drop=True),
            expected.sort_values(key).reset_index(drop=True),
        )
    first, last = pd.Timestamp("2016-05-01"), pd.Timestamp(events.end)
    batched = date_major(list(events.price_chunks(first, last, 7)))
    assert_frame_equal(batched, as_frame(events.prices(Window(first.date(), last.date()))))


# --- the jumps ----------------------------------------------------------------------------


def test_new_streams_are_new_numbers():
    values = [stream.value for stream in Stream]
    assert len(values) == len(set(values)) == len(Stream.__members__)
    assert {"JUMPS", "VOLATILITY_INDEX", "REAL_YIELDS"} <= set(Stream.__members__)


def test_only_small_cap_basket_stocks_jump(events):
    traits = instrument_traits(events.instruments, events.seed, events.start)
    baskets = np.array([i.basket for i in events.instruments])
    assert (traits.jump_rate[baskets == SMALL_CAP] == JUMPS.per_session).all()
    assert (traits.jump_rate[baskets != SMALL_CAP] == 0).all()


@pytest.fixture(scope="module")
def many_stock_years() -> pd.DataFrame:
    """Every configured small cap over 12 years: about 540 stock-years."""
    source = SampleSource(years=12)
    p = with_moves(as_frame(source.prices(Window(source.start, source.end))))
    small = {i.ticker for i in source.instruments if i.basket == SMALL_CAP}
    scripted = pd.MultiIndex.from_tuples([(e.ticker, e.day) for e in DATED_EVENTS])
    keep = p["ticker"].isin(small) & ~keys(p).isin(scripted)
    return p[keep].dropna(subset=["move"])


def test_small_cap_jumps_are_as_frequent_as_calibrated(many_stock_years):
    p = many_stock_years
    stock_years = len(p) / 252
    assert stock_years > 400
    beyond_25 = (p["move"].abs() > 0.25).sum() / stock_years
    beyond_50 = (p["move"].abs() > 0.50).sum() / stock_years
    assert JUMPS.moves_beyond_25_per_year / 2 < beyond_25 < JUMPS.moves_beyond_25_per_year * 2
    assert JUMPS.moves_beyond_50_per_year / 3 < beyond_50 < JUMPS.moves_beyond_50_per_year * 3
    falls = (p["move"] < -0.25).sum() / (p["move"].abs() > 0.25).sum()
    assert 0.1 < falls < 0.5


def test_jumps_stand(many_stock_years):
    p = many_stock_years.dropna(subset=["next"])
    jumps = p[p["move"].abs() > 0.25]
    assert len(jumps) > 50
    round_trip = np.log(jumps["next"] * 1.0 / jumps["previous"])
    reverted = round_trip.abs() <= REVERSAL_SHARE * np.log1p(jumps["move"]).abs()
    assert not reverted.any()


# --- rates that are not policy rates -----------------------------------------------------


@pytest.fixture(scope="module")
def fixed_tickers() -> SampleSource:
    """The whole 1990-2025 history of the tickers kept at every N."""
    return SampleSource(tickers=FIXED_TICKERS)


@pytest.fixture(scope="module")
def rates(fixed_tickers) -> pd.DataFrame:
    frame = fixed_tickers.rates(Window(fixed_tickers.start, fixed_tickers.end))
    return frame.pivot(index="obs_date", columns="series_id", values="value")


def test_real_yield_starts_in_2003_and_goes_negative_as_the_real_one_did(rates):
    real = rates["DFII10"].dropna()
    assert real.index[0] == pd.Timestamp("2003-01-02")
    assert real.index.dayofweek.max() <= 4
    assert (real.round(2) == real).all()
    assert (real.loc["2020":"2021"] < 0).mean() > 0.8
    assert (real.loc["2012"] < 0).any() and (real.loc["2013"] < 0).any()
    assert -2.5 <= real.min() < -0.8
    assert (real.loc["2006"] > 1).all() and (real.loc["2023"] > 1).all()
    # Below the nominal 10y by a plausible breakeven, never above it for long.
    breakeven = (rates["DGS10"] - rates["DFII10"]).dropna()
    assert 1.0 < breakeven.median() < 3.5
    assert (breakeven > 0).mean() > 0.95


def test_vix_is_a_level_from_the_markets_volatility(fixed_tickers, rates):
    source = fixed_tickers
    vix = rates["VIXCLS"].dropna()
    assert vix.index[0] == pd.Timestamp("1990-01-02")
    assert vix.between(9, 90).all()
    assert (vix > 25).any() and (vix > 40).any()
    assert 14 < vix.mean() < 24
    gspc = as_frame(source.prices(Window(source.start, source.end)))
    gspc = gspc[gspc["ticker"] == "^GSPC"].set_index("trade_date")["close"]
    realised = np.log(gspc).diff().rolling(21).std().shift(-21) * np.sqrt(252) * 100
    both = pd.concat([vix, realised], axis=1, keys=["vix", "realised"]).dropna()
    assert both["vix"].corr(both["realised"]) > 0.5
