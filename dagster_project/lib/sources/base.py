"""The source interface: one protocol, several implementations (sample, live, files).

A source answers for a date window and returns frames whose columns are exactly the
payload columns of the canonical raw schemas (``dagster_project.lib.warehouse.schemas``). It never
writes: the warehouse writer owns every write.

A fetch method may return a plain frame (it then replaces the requested window for every
key it holds) or a ``Batch``, which can also say that some keys replace a window of their
own (an incremental load) and which keys could not be fetched, and why. A source whose
frame would be too large to hold at once may return a ``FrameChunks`` in place of a frame.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pandas as pd

from dagster_project.lib.warehouse.schemas import PRICES, RawTable


@dataclass(frozen=True)
class Window:
    """An inclusive date window [start, end] to load."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")


class SourceError(RuntimeError):
    """A source could not produce data; the message names what and why."""


class SourceUnavailable(SourceError):
    """A source answered nothing at all: the network, the provider's throttling or an
    outage, not the data. Unlike a bad file or a rejected key, it may pass by itself, so a
    load that failed this way is worth running again later."""


class NotConfigured(SourceError):
    """A source could load a table but is not set up to (a missing setting): the load is
    skipped, not failed, and the message says how to enable it."""


class FrameChunks:
    """One table's rows as a sequence of frames, each made only when the previous is done.

    Why: at 3,000 tickers x 25 years the sample's prices are a 19M-row frame (~1.5 GB in
    pandas). The warehouse writer inserts a ``FrameChunks`` one chunk at a time inside one
    transaction (``warehouse.replace_window``), so no process ever holds the whole frame,
    and a failure mid-load still leaves the table as it was.

    A source may return one wherever it may return a frame (``Source.prices``,
    ``Batch.frame``). It is not a ``pd.DataFrame`` and does not pretend to be one: code
    that writes or scans the rows reads ``frame_chunks(rows)``; code that needs them as one
    frame (tests, small windows, wrappers that edit a source's rows) asks for it explicitly
    with ``as_frame(rows)`` (or ``to_frame``), which assembles every chunk in memory.

    ``make_chunks`` is called afresh for every pass, so the chunks are produced again
    rather than kept. Chunks may share keys; ``assemble`` joins them into the one frame
    (by default a plain concatenation in chunk order).
    """

    def __init__(
        self,
        make_chunks: Callable[[], Iterable[pd.DataFrame]],
        assemble: Callable[[list[pd.DataFrame]], pd.DataFrame] | None = None,
    ) -> None:
        self._make_chunks = make_chunks
        self._assemble = assemble or concat_chunks

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The chunks, produced one by one (a new pass each call)."""
        yield from self._make_chunks()

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        """All chunks as one frame (built on first use, then kept)."""
        return self._assemble(list(self.chunks()))

    def to_frame(self) -> pd.DataFrame:
        """All chunks as one frame (``frame``)."""
        return self.frame

    def __repr__(self) -> str:
        return f"FrameChunks({self._make_chunks!r})"


def concat_chunks(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks one after the other, re-indexed from 0."""
    return pd.concat(chunks, ignore_index=True)


def frame_chunks(frame: pd.DataFrame | FrameChunks) -> Iterator[pd.DataFrame]:
    """The chunks of a ``FrameChunks``, or a plain frame as its only chunk."""
    if isinstance(frame, FrameChunks):
        return frame.chunks()
    return iter([frame])


def as_frame(rows: pd.DataFrame | FrameChunks) -> pd.DataFrame:
    """A source's rows as one frame: a ``FrameChunks`` assembled (fine for tests and small
    windows; the warehouse writer reads chunks instead, see ``frame_chunks``)."""
    return rows.to_frame() if isinstance(rows, FrameChunks) else rows


FAILURES_KEY = "failures"
"""Metadata entry of a load listing the keys it could not fetch, with reasons (the fetch
checks read it)."""


@dataclass(frozen=True)
class Batch:
    """Rows for one raw table, the scope they replace, and the keys that failed.

    Why: an incremental source replaces a different date range per ticker (five sessions
    of overlap for one, the whole history for another that just split), and a source
    that could not fetch some keys must report them rather than quietly return less.
    ``windows`` maps a key (ticker, series) to the window its rows replace; keys not in
    it replace the requested window. ``failures`` maps a key to the reason it is missing.
    ``frame`` may be a ``FrameChunks`` (rows too many to hold at once).
    """

    frame: pd.DataFrame | FrameChunks
    windows: Mapping[str, Window] = field(default_factory=dict)
    failures: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)
    """Rows the source read and left out on purpose (not failures), counted by reason:
    e.g. the cash and futures lines of an ETF holdings file."""


def as_batch(result: pd.DataFrame | FrameChunks | Batch) -> Batch:
    """A fetch result as a ``Batch``: a plain frame replaces the requested window."""
    return result if isinstance(result, Batch) else Batch(frame=result)


def empty_frame(table: RawTable) -> pd.DataFrame:
    """A frame with no rows but the table's payload columns and dtypes."""
    dtypes = {
        "VARCHAR": "str",
        "DATE": "datetime64[ns]",
        "DOUBLE": "float64",
        "BOOLEAN": bool,
        "INTEGER": "Int64",
    }
    return pd.DataFrame(
        {
            name: pd.Series(dtype=dtypes[sql_type.split()[0]])
            for name, sql_type in table.payload.items()
        }
    )


HELD_COLUMNS = ("ticker", "trade_date", "close", "dividends", "splits")


@dataclass(frozen=True)
class HeldPrices:
    """The most recent rows ``raw.prices`` holds per ticker: what an incremental load builds on.

    ``tail`` has the columns ``HELD_COLUMNS``, the last few rows of each ticker, oldest
    first. An empty tail means the warehouse holds nothing yet.
    """

    tail: pd.DataFrame

    @classmethod
    def empty(cls) -> HeldPrices:
        return cls(empty_frame(PRICES)[list(HELD_COLUMNS)])

    def rows(self, ticker: str) -> pd.DataFrame:
        """The held tail of one ticker (no rows when it has none)."""
        return self.tail[self.tail["ticker"] == ticker].sort_values("trade_date")


class Source(Protocol):
    """What every source implements."""

    label: str
    """Stored in every raw row's ``source`` column, e.g. ``sample`` or ``live``."""

    synthetic: bool
    """True when the data is generated, so every surface can say so."""

    def universe(self) -> pd.DataFrame:
        """Payload columns of ``raw.universe``: every ticker the source covers."""
        ...

    def prices(self, window: Window) -> pd.DataFrame | FrameChunks | Batch:
        """Payload columns of ``raw.prices`` for trade dates inside the window."""
        ...

    def fundamentals(self, window: Window) -> pd.DataFrame | Batch:
        """Payload columns of ``raw.fundamentals`` for period ends inside the window."""
        ...

    def rates(self, window: Window) -> pd.DataFrame | Batch:
        """Payload columns of ``raw.rates`` for observation dates inside the window."""
        ...

    def valuation_snapshots(self, as_of: dt.date) -> pd.DataFrame | Batch:
        """Payload columns of ``raw.valuation_snapshots``: valuations as known on ``as_of``.

        Only a source that can see today's market has them; the others legitimately
        return an empty frame (the table then accumulates nothing).
        """
        ...


@runtime_checkable
class IncrementalPrices(Protocol):
    """A source that fetches only the prices the warehouse lacks (live).

    The ingest asset hands it what the warehouse holds; it returns a ``Batch`` whose
    per-ticker windows say how much of each ticker's history the new rows replace.
    """

    held_depth: int
    """How many of each ticker's latest held rows it needs to see."""

    def incremental_prices(self, window: Window, held: HeldPrices) -> Batch: ...


@runtime_checkable
class EdgarFacts(Protocol):
    """A source with SEC EDGAR XBRL facts (files, live; the sample shapes its own
    quarters as such): point-in-time GAAP earnings.

    Optional: a source without the method loads no facts, and the valuation marts fall
    back to ``raw.fundamentals`` for every ticker.
    """

    def edgar_facts(self, tickers: list[str]) -> pd.DataFrame | Batch:
        """Payload columns of ``raw.edgar_facts``: every fact version of ``tickers`` the
        source holds. Rows are appended (``warehouse.append_new_versions``), never replace.
        Raises ``NotConfigured`` when the source is not set up to fetch them."""
        ...


@runtime_checkable
class EtfHoldings(Protocol):
    """A source with ETF holdings files (files): fund constituents by holdings date, an
    alternative point-in-time universe (``int_universe_membership_holdings``).

    Optional: a source without the method (sample, live) loads none.
    """

    def etf_holdings(self) -> pd.DataFrame | Batch:
        """Payload columns of ``raw.etf_holdings``: every equity holding of every fund and
        holdings date the source holds. Each fund's rows replace all it held before."""
        ...
