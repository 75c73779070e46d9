"""Seeded random streams laid out so that history never depends on the window asked for.

Two guarantees the sample market makes, and how:

* Extending ``end`` never rewrites earlier days: shocks are drawn per calendar year from
  ``default_rng([seed, stream, year])``, one row per weekday of the year (262 at most),
  and a day takes the row of its weekday number (a weekend day shares the next weekday's
  row). A year's draws do not know where the window ends, nor which days are holidays.
* Trimming or growing the universe never rewrites a ticker: each year's block is drawn
  slot-major (one row of 366 draws per slot), so slot ``k``'s numbers are the same however
  many slots come after it; a ticker keeps its slot (``Instrument.slot``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from enum import IntEnum

import numpy as np
import pandas as pd

WEEKDAYS_PER_YEAR = 262
"""Most weekdays a calendar year can have: one row of draws for each."""

Draw = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


class Stream(IntEnum):
    """Independent random streams: one per kind of shock, so adding one leaves the rest."""

    FACTORS = 1
    IDIOSYNCRATIC = 2
    OPEN_GAP = 3
    HIGH_EXTENSION = 4
    LOW_EXTENSION = 5
    VOLUME = 6
    TICKER_PROFILE = 7
    EARNINGS = 8
    FUNDS_RATE = 9
    YIELDS = 10
    ESTIMATES = 11
    SHARE_COUNT = 12
    REPORT_TIMING = 13


def year_rng(seed: int, stream: Stream, year: int) -> np.random.Generator:
    """The generator for one stream and calendar year."""
    return np.random.default_rng([seed, int(stream), year])


def ticker_rng(seed: int, ticker: str) -> np.random.Generator:
    """A generator for a ticker's fixed traits, keyed by its name (stable across universes)."""
    return np.random.default_rng([seed, int(Stream.TICKER_PROFILE), zlib.crc32(ticker.encode())])


def normal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


def student_t(df: float) -> Draw:
    """Unit-variance Student-t draws: fat tails without changing the volatility scale."""
    scale = np.sqrt((df - 2.0) / df)

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return (rng.standard_t(df, shape) * scale).astype(np.float32)

    return draw


def draws_by_day(
    seed: int,
    stream: Stream,
    days: pd.DatetimeIndex,
    slots: Sequence[int] | np.ndarray,
    draw: Draw = normal,
) -> np.ndarray:
    """A (len(days), len(slots)) float32 array of shocks, each fixed by (year, day, slot).

    ``days`` may be sessions or other dates; each takes its weekday-of-year row of its
    year's block, and each column the block's row for its slot.
    """
    slots = np.asarray(slots, dtype=np.int64)
    out = np.empty((len(days), len(slots)), dtype=np.float32)
    if len(days) == 0 or len(slots) == 0:
        return out
    width = int(slots.max()) + 1
    years = days.year.to_numpy()
    weekday_of_year = weekday_number(days)
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        block = draw(year_rng(seed, stream, int(year)), (width, WEEKDAYS_PER_YEAR))
        out[rows] = block[np.ix_(slots, weekday_of_year[rows])].T
    return out


def weekday_number(days: pd.DatetimeIndex) -> np.ndarray:
    """Weekdays from January 1 to each day (0 for the first weekday of its year)."""
    day = days.to_numpy().astype("datetime64[D]")
    new_year = days.to_period("Y").start_time.to_numpy().astype("datetime64[D]")
    return np.busday_count(new_year, day)
