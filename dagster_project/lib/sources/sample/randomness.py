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
    JUMPS = 14
    VOLATILITY_INDEX = 15
    REAL_YIELDS = 16


def year_rng(seed: int, stream: Stream, year: int) -> np.random.Generator:
    """The generator for one stream and calendar year."""
    return np.random.default_rng([seed, int(stream), year])


def ticker_rng(seed: int, ticker: str) -> np.random.Generator:
    """A generator for a ticker's fixed traits, keyed by its name (stable across universes)."""
    return np.random.default_rng([seed, int(Stream.TICKER_PROFILE), zlib.crc32(ticker.encode())])


def normal(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


def uniform(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Draws spread evenly over [0, 1): an event that happens with probability p where u < p."""
    return rng.random(shape, dtype=np.float32)


def student_t(df: float) -> Draw:
    """Unit-variance Student-t draws: fat tails without changing the volatility scale."""
    scale = np.sqrt((df - 2.0) / df)

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return (rng.standard_t(df, shape) * scale).astype(np.float32)

    return draw


SKIPPED_SLOTS_PER_DRAW = 1024
"""Slots drawn at once when a generator is moved past slots nobody asked for (bounds memory)."""


class YearStreams:
    """The year generators of one pass over the slots, each kept where the last batch left it.

    Why: a year's block is drawn slot-major, so the numbers of slots [a, b) come after those
    of every slot below a. Drawn from a fresh generator, each batch of stocks redraws all
    the slots before its own: batches of 250 of 3,000 stocks draw 6.5 times the numbers
    they use. A kept generator continues where the previous batch stopped instead (numpy
    gives the same numbers in one call or in consecutive ones), so the numbers do not
    change; a batch asking for a slot already passed starts that year afresh.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._generators: dict[tuple[Stream, int], tuple[np.random.Generator, int]] = {}

    def block(self, stream: Stream, year: int, first_slot: int, stop_slot: int, draw: Draw):
        """Rows ``first_slot`` to ``stop_slot - 1`` of the year's (slots x weekdays) block."""
        generator, next_slot = self._generators.get((stream, year), (None, 0))
        if generator is None or next_slot > first_slot:
            generator, next_slot = year_rng(self.seed, stream, year), 0
        while next_slot < first_slot:
            skipped = min(first_slot - next_slot, SKIPPED_SLOTS_PER_DRAW)
            draw(generator, (skipped, WEEKDAYS_PER_YEAR))
            next_slot += skipped
        block = draw(generator, (stop_slot - first_slot, WEEKDAYS_PER_YEAR))
        self._generators[(stream, year)] = (generator, stop_slot)
        return block


def draws_by_day(
    seed: int,
    stream: Stream,
    days: pd.DatetimeIndex,
    slots: Sequence[int] | np.ndarray,
    draw: Draw = normal,
    streams: YearStreams | None = None,
) -> np.ndarray:
    """A (len(days), len(slots)) float32 array of shocks, each fixed by (year, day, slot).

    ``days`` may be sessions or other dates; each takes its weekday-of-year row of its
    year's block, and each column the block's row for its slot. ``streams`` (of the same
    seed) carries the generators over from the previous batch of slots.
    """
    slots = np.asarray(slots, dtype=np.int64)
    out = np.empty((len(days), len(slots)), dtype=np.float32)
    if len(days) == 0 or len(slots) == 0:
        return out
    streams = streams or YearStreams(seed)
    if streams.seed != seed:
        raise ValueError(f"streams of seed {streams.seed} asked for seed {seed}'s draws")
    first_slot, stop_slot = int(slots.min()), int(slots.max()) + 1
    years = days.year.to_numpy()
    weekday_of_year = weekday_number(days)
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        block = streams.block(stream, int(year), first_slot, stop_slot, draw)
        out[rows] = block[np.ix_(slots - first_slot, weekday_of_year[rows])].T
    return out


def weekday_number(days: pd.DatetimeIndex) -> np.ndarray:
    """Weekdays from January 1 to each day (0 for the first weekday of its year)."""
    day = days.to_numpy().astype("datetime64[D]")
    new_year = days.to_period("Y").start_time.to_numpy().astype("datetime64[D]")
    return np.busday_count(new_year, day)
