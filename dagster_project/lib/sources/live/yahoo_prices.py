"""Daily prices from Yahoo through yfinance: batched, incremental, stored as traded.

How a load goes:

1. ``plan_starts``: a ticker the warehouse holds is fetched from its ``OVERLAP_SESSIONS``-th
   latest held session (Yahoo revises recent days); a ticker it does not hold, from the
   window's start.
2. Tickers sharing a start are fetched together with ``yf.download`` (one call, yfinance
   runs the per-ticker chart requests in parallel). A ticker that comes back empty (yfinance
   returns all-NaN columns rather than raising for a delisted or throttled symbol) is
   retried alone, with backoff, which also yields the reason when it keeps failing.
3. ``refetch_reason``: when the fetched days carry a split or dividend the warehouse does not
   have, or the overlapping closes disagree with the held ones (a split Yahoo applied to
   days before the overlap), the ticker's whole history is fetched again, so its as-traded
   history stays consistent end to end.

Yahoo's closes are split-adjusted to the day of the request, so every fetch runs to today
and is trimmed to the window afterwards: the splits after ``--end`` are needed to undo it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dagster_project.lib.sources.base import (
    Batch,
    HeldPrices,
    SourceUnavailable,
    Window,
    empty_frame,
)
from dagster_project.lib.sources.live.config import OVERLAP_SESSIONS
from dagster_project.lib.sources.live.retry import Backoff, is_network_error, retry
from dagster_project.lib.sources.live.yahoo_session import (
    EmptyHistory,
    forget_cached_responses,
    raising_errors,
    worth_retrying,
)
from dagster_project.lib.sources.yahoo_layout import as_traded
from dagster_project.lib.warehouse.schemas import PRICES

log = logging.getLogger(__name__)

CLOSE_TOLERANCE = 0.01
"""Overlapping closes further apart than 1% mean history moved (a split), not a revision."""


def plan_starts(
    tickers: Iterable[str], window: Window, held: HeldPrices, overlap: int = OVERLAP_SESSIONS
) -> dict[str, dt.date]:
    """The first date to fetch for each ticker.

    A held ticker restarts ``overlap`` sessions back from its latest held session (never
    before the window, never after its end); anything else starts at the window's start.
    Counting held rows, not calendar days, makes the overlap a number of trading sessions
    whatever the holidays.
    """
    starts = {}
    for ticker in tickers:
        rows = held.rows(ticker)
        if rows.empty:
            starts[ticker] = window.start
            continue
        restart = pd.Timestamp(rows["trade_date"].iloc[-overlap:].min()).date()
        starts[ticker] = min(max(window.start, restart), window.end)
    return starts


def refetch_reason(fetched: pd.DataFrame, held_rows: pd.DataFrame) -> str | None:
    """Why a ticker's whole history must be fetched again, or None when the tail will do.

    ``fetched`` are the canonical rows of the incremental fetch, ``held_rows`` what the
    warehouse holds at its end. Reasons: a split or dividend in the fetched days that the
    warehouse does not hold (a new corporate action: Yahoo's adjusted history moved), or
    overlapping closes more than ``CLOSE_TOLERANCE`` apart (Yahoo applied a split to days
    before the overlap, so the held as-traded closes no longer line up).
    """
    held = held_rows.assign(trade_date=pd.to_datetime(held_rows["trade_date"])).set_index(
        "trade_date"
    )
    new = fetched.assign(trade_date=pd.to_datetime(fetched["trade_date"])).set_index("trade_date")
    for column, what in (("splits", "split"), ("dividends", "dividend")):
        events = new[new[column].fillna(0) > 0]
        for day, value in events[column].items():
            known = held[column].get(day)
            if known is None or not np.isclose(known or 0.0, value, rtol=1e-4):
                return f"new {what} {value:g} on {day.date()}"
    both = new[["close"]].join(held[["close"]], rsuffix="_held", how="inner").dropna()
    moved = (both["close"] / both["close_held"] - 1).abs() > CLOSE_TOLERANCE
    if moved.any():
        day = moved[moved].index[0]
        row = both.loc[day]
        return f"close on {day.date()} is now {row['close']:g}, held {row['close_held']:g}"
    return None


@dataclass
class YahooPrices:
    """Fetches Yahoo-layout daily histories for groups of tickers, with retries."""

    session_factory: Callable[[], object]
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep

    def fetch(
        self, tickers: Sequence[str], start: dt.date
    ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
        """Yahoo-layout frames (indexed by date) per ticker from ``start`` to today, and
        the reason for each ticker that has none."""
        session = self.session_factory()
        frames = self._download(tickers, start, session)
        failures: dict[str, str] = {}
        missing = [t for t in tickers if t not in frames]
        if missing and len(missing) == len(tickers) > 1:
            # Nothing for anyone: an outage, not a ticker. Retry the batch, not each name.
            try:
                frames = retry(
                    lambda: self._download(tickers, start, session, require_any=True),
                    policy=self.policy,
                    is_retryable=lambda e: isinstance(e, EmptyHistory) or is_network_error(e),
                    sleep=self.sleep,
                )
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                return {}, dict.fromkeys(tickers, reason)
            missing = [t for t in tickers if t not in frames]
        for ticker in missing:
            try:
                frames[ticker] = retry(
                    lambda ticker=ticker: self._history(ticker, start, session),
                    policy=self.policy,
                    is_retryable=worth_retrying,
                    sleep=self.sleep,
                    on_retry=lambda n, e, d, ticker=ticker: log.info(
                        "%s: retry %d in %.1fs after %s", ticker, n, d, type(e).__name__
                    ),
                )
            except Exception as exc:
                failures[ticker] = f"{type(exc).__name__}: {exc}"
        return frames, failures

    def _download(
        self, tickers: Sequence[str], start: dt.date, session, require_any: bool = False
    ) -> dict[str, pd.DataFrame]:
        import yfinance as yf

        forget_cached_responses()
        data = yf.download(
            list(tickers),
            start=start.isoformat(),
            auto_adjust=False,
            actions=True,
            group_by="ticker",
            threads=True,
            progress=False,
            session=session,
            timeout=30,
        )
        frames = {}
        present = set(data.columns.get_level_values(0)) if data is not None else set()
        for ticker in tickers:
            if ticker in present:
                frame = data[ticker].dropna(subset=["Close"])
                if not frame.empty:
                    frames[ticker] = frame
        if require_any and not frames:
            raise EmptyHistory(f"Yahoo returned no prices for any of {len(tickers)} tickers")
        return frames

    def _history(self, ticker: str, start: dt.date, session) -> pd.DataFrame:
        import yfinance as yf

        forget_cached_responses()
        with raising_errors():
            frame = yf.Ticker(ticker, session=session).history(
                start=start.isoformat(),
                auto_adjust=False,
                actions=True,
                raise_errors=True,
                timeout=30,
            )
        frame = frame.dropna(subset=["Close"]) if "Close" in frame else frame.iloc[0:0]
        if frame.empty:
            raise EmptyHistory(f"{ticker}: Yahoo returned no prices since {start}")
        frame.index = pd.to_datetime(frame.index).tz_localize(None)
        return frame


def fetch_prices(
    yahoo: YahooPrices, tickers: Sequence[str], window: Window, held: HeldPrices
) -> Batch:
    """Canonical ``raw.prices`` rows for every ticker, each with the window it replaces."""
    starts = plan_starts(tickers, window, held)
    rows, windows, failures = {}, {}, {}
    refetch: list[str] = []
    for start, group in _grouped(starts).items():
        frames, failed = yahoo.fetch(group, start)
        failures.update(failed)
        for ticker, frame in frames.items():
            canonical = as_traded(frame, ticker)
            held_rows = held.rows(ticker)
            reason = refetch_reason(canonical, held_rows) if not held_rows.empty else None
            if reason and start > window.start:
                log.info("%s: fetching its whole history again: %s", ticker, reason)
                refetch.append(ticker)
                continue
            rows[ticker], windows[ticker] = canonical, Window(start, window.end)
    if refetch:
        frames, failed = yahoo.fetch(refetch, window.start)
        for ticker in refetch:
            if ticker in frames:
                rows[ticker] = as_traded(frames[ticker], ticker)
                windows[ticker] = Window(window.start, window.end)
            else:
                failures[ticker] = f"whole-history refetch failed: {failed.get(ticker)}"
    trimmed = [
        frame[
            (frame["trade_date"] >= pd.Timestamp(windows[t].start))
            & (frame["trade_date"] <= pd.Timestamp(window.end))
        ]
        for t, frame in rows.items()
    ]
    frame = pd.concat(trimmed, ignore_index=True) if trimmed else empty_frame(PRICES)
    if frame.empty:
        detail = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
        raise SourceUnavailable(
            f"live: Yahoo returned no prices for any of {len(tickers)} tickers in "
            f"{window.start}..{window.end}. Is the network up and Yahoo reachable (it "
            f"throttles or blocks some networks)? {detail}"
        )
    return Batch(frame=frame[list(PRICES.payload)], windows=windows, failures=failures)


def _grouped(starts: dict[str, dt.date]) -> dict[dt.date, list[str]]:
    """Tickers by fetch start: one ``yf.download`` call per distinct start."""
    groups: dict[dt.date, list[str]] = {}
    for ticker, start in starts.items():
        groups.setdefault(start, []).append(ticker)
    return dict(sorted(groups.items()))
