"""Price paths as traded: factor returns plus noise, then dividends, splits, OHLC, volume.

Everything is one matrix (sessions x instruments) at a time; the only loop over days is
the mean-reverting idiosyncratic recursion, vectorised across instruments.

How the as-traded close is built, in log space:

1. daily total return = factor exposures @ factor returns + drift + idiosyncratic move;
2. on an ex-dividend day add log(1 - y): the price drops by the dividend, worth the
   fraction y of the cum-dividend price;
3. cumulate, start from the instrument's first price: the unsplit as-traded price U;
4. a stock splits the session after U's running high first crosses its threshold (and
   again each time U climbs by another ratio): close = U / cumulative split factor.

So undoing splits and dividends (what dbt does) gives back the total return exactly.
Small caps' own moves include jumps (``calibration.JUMPS``); the scripted extremes
(``extremes``: a crash, a spike, a reverse split, a bad print, a delisting, an index
series that ends early) are applied along the way, by ticker and session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from dagster_project.lib.sources.sample import extremes
from dagster_project.lib.sources.sample.calibration import JUMPS, SESSIONS_PER_YEAR
from dagster_project.lib.sources.sample.factors import FactorPaths
from dagster_project.lib.sources.sample.processes import ar1_increments, persistence
from dagster_project.lib.sources.sample.randomness import (
    Stream,
    YearStreams,
    draws_by_day,
    student_t,
    uniform,
)
from dagster_project.lib.sources.sample.traits import Traits
from dagster_project.lib.warehouse.schemas import PRICES

INTRADAY_SHARE = 0.7
"""Share of a day's move that happens between the open and the close (the rest gaps)."""
IDIO_TAIL_DF = 5.0
"""Student-t degrees of freedom of stock-specific shocks: earnings-day jumps, not 75% days."""
VOLUME_NOISE = 0.35
VOLUME_PER_UNIT_MOVE = 25.0
"""Volume rises with the size of the move: a 4% day trades about twice a quiet one."""
MIN_PRICE = 0.01
CHUNK_SESSIONS = 256
STRING = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' default string dtype, Arrow-backed."""
OHLCV_COLUMNS = ("open", "high", "low", "close", "volume", "dividends", "splits")


@dataclass(frozen=True)
class Events:
    """Sparse corporate actions: (row, column, value) triples, sorted by row, at most one
    per row and column."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray

    def dense(self, first_row: int, last_row: int, width: int) -> np.ndarray:
        """The events in rows [first_row, last_row) as a zero-filled matrix."""
        out = np.zeros((last_row - first_row, width))
        kept = self.within(slice(first_row, last_row))
        out[kept.rows, kept.cols] = kept.values
        return out

    def within(self, rows: slice) -> Events:
        """The events in ``rows`` (a slice without step), rows counted from its start."""
        keep = (self.rows >= rows.start) & (self.rows < rows.stop)
        return Events(self.rows[keep] - rows.start, self.cols[keep], self.values[keep])

    def merged(self, other: Events) -> Events:
        """Both sets of events; two on the same row and column become one, their product
        (splits on the same session multiply)."""
        if not len(other.rows):
            return self
        rows = np.concatenate([self.rows, other.rows])
        cols = np.concatenate([self.cols, other.cols])
        values = np.concatenate([self.values, other.values])
        order = np.lexsort((cols, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        starts = np.flatnonzero(first)
        return Events(rows[starts], cols[starts], np.multiply.reduceat(values, starts))


@dataclass(frozen=True)
class QuarterMarks:
    """What fundamentals need at each fiscal quarter end (one row per quarter).

    ``smoothed_price`` is the trailing-year mean price in the quarter's share terms:
    earnings follow a company's value, not each day's noise, so EPS built from it makes
    trailing P/E move with the price the way it does in real markets.
    """

    period_ends: pd.DatetimeIndex
    split_factor: np.ndarray
    smoothed_price: np.ndarray


@dataclass(frozen=True)
class PriceBlock:
    """As-traded prices of some instruments over some sessions.

    Stored compactly: ``close`` in float64; the open, high and low as float32 log
    offsets from the close and the volume as float32, expanded only for the rows asked for.
    """

    tickers: np.ndarray
    sessions: pd.DatetimeIndex
    close: np.ndarray
    open_offset: np.ndarray
    high_extension: np.ndarray
    low_extension: np.ndarray
    volume: np.ndarray
    dividends: Events
    splits: Events
    listed_rows: np.ndarray
    """Sessions each instrument has a price on, counted from the first: fewer than all for
    a delisted stock or a series that ends early (``extremes``)."""


def simulate_prices(
    traits: Traits,
    factors: FactorPaths,
    sessions: pd.DatetimeIndex,
    seed: int,
    keep: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    streams: YearStreams | None = None,
) -> PriceBlock:
    """As-traded prices of ``traits``' instruments over ``sessions`` (a run of factor rows),
    or over those of them within ``keep`` (first and last day).

    The path always runs from ``sessions[0]``: a close is every earlier move summed, and a
    split depends on the running high. The open, high, low and volume, three quarters of
    the random draws, are drawn only for the sessions kept, which is what makes a one-day
    window cheap; any window gets the same numbers as the whole history. ``sessions`` end
    on the sample's last session: a series that ends early (``extremes``) counts from it.

    A scripted split (``extremes.REVERSE_SPLIT``, ratio 0.1) divides the as-traded price
    by its ratio from its session on (x10) and multiplies the volume by it; forward
    splits still count on the unsplit price, so a reverse split never brings one on.
    """
    kept = kept_rows(sessions, keep)
    rows = factors.rows(sessions)
    vol_state = factors.vol_state[rows]
    log_price = daily_log_moves(traits, factors, sessions, vol_state, seed, streams)
    kept_sessions = sessions[kept]
    open_offset, high_extension, low_extension = intraday_shape(
        traits, kept_sessions, vol_state[kept], log_price[kept], seed, streams
    )
    volume = traded_volume(traits, kept_sessions, log_price[kept], seed, streams)

    ex_rows, ex_cols, ex_yields = dividend_schedule(traits, sessions)
    cumulate_unsplit(log_price, traits, ex_rows, ex_cols, ex_yields)
    splits_in_force = split_counts(log_price, traits)
    scripted = extremes.scripted_splits(traits.tickers, sessions)
    split_steps = split_events(splits_in_force, traits.split_ratio).merged(
        Events(scripted.rows, scripted.cols, scripted.sizes)
    )
    log_split_ratio = np.log(traits.split_ratio)
    log_price = log_price[kept]
    splits_in_force = splits_in_force[kept]
    log_price -= splits_in_force * log_split_ratio
    volume *= np.exp(splits_in_force * log_split_ratio).astype(np.float32)
    for row, col, ratio in scripted:
        from_row = min(max(row - kept.start, 0), len(kept_sessions))
        log_price[from_row:, col] -= np.log(ratio)
        volume[from_row:, col] *= np.float32(ratio)

    close = np.exp(log_price, out=log_price)
    dividends = Events(ex_rows, ex_cols, ex_yields).within(kept)
    ex_yields = dividends.values
    ex_amounts = close[dividends.rows, dividends.cols] * ex_yields / (1 - ex_yields)
    np.round(close, 2, out=close)
    np.maximum(close, MIN_PRICE, out=close)
    for row, col, factor in extremes.bad_ticks(traits.tickers, kept_sessions):
        close[row, col] = max(round(close[row, col] * factor, 2), MIN_PRICE)
    listed = extremes.listed_rows(traits.tickers, sessions)
    return PriceBlock(
        tickers=traits.tickers,
        sessions=kept_sessions,
        close=close,
        open_offset=open_offset,
        high_extension=high_extension,
        low_extension=low_extension,
        volume=volume,
        dividends=Events(dividends.rows, dividends.cols, np.round(ex_amounts, 4)),
        splits=split_steps.within(kept),
        listed_rows=np.clip(listed - kept.start, 0, len(kept_sessions)),
    )


def simulate_quarter_marks(
    traits: Traits,
    factors: FactorPaths,
    sessions: pd.DatetimeIndex,
    seed: int,
    quarter_ends: pd.DatetimeIndex,
) -> QuarterMarks:
    """The price marks fundamentals need at each quarter end: the same paths as
    ``simulate_prices``, without the open, high, low and volume nobody reads here."""
    vol_state = factors.vol_state[factors.rows(sessions)]
    log_price = daily_log_moves(traits, factors, sessions, vol_state, seed)
    cumulate_unsplit(log_price, traits, *dividend_schedule(traits, sessions))
    smoothed_log = trailing_year_means(log_price, sessions, quarter_ends)
    splits_in_force = split_counts(log_price, traits)
    rows_at = quarter_rows(sessions, quarter_ends)
    split_factor = np.exp(splits_in_force[rows_at] * np.log(traits.split_ratio))
    for row, col, ratio in extremes.scripted_splits(traits.tickers, sessions):
        split_factor[rows_at >= row, col] *= ratio
    return QuarterMarks(
        period_ends=quarter_ends,
        split_factor=split_factor,
        smoothed_price=np.exp(smoothed_log) / split_factor,
    )


def kept_rows(sessions: pd.DatetimeIndex, keep: tuple[pd.Timestamp, pd.Timestamp] | None) -> slice:
    """The rows of ``sessions`` within ``keep`` (first and last day; all when None)."""
    if keep is None:
        return slice(0, len(sessions))
    first, last = keep
    return slice(int(sessions.searchsorted(first)), int(sessions.searchsorted(last, side="right")))


def daily_log_moves(
    traits: Traits,
    factors: FactorPaths,
    sessions: pd.DatetimeIndex,
    vol_state: np.ndarray,
    seed: int,
    streams: YearStreams | None = None,
) -> np.ndarray:
    """Daily total log returns before dividends: factor exposures, drift, own moves, and
    the scripted crash and spike (``extremes``) on their sessions."""
    log_price = factors.returns[factors.rows(sessions)] @ traits.exposures.T
    log_price += traits.annual_drift / SESSIONS_PER_YEAR
    log_price += idiosyncratic_moves(traits, sessions, vol_state, seed, streams)
    extremes.apply_standing_moves(log_price, traits.tickers, sessions)
    return log_price


def cumulate_unsplit(
    log_price: np.ndarray,
    traits: Traits,
    ex_rows: np.ndarray,
    ex_cols: np.ndarray,
    ex_yields: np.ndarray,
) -> None:
    """Daily log moves -> unsplit as-traded log price, in place: an ex-dividend day drops by
    the dividend's share of the price, then the moves add up from the first price."""
    log_price[ex_rows, ex_cols] += np.log1p(-ex_yields)
    np.cumsum(log_price, axis=0, out=log_price)
    log_price += np.log(traits.start_price)


MAX_IDIOSYNCRATIC_SHOCK = np.float32(0.2)
"""Cap on a day's ordinary stock-specific shock (log): the Student-t noise models the
common days; the rare large ones are the jumps (``jump_shocks``), sized from real data."""


def idiosyncratic_moves(
    traits: Traits,
    sessions: pd.DatetimeIndex,
    vol_state: np.ndarray,
    seed: int,
    streams: YearStreams | None = None,
) -> np.ndarray:
    """Daily idiosyncratic log moves: fat-tailed, volatility-clustered, mean-reverting.

    Their volatility follows the square root of the market's volatility state: stock-
    specific noise rises in a crisis, but less than the market's own.

    The level follows x_t = phi * x_{t-1} + shock_t (an AR(1) whose half-life is the
    trait), and the daily move is its change: a stock's own story moves it for years but
    does not drive it to zero or to the moon, which keeps prices and splits plausible.
    A small cap's shocks include jumps: a jump moves the level, so it stands the next day
    and fades only as the stock's story does, over years.
    """
    shocks = draws_by_day(
        seed, Stream.IDIOSYNCRATIC, sessions, traits.slots, student_t(IDIO_TAIL_DF), streams
    )
    shocks *= traits.idio_vol.astype(np.float32)
    shocks *= np.sqrt(vol_state)[:, None].astype(np.float32)
    # The ordinary noise stays below this; days beyond it are the jumps' (calibrated).
    np.clip(shocks, -MAX_IDIOSYNCRATIC_SHOCK, MAX_IDIOSYNCRATIC_SHOCK, out=shocks)
    jumpers = np.flatnonzero(traits.jump_rate > 0)
    if len(jumpers):
        rows, cols, jumps = jump_shocks(
            traits.jump_rate[jumpers], traits.slots[jumpers], sessions, seed, streams
        )
        shocks[rows, jumpers[cols]] += jumps
    return ar1_increments(shocks, persistence(traits.idio_half_life).astype(np.float32))


def jump_shocks(
    rates: np.ndarray,
    slots: np.ndarray,
    sessions: pd.DatetimeIndex,
    seed: int,
    streams: YearStreams | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The jumps of some stocks, from their own stream: (row, column, log jump) of each,
    rows counted in ``sessions``, columns in ``rates`` and ``slots``.

    One uniform draw u per stock and session: a jump happens when u < rate, and u / rate,
    itself uniform then, picks its direction (falls with ``JUMPS.down_share``) and its size,
    a simple return with a Pareto tail from ``JUMPS.smallest`` (capped) calibrated so that
    moves beyond 50% are as rare next to those beyond 25% as in real small caps.
    """
    u = draws_by_day(seed, Stream.JUMPS, sessions, slots, uniform, streams)
    rows, cols = np.nonzero(u < rates.astype(np.float32))
    v = np.minimum(u[rows, cols].astype(np.float64) / rates[cols], np.nextafter(1.0, 0.0))
    down = v < JUMPS.down_share
    w = np.where(down, v / JUMPS.down_share, (v - JUMPS.down_share) / (1 - JUMPS.down_share))
    size = JUMPS.smallest * np.maximum(1.0 - w, 1e-12) ** (-1.0 / JUMPS.tail_index)
    fall = np.log1p(-np.minimum(size, JUMPS.largest_fall))
    rise = np.log1p(np.minimum(size, JUMPS.largest_rise))
    return rows, cols, np.where(down, fall, rise).astype(np.float32)


def intraday_shape(
    traits: Traits,
    sessions: pd.DatetimeIndex,
    vol_state: np.ndarray,
    daily_move: np.ndarray,
    seed: int,
    streams: YearStreams | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log offsets of open, high and low from the close (float32).

    The open sits part of the way from the previous close toward today's close (most of
    a move happens in the session), plus a gap; the high and low reach beyond the open and
    close by a half-normal amount that scales with the instrument's volatility that day.
    """
    day_vol = (vol_state[:, None] * traits.total_vol).astype(np.float32)
    open_offset = draws_by_day(seed, Stream.OPEN_GAP, sessions, traits.slots, streams=streams)
    open_offset *= 0.25 * day_vol
    open_offset -= (INTRADAY_SHARE * daily_move).astype(np.float32)
    extensions = []
    for stream in (Stream.HIGH_EXTENSION, Stream.LOW_EXTENSION):
        extension = np.abs(draws_by_day(seed, stream, sessions, traits.slots, streams=streams))
        extension *= 0.5 * day_vol
        extensions.append(extension)
    return open_offset, extensions[0], extensions[1]


def traded_volume(
    traits: Traits,
    sessions: pd.DatetimeIndex,
    daily_move: np.ndarray,
    seed: int,
    streams: YearStreams | None = None,
) -> np.ndarray:
    """Shares traded per session (float32, before split adjustment): noisy, busier on big moves."""
    volume = draws_by_day(seed, Stream.VOLUME, sessions, traits.slots, streams=streams)
    volume *= VOLUME_NOISE
    np.exp(volume, out=volume)
    volume *= traits.daily_volume.astype(np.float32)
    volume *= 1.0 + VOLUME_PER_UNIT_MOVE * np.abs(daily_move).astype(np.float32)
    return volume


def dividend_schedule(
    traits: Traits, sessions: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ex-dividend (row, column, quarterly yield) for every payer, sorted by row.

    Payers go ex four times a year on the first session on or after their usual day of
    their usual months, e.g. mid-March, June, September and December for an S&P fund.
    """
    payers = np.flatnonzero(traits.dividend_yield > 0)
    if len(sessions) == 0 or len(payers) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([])
    year_grid, month_grid, col_grid = np.broadcast_arrays(
        np.arange(sessions[0].year, sessions[-1].year + 1)[:, None, None],
        np.arange(4)[None, :, None] * 3 + traits.dividend_month[payers][None, None, :],
        payers[None, None, :],
    )
    targets = pd.to_datetime(
        {
            "year": year_grid.ravel(),
            "month": month_grid.ravel(),
            "day": traits.dividend_day[col_grid.ravel()],
        }
    ).to_numpy()
    cols = col_grid.ravel()
    rows = np.searchsorted(sessions.to_numpy(), targets, side="left")
    keep = (targets >= sessions[0].to_datetime64()) & (rows < len(sessions))
    rows, cols = rows[keep], cols[keep]
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    return rows, cols, traits.dividend_yield[cols] / 4


def split_counts(log_unsplit: np.ndarray, traits: Traits) -> np.ndarray:
    """How many splits each stock has done by each session (float32 matrix).

    The k-th split happens the session after the unsplit price's running high first
    exceeds threshold * ratio**(k-1): each time the as-traded price climbs back above the
    threshold. Computed from the running maximum, so no loop over days is needed.
    """
    count = np.maximum.accumulate(log_unsplit, axis=0)
    count -= np.log(traits.split_threshold)
    count /= np.log(np.where(traits.split_ratio > 1, traits.split_ratio, 2.0))
    np.floor(count, out=count)
    count += 1
    np.maximum(count, 0, out=count)
    in_force = np.zeros(count.shape, dtype=np.float32)
    in_force[1:] = count[:-1]
    return in_force


def split_events(splits_in_force: np.ndarray, ratios: np.ndarray) -> Events:
    """(row, column, ratio) for each session where a stock's split count steps up."""
    steps = np.diff(splits_in_force, axis=0)
    rows, cols = np.nonzero(steps)
    return Events(rows + 1, cols, ratios[cols] ** steps[rows, cols].astype(np.float64))


def quarter_rows(sessions: pd.DatetimeIndex, quarter_ends: pd.DatetimeIndex) -> np.ndarray:
    """Row of the last session on or before each quarter end (which must follow sessions[0])."""
    return np.searchsorted(sessions.to_numpy(), quarter_ends.to_numpy(), side="right") - 1


def trailing_year_means(
    log_price: np.ndarray, sessions: pd.DatetimeIndex, quarter_ends: pd.DatetimeIndex
) -> np.ndarray:
    """Mean log price over the four quarters up to each quarter end (one row per quarter).

    Uses per-quarter sums (np.add.reduceat), then a rolling 4-quarter window: one pass
    over the matrix instead of a rolling mean per day.
    """
    last_rows = quarter_rows(sessions, quarter_ends)
    starts = np.concatenate([[0], last_rows[:-1] + 1])
    sums = np.add.reduceat(log_price, starts, axis=0)
    sums[-1] = log_price[starts[-1] : last_rows[-1] + 1].sum(axis=0)
    window_sums = np.cumsum(sums, axis=0)
    window_counts = np.cumsum(last_rows - starts + 1).astype(np.float64)
    window_sums[4:] -= window_sums[:-4].copy()
    window_counts[4:] -= window_counts[:-4].copy()
    return window_sums / window_counts[:, None]


def price_frame(
    blocks: Sequence[PriceBlock], first_day: pd.Timestamp, last_day: pd.Timestamp
) -> pd.DataFrame:
    """Payload rows of ``raw.prices`` for sessions in [first_day, last_day], date-major.

    ``blocks`` (e.g. funds and stocks, simulated over different spans) must all cover
    the window; their instruments are laid side by side. Rows come ordered by trade date,
    then instrument, so a warehouse reloading a date window touches contiguous rows.
    Columns are filled a chunk of sessions at a time, so the only large allocations are
    the output columns themselves.
    """
    spans = [
        (b.sessions.searchsorted(first_day), b.sessions.searchsorted(last_day, side="right"))
        for b in blocks
    ]
    sessions = blocks[0].sessions[spans[0][0] : spans[0][1]]
    tickers = np.concatenate([b.tickers for b in blocks])
    width = len(tickers)
    columns = {name: np.empty((len(sessions), width)) for name in OHLCV_COLUMNS}
    for chunk_start in range(0, len(sessions), CHUNK_SESSIONS):
        chunk_end = min(chunk_start + CHUNK_SESSIONS, len(sessions))
        offset = 0
        for block, (first, _) in zip(blocks, spans, strict=True):
            rows = slice(first + chunk_start, first + chunk_end)
            cols = slice(offset, offset + len(block.tickers))
            for name, values in ohlcv(block, rows).items():
                columns[name][chunk_start:chunk_end, cols] = values
            offset += len(block.tickers)
    listed = listed_mask(blocks, spans)
    keep = None if listed is None else listed.ravel()

    def kept(values: np.ndarray) -> np.ndarray:
        return values if keep is None else values[keep]

    frame = {
        "ticker": ticker_column(tickers, len(sessions), keep),
        "trade_date": kept(np.repeat(sessions.to_numpy(), width)),
    }
    for name in OHLCV_COLUMNS:
        frame[name] = kept(columns.pop(name).ravel())  # one column copied at a time
    frame["adj_close"] = np.broadcast_to(np.nan, len(frame["trade_date"]))
    return pd.DataFrame(frame, copy=False)[list(PRICES.payload)]


def listed_mask(blocks: Sequence[PriceBlock], spans: list[tuple[int, int]]) -> np.ndarray | None:
    """Which (session, instrument) cells of ``price_frame``'s window have a price, or None
    when all do (the usual case: no delisting or early end inside the window)."""
    if all(
        (block.listed_rows >= last).all() for block, (_, last) in zip(blocks, spans, strict=True)
    ):
        return None
    return np.concatenate(
        [
            np.arange(first, last)[:, None] < block.listed_rows[None, :]
            for block, (first, last) in zip(blocks, spans, strict=True)
        ],
        axis=1,
    )


def ohlcv(block: PriceBlock, rows: slice) -> dict[str, np.ndarray]:
    """Open, high, low, close, volume, dividends and splits of some rows of a block.

    Prices are rounded to cents and clamped so that
    0 < low <= min(open, close) <= max(open, close) <= high.
    """
    close = block.close[rows]
    open_ = np.maximum(np.round(close * np.exp(block.open_offset[rows]), 2), MIN_PRICE)
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    first, last, _ = rows.indices(len(block.sessions))
    return {
        "open": open_,
        "high": np.maximum(np.round(top * np.exp(block.high_extension[rows]), 2), top),
        "low": np.clip(np.round(bottom * np.exp(-block.low_extension[rows]), 2), MIN_PRICE, bottom),
        "close": close,
        "volume": np.maximum(np.round(block.volume[rows].astype(np.float64), -2), 100.0),
        "dividends": block.dividends.dense(first, last, len(block.tickers)),
        "splits": block.splits.dense(first, last, len(block.tickers)),
    }


def ticker_column(tickers: np.ndarray, repeats: int, keep: np.ndarray | None = None) -> pd.Series:
    """The ticker column for ``repeats`` date-major rows of ``tickers`` (pandas ``str``),
    or for the rows ``keep`` (a boolean mask over them) says.

    Built as an Arrow dictionary and decoded once: millions of repeated names in a
    fraction of a second, instead of seconds through Python objects.
    """
    codes = np.tile(np.arange(len(tickers), dtype=np.int32), repeats)
    codes = pa.array(codes if keep is None else codes[keep])
    names = pa.DictionaryArray.from_arrays(codes, pa.array(list(tickers), pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(names.cast(pa.string()), dtype=STRING))
