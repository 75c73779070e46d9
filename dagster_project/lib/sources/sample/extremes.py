"""Scripted extremes: the rare things real market data contains, on fixed tickers and days.

Random draws give a market its ordinary days and its jumps (``calibration.JUMPS``); these
are the cases a pipeline must handle and a test must be able to find, so each is a named
constant (ticker, date, what) that tests and other code import:

* ``STANDING_CRASH`` and ``STANDING_SPIKE``: a small cap falls 70% / rises 150% in one
  session, and the following sessions continue from the new level (a real move);
* ``BAD_TICK``: one session's open, high, low and close printed 10x too high, nothing
  else touched (the next close is back where the path is: a bad print);
* ``REVERSE_SPLIT``: a 1-for-10 reverse split (``splits`` = 0.1): the as-traded price is
  10x from that session on, the total return is not affected;
* ``DELISTED``: a small cap's last session, after which it has no prices and no quarters;
* ``EARLY_INDEX_END``: ^RUT's series stops 8 sessions before the sample's end, as index
  files often lag the ETF files. The one exception to "extending ``end`` leaves earlier
  rows unchanged": those 8 sessions of ^RUT appear once ``end`` moves on.

They are applied inside the simulation (``prices``, ``fundamentals``), by ticker and
session, so a window or a batch of tickers sees exactly what the whole history has.
Every event is on a ticker of the default universe; index proxies and sector funds are
kept at every ``tickers=N``, basket stocks only from some N on (``universe.scale_universe``;
the comment at each event says from which), and an event whose ticker or day is not in
the sample is simply not there. The dates are NYSE sessions in 2003-2024, so a 25-year
history (from 2000-12-31) holds them all, and no ticker has two events on adjacent sessions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ScriptedEvent:
    """One event on one ticker and session; ``size`` is the event's number (see each)."""

    ticker: str
    date: dt.date
    what: str
    size: float = np.nan

    @property
    def day(self) -> pd.Timestamp:
        return pd.Timestamp(self.date)


@dataclass(frozen=True)
class EarlyEnd:
    """A ticker whose series ends ``sessions`` sessions before the sample's end."""

    ticker: str
    sessions: int
    what: str

    def last_session(self, sessions: pd.DatetimeIndex) -> pd.Timestamp | None:
        """The ticker's last session among ``sessions`` (a run up to the sample's end)."""
        return sessions[-self.sessions - 1] if len(sessions) > self.sessions else None


STANDING_CRASH = ScriptedEvent(
    "AMN",  # small cap, kept from tickers=35 on
    dt.date(2008, 10, 15),
    "falls 70% in one session and stays down",
    size=-0.70,
)
"""``size``: the session's close over the one before, minus 1."""

STANDING_SPIKE = ScriptedEvent(
    "FFIN",  # small cap, kept from tickers=33 on
    dt.date(2009, 3, 23),
    "rises 150% in one session and stays up",
    size=1.50,
)
"""``size``: the session's close over the one before, minus 1."""

BAD_TICK = ScriptedEvent(
    "IJR",  # small-cap ETF, kept at every tickers=N
    dt.date(2013, 11, 7),
    "open, high, low and close printed 10x on one session; path and volume untouched",
    size=10.0,
)
"""``size``: what the session's prices are multiplied by."""

REVERSE_SPLIT = ScriptedEvent(
    "AMN",  # the crashed small cap, 20 months later
    dt.date(2010, 6, 15),
    "1-for-10 reverse split: as-traded prices x10 from this session on",
    size=0.1,
)
"""``size``: the split ratio as ``raw.prices.splits`` states it (2.0 is 2-for-1)."""

DELISTED = ScriptedEvent(
    "TALO",  # small cap, kept from tickers=41 on
    dt.date(2016, 5, 20),
    "last session: no prices after it, and no quarter ends",
)
"""``date``: the last session with a price."""

EARLY_INDEX_END = EarlyEnd("^RUT", 8, "series ends 8 sessions before the sample's end")

STANDING_MOVES: tuple[ScriptedEvent, ...] = (STANDING_CRASH, STANDING_SPIKE)
SPLITS: tuple[ScriptedEvent, ...] = (REVERSE_SPLIT,)
BAD_TICKS: tuple[ScriptedEvent, ...] = (BAD_TICK,)
DELISTINGS: tuple[ScriptedEvent, ...] = (DELISTED,)
EARLY_ENDS: tuple[EarlyEnd, ...] = (EARLY_INDEX_END,)
DATED_EVENTS: tuple[ScriptedEvent, ...] = STANDING_MOVES + SPLITS + BAD_TICKS + DELISTINGS


@dataclass(frozen=True)
class Placed:
    """Events found in a block: row (session) and column (ticker) of each, and its size."""

    rows: np.ndarray
    cols: np.ndarray
    sizes: np.ndarray

    def __iter__(self):
        return zip(self.rows.tolist(), self.cols.tolist(), self.sizes.tolist(), strict=True)

    def __len__(self) -> int:
        return len(self.rows)


def place(
    events: Sequence[ScriptedEvent], tickers: Sequence[str], sessions: pd.DatetimeIndex
) -> Placed:
    """Where ``events`` fall among ``tickers`` (columns) and ``sessions`` (rows); events
    whose ticker or session is not in the block are left out."""
    columns = {ticker: col for col, ticker in enumerate(tickers)}
    rows, cols, sizes = [], [], []
    for event in events:
        col = columns.get(event.ticker)
        row = int(sessions.searchsorted(event.day))
        if col is None or row == len(sessions) or sessions[row] != event.day:
            continue
        rows.append(row)
        cols.append(col)
        sizes.append(event.size)
    return Placed(
        np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(sizes, dtype=float)
    )


def apply_standing_moves(
    daily_log_moves: np.ndarray, tickers: Sequence[str], sessions: pd.DatetimeIndex
) -> None:
    """Set the crash's and the spike's session to their move, in place (daily log moves,
    before dividends): the path goes on from there, so the move stands."""
    for row, col, size in place(STANDING_MOVES, tickers, sessions):
        daily_log_moves[row, col] = np.log1p(size)


def scripted_splits(tickers: Sequence[str], sessions: pd.DatetimeIndex) -> Placed:
    """The scripted splits in the block: (row, column, ratio as ``raw.prices`` states it)."""
    return place(SPLITS, tickers, sessions)


def bad_ticks(tickers: Sequence[str], sessions: pd.DatetimeIndex) -> Placed:
    """The bad prints in the block: (row, column, factor on the session's prices)."""
    return place(BAD_TICKS, tickers, sessions)


def listed_rows(tickers: Sequence[str], sessions: pd.DatetimeIndex) -> np.ndarray:
    """How many of ``sessions`` (a run up to the sample's end) each ticker has a price on,
    from the first: all of them, but for a delisted ticker or a series that ends early."""
    stops = np.full(len(tickers), len(sessions), dtype=np.int64)
    columns = {ticker: col for col, ticker in enumerate(tickers)}
    for event in DELISTINGS:
        if event.ticker in columns:
            stops[columns[event.ticker]] = sessions.searchsorted(event.day, side="right")
    for early in EARLY_ENDS:
        if early.ticker in columns:
            stops[columns[early.ticker]] = max(len(sessions) - early.sessions, 0)
    return stops


def last_listed_days(tickers: Sequence[str]) -> np.ndarray:
    """Each ticker's last session (datetime64[D]) if it is delisted, else the far future:
    fundamentals have no quarter ending after it."""
    last = np.full(len(tickers), np.datetime64("2262-01-01", "D"))
    delisted = {event.ticker: np.datetime64(event.date, "D") for event in DELISTINGS}
    for col, ticker in enumerate(tickers):
        if ticker in delisted:
            last[col] = delisted[ticker]
    return last
