"""``SampleSource``: an offline, seeded, deterministic US market in the canonical schemas.

It simulates the common paths (factors, sessions) and each small table (fundamentals,
rates) once per instance, on first use, and keeps them. Prices are simulated again on
each ``prices`` call, a batch of tickers at a time, and handed over as ``FrameChunks``:
at 3,000 tickers x 25 years the whole price history would be ~0.5 GB compact and ~1.5 GB
as a frame, more than the build's memory budget allows beside DuckDB. A window draws
the open, high, low and volume of its own sessions only, so a one-day window costs a
fraction of the whole history (its closes still need every earlier move).

What drives it, module by module:

* ``fomc``: the real FOMC target history, which sets the Fed regime and the rates;
* ``factors``: market (GARCH, fat tails), size (drift set by the Fed regime), value and
  11 sector factors, always from 1990 so index levels do not depend on the window;
* ``traits``: each ticker's exposures, volatility, dividends, split habit and size;
* ``prices``: as-traded OHLCV with dividends and splits;
* ``fundamentals``: quarterly EPS, estimates and shares consistent with prices;
* ``rates``: FRED-style target, effective rate, 2y and 10y yields, the 10y real yield
  and the VIX;
* ``extremes``: scripted events on fixed tickers and days (a crash, a spike, a bad print,
  a reverse split, a delisting, an index series that ends early).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd

from dagster_project.lib.sources.base import FrameChunks, Window, empty_frame
from dagster_project.lib.sources.sample.calibration import EPOCH
from dagster_project.lib.sources.sample.edgar import edgar_facts_frame
from dagster_project.lib.sources.sample.factors import FactorPaths, simulate_factors
from dagster_project.lib.sources.sample.fundamentals import fundamentals_frame, quarter_ends
from dagster_project.lib.sources.sample.prices import (
    PriceBlock,
    price_frame,
    simulate_prices,
    simulate_quarter_marks,
)
from dagster_project.lib.sources.sample.randomness import YearStreams
from dagster_project.lib.sources.sample.rates import rates_frame
from dagster_project.lib.sources.sample.sessions import nyse_sessions
from dagster_project.lib.sources.sample.traits import instrument_traits
from dagster_project.lib.sources.sample.universe import (
    Instrument,
    load_universe,
    scale_universe,
    universe_frame,
)
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, PRICES, VALUATION_SNAPSHOTS

DEFAULT_START = EPOCH
DEFAULT_END = dt.date(2025, 12, 31)
TICKERS_PER_CHUNK = 250
"""Stocks simulated and written together: ~1.6M price rows (~130 MB as a frame) at 25
years, few enough chunks that the per-chunk overhead does not show."""


@dataclass(frozen=True)
class CommonPaths:
    """What every instrument's path is drawn from: the common factors over every session
    from the epoch (funds start there), and the sessions from the start (stocks)."""

    factors: FactorPaths
    sessions: pd.DatetimeIndex


def years_before(end: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` years before ``end`` (Feb 29 falls back to Feb 28)."""
    try:
        return end.replace(year=end.year - years)
    except ValueError:
        return end.replace(year=end.year - years, day=28)


class SampleSource:
    """A generated market: NYSE sessions, factor-driven prices, real FOMC history.

    ``tickers=N`` scales the universe to N tickers (see ``universe.scale_universe``);
    ``years=Y`` starts the history Y years before ``end``. The same arguments always give
    the same frames, and extending ``end`` leaves every earlier row unchanged, but for
    one scripted exception: ^RUT's series ends 8 sessions before ``end``
    (``extremes.EARLY_INDEX_END``), so those sessions gain their ^RUT rows once ``end``
    moves past them.
    """

    label = "sample"
    synthetic = True

    def __init__(
        self,
        seed: int = 42,
        tickers: int | None = None,
        years: int | None = None,
        start: dt.date = DEFAULT_START,
        end: dt.date = DEFAULT_END,
    ) -> None:
        if years is not None:
            if years < 1:
                raise ValueError(f"years={years} must be at least 1")
            start = years_before(end, years)
        if start < EPOCH:
            raise ValueError(
                f"start {start} is before {EPOCH}: the sample market (and its FOMC history) "
                "begins there"
            )
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self.seed = seed
        self.start = start
        self.end = end
        self.instruments: list[Instrument] = scale_universe(load_universe(), tickers)

    def __repr__(self) -> str:
        return (
            f"SampleSource(seed={self.seed}, tickers={len(self.instruments)}, "
            f"start={self.start}, end={self.end})"
        )

    def universe(self) -> pd.DataFrame:
        return universe_frame(self.instruments)

    def prices(self, window: Window) -> pd.DataFrame | FrameChunks:
        """The window's prices as chunks of a few hundred tickers each (all of a ticker's
        rows in one chunk), simulated as they are read; as one frame, ordered by trade
        date then instrument (funds first), the same rows as a single simulation gives."""
        first, last = self._clip(window)
        if first > last:
            return empty_frame(PRICES)
        return FrameChunks(functools.partial(self.price_chunks, first, last), date_major)

    def price_chunks(
        self, first: pd.Timestamp, last: pd.Timestamp, tickers_per_chunk: int = TICKERS_PER_CHUNK
    ) -> Iterator[pd.DataFrame]:
        """Payload rows of ``raw.prices`` in [first, last], one frame per batch of tickers."""
        for block in self.price_blocks(first, last, tickers_per_chunk):
            yield price_frame([block], first, last)

    def price_blocks(
        self, first: pd.Timestamp, last: pd.Timestamp, tickers_per_chunk: int = TICKERS_PER_CHUNK
    ) -> Iterator[PriceBlock]:
        """The funds' prices in [first, last], then the stocks' in batches, each simulated
        when asked for.

        Every instrument's path depends only on the common factors and its own traits and
        random slot, never on which instruments share its batch, so any batching gives the
        same numbers (``tests/unit/test_sample_chunks.py`` holds it to that). The batches
        of one pass share their year generators (``YearStreams``).
        """
        paths = self._paths
        streams = YearStreams(self.seed)
        funds = [i for i in self.instruments if i.is_fund]
        stocks = [i for i in self.instruments if not i.is_fund]
        batches = [(funds, paths.factors.sessions)] if funds else []
        batches += [(batch, paths.sessions) for batch in batched(stocks, tickers_per_chunk)]
        for instruments, sessions in batches:
            traits = instrument_traits(instruments, self.seed, self.start)
            yield simulate_prices(
                traits, paths.factors, sessions, self.seed, (first, last), streams
            )

    def fundamentals(self, window: Window) -> pd.DataFrame:
        return rows_between(self._fundamentals, "period_end", *self._clip(window))

    def rates(self, window: Window) -> pd.DataFrame:
        return rows_between(self._rates, "obs_date", *self._clip(window))

    def edgar_facts(self, tickers: list[str]) -> pd.DataFrame:
        """The sample's own quarters shaped as SEC companyfacts versions (``sample.edgar``),
        so the point-in-time EDGAR path of the marts runs on every sample build."""
        return edgar_facts_frame(self._fundamentals, tickers)

    def valuation_snapshots(self, as_of: dt.date) -> pd.DataFrame:
        """Always empty: point-in-time valuations are what a market reported on a day, and
        a generated market has no such record. The marts derive P/E from EPS instead."""
        return empty_frame(VALUATION_SNAPSHOTS)

    def _clip(self, window: Window) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window intersected with the simulated history."""
        return pd.Timestamp(max(window.start, self.start)), pd.Timestamp(min(window.end, self.end))

    @functools.cached_property
    def _paths(self) -> CommonPaths:
        epoch_sessions = nyse_sessions(pd.Timestamp(EPOCH), pd.Timestamp(self.end))
        first_row = int(epoch_sessions.searchsorted(pd.Timestamp(self.start)))
        return CommonPaths(
            factors=simulate_factors(self.seed, epoch_sessions),
            sessions=epoch_sessions[first_row:],
        )

    @functools.cached_property
    def _fundamentals(self) -> pd.DataFrame:
        stocks = [i for i in self.instruments if not i.is_fund]
        return simulate_fundamentals(self.seed, stocks, self._paths, self.start, self.end)

    @functools.cached_property
    def _rates(self) -> pd.DataFrame:
        factors = self._paths.factors
        rates = rates_frame(
            pd.date_range(EPOCH, self.end), factors.sessions, self.seed, factors.vol_outlook
        )
        return rows_between(rates, "obs_date", pd.Timestamp(self.start), pd.Timestamp(self.end))


def simulate_fundamentals(
    seed: int, stocks: list[Instrument], paths: CommonPaths, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Quarterly fundamentals of ``stocks`` from their price marks at each quarter end.

    All stocks at once: the quarter marks' trailing means are summed by numpy in an order
    that can depend on the matrix width, and EPS must not move with a batch size.
    """
    sessions = paths.sessions
    period_ends = quarter_ends(sessions[0], pd.Timestamp(end)) if len(sessions) else []
    if not stocks or not len(period_ends):
        return empty_frame(FUNDAMENTALS)
    traits = instrument_traits(stocks, seed, start)
    marks = simulate_quarter_marks(traits, paths.factors, sessions, seed, period_ends)
    return fundamentals_frame(marks, traits, start, end, seed)


def batched(items: Sequence, size: int) -> Iterator[Sequence]:
    """Consecutive slices of at most ``size`` items."""
    if size < 1:
        raise ValueError(f"batch size {size} must be at least 1")
    for first in range(0, len(items), size):
        yield items[first : first + size]


def date_major(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Price chunks (batches of tickers, each ordered by date) as one frame ordered by
    trade date, then by instrument in chunk order: the order one simulation of every
    instrument at once gives (``prices.price_frame``)."""
    if not chunks:
        return empty_frame(PRICES)
    frame = pd.concat(chunks, ignore_index=True)
    return frame.sort_values("trade_date", kind="stable", ignore_index=True)


def rows_between(
    frame: pd.DataFrame, column: str, first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Rows whose ``column`` lies in [first, last], re-indexed from 0."""
    dates = frame[column]
    return frame[(dates >= first) & (dates <= last)].reset_index(drop=True)
