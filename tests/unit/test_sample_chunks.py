"""The sample's prices come in ticker chunks that add up to exactly one whole simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from dagster_project.sources.base import FrameChunks, Window
from dagster_project.sources.sample import SampleSource
from dagster_project.sources.sample.generator import date_major
from dagster_project.sources.sample.prices import price_frame, simulate_prices
from dagster_project.sources.sample.traits import instrument_traits


@pytest.fixture(scope="module")
def source() -> SampleSource:
    return SampleSource(tickers=70, years=3)


def whole_simulation(source: SampleSource, window: Window) -> pd.DataFrame:
    """The prices as one simulation of every fund and every stock at once (the unchunked
    way the sample used to build them)."""
    market = source._market
    funds = [i for i in source.instruments if i.is_fund]
    stocks = [i for i in source.instruments if not i.is_fund]
    fund_block, _ = simulate_prices(
        instrument_traits(funds, source.seed, source.start),
        market.factors,
        market.factors.sessions,
        source.seed,
    )
    stock_block, _ = simulate_prices(
        instrument_traits(stocks, source.seed, source.start),
        market.factors,
        market.sessions,
        source.seed,
    )
    first, last = source._clip(window)
    return price_frame([fund_block, stock_block], first, last)


def everything(source: SampleSource) -> Window:
    return Window(source.start, source.end)


def test_prices_come_as_chunks_that_assemble_to_the_whole_simulation(source):
    prices = source.prices(everything(source))
    assert isinstance(prices, FrameChunks)
    assert_frame_equal(prices.to_frame(), whole_simulation(source, everything(source)))


@pytest.mark.parametrize("tickers_per_chunk", [1, 7, 40, 1000])
def test_any_chunk_size_gives_exactly_the_same_numbers(source, tickers_per_chunk):
    window = Window(source.end.replace(month=1, day=1), source.end)
    first, last = source._clip(window)
    chunks = list(source.price_chunks(first, last, tickers_per_chunk))
    assert_frame_equal(date_major(chunks), whole_simulation(source, window))


def test_each_chunk_holds_whole_tickers_and_no_ticker_twice(source):
    first, last = source._clip(everything(source))
    seen: set[str] = set()
    for chunk in source.price_chunks(first, last, 25):
        tickers = set(chunk["ticker"])
        assert len(tickers) <= 25
        assert not tickers & seen
        seen |= tickers
        sessions = chunk.groupby("ticker")["trade_date"].nunique()
        assert sessions.nunique() == 1  # every ticker of the chunk has its whole window
    assert seen == {i.ticker for i in source.instruments}


def test_the_chunks_stand_in_for_a_frame(source):
    # Code written against a DataFrame (tests, the benchmark's Parquet writer, wrappers
    # that edit rows) keeps working: the chunks assemble once, on first use.
    prices = source.prices(everything(source))
    whole = whole_simulation(source, everything(source))
    assert len(prices) == len(whole)
    assert list(prices.columns) == list(whole.columns)
    assert np.array_equal(prices["close"].to_numpy(), whole["close"].to_numpy())
    assert_frame_equal(prices.reset_index(drop=True), whole)
    assert not prices.empty


def test_a_window_without_sessions_is_an_empty_frame(source):
    saturday = source.end - pd.Timedelta(days=(source.end.weekday() - 5) % 7)
    prices = source.prices(Window(saturday, saturday))
    assert prices.empty
    assert list(prices.columns) == list(whole_simulation(source, everything(source)).columns)
