"""The sample's prices come in ticker chunks that add up to exactly one whole simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from dagster_project.lib.sources.base import FrameChunks, Window, as_frame, frame_chunks
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.sources.sample.extremes import DELISTED, EARLY_INDEX_END
from dagster_project.lib.sources.sample.generator import date_major
from dagster_project.lib.sources.sample.prices import price_frame, simulate_prices
from dagster_project.lib.sources.sample.randomness import (
    WEEKDAYS_PER_YEAR,
    Stream,
    YearStreams,
    draws_by_day,
    normal,
    student_t,
    year_rng,
)
from dagster_project.lib.sources.sample.traits import instrument_traits


@pytest.fixture(scope="module")
def source() -> SampleSource:
    return SampleSource(tickers=70, years=3)


def whole_simulation(source: SampleSource, window: Window) -> pd.DataFrame:
    """The prices as one simulation of every fund and every stock at once (the unchunked
    way the sample used to build them)."""
    paths = source._paths
    funds = [i for i in source.instruments if i.is_fund]
    stocks = [i for i in source.instruments if not i.is_fund]
    fund_block = simulate_prices(
        instrument_traits(funds, source.seed, source.start),
        paths.factors,
        paths.factors.sessions,
        source.seed,
    )
    stock_block = simulate_prices(
        instrument_traits(stocks, source.seed, source.start),
        paths.factors,
        paths.sessions,
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
        # every ticker of the chunk has its whole window, but ^RUT, whose series ends
        # early (``extremes.EARLY_INDEX_END``)
        whole = sessions.drop(EARLY_INDEX_END.ticker, errors="ignore")
        assert whole.nunique() == 1
        if EARLY_INDEX_END.ticker in sessions:
            assert sessions[EARLY_INDEX_END.ticker] == whole.iloc[0] - EARLY_INDEX_END.sessions
    # ... and every ticker is in one, but a stock delisted before the window
    assert DELISTED.date < source.start
    assert seen == {i.ticker for i in source.instruments} - {DELISTED.ticker}


def test_the_chunks_are_no_frame_until_asked_for_one(source):
    # Nothing assembles the whole history behind the caller's back: a writer reads the
    # chunks (``frame_chunks``), code that wants one frame says so (``as_frame``).
    prices = source.prices(everything(source))
    whole = whole_simulation(source, everything(source))
    with pytest.raises(TypeError):
        len(prices)
    with pytest.raises(TypeError):
        prices["close"]
    assert not hasattr(prices, "columns") and not hasattr(prices, "empty")
    assert "frame" not in vars(prices)  # nothing assembled yet
    assert sum(len(chunk) for chunk in frame_chunks(prices)) == len(whole)
    assert_frame_equal(as_frame(prices), whole)
    assert as_frame(prices) is as_frame(prices)  # assembled once, then kept
    assert as_frame(whole) is whole


def test_a_window_without_sessions_is_an_empty_frame(source):
    saturday = source.end - pd.Timedelta(days=(source.end.weekday() - 5) % 7)
    prices = as_frame(source.prices(Window(saturday, saturday)))
    assert prices.empty
    assert list(prices.columns) == list(whole_simulation(source, everything(source)).columns)


@pytest.mark.parametrize("draw", [normal, student_t(5.0)], ids=["normal", "student_t"])
def test_year_streams_continue_a_block_where_the_last_batch_stopped(draw):
    """Batches of slots drawn through one ``YearStreams`` (in order, with gaps, and going
    back) get exactly the rows of the year's block drawn in one go."""
    whole = draw(year_rng(7, Stream.IDIOSYNCRATIC, 2001), (40, WEEKDAYS_PER_YEAR))
    streams = YearStreams(seed=7)
    for first, stop in [(0, 5), (5, 12), (20, 21), (3, 9), (9, 40)]:
        block = streams.block(Stream.IDIOSYNCRATIC, 2001, first, stop, draw)
        np.testing.assert_array_equal(block, whole[first:stop])


def test_draws_by_day_are_the_same_with_or_without_kept_streams(source):
    days = source._paths.sessions[-300:]
    streams = YearStreams(source.seed)
    batches = [np.arange(0, 30), np.arange(30, 31), np.arange(45, 70)]
    through_streams = [
        draws_by_day(source.seed, Stream.VOLUME, days, slots, streams=streams) for slots in batches
    ]
    fresh = [draws_by_day(source.seed, Stream.VOLUME, days, slots) for slots in batches]
    for kept, alone in zip(through_streams, fresh, strict=True):
        np.testing.assert_array_equal(kept, alone)
    with pytest.raises(ValueError, match="seed"):
        draws_by_day(source.seed + 1, Stream.VOLUME, days, batches[0], streams=streams)


def test_a_one_day_window_has_the_whole_historys_numbers_for_that_day(source):
    last_day = pd.Timestamp(source.end)
    one_day = as_frame(source.prices(Window(source.end, source.end)))
    whole = whole_simulation(source, everything(source))
    assert_frame_equal(
        one_day, whole[whole["trade_date"] == last_day].reset_index(drop=True), check_like=False
    )
    # every instrument, but ^RUT (its series ends early) and a stock delisted in 2016
    unpriced = {EARLY_INDEX_END.ticker, DELISTED.ticker}
    assert set(one_day["ticker"]) == {i.ticker for i in source.instruments} - unpriced
