"""Daily prices from Yahoo through yfinance: batched, incremental, stored as traded.

How a load goes:

0. ``check_network``: one probe per Yahoo host; when none can be reached (DNS, refused)
   the load stops at once with ``NoNetwork`` instead of retrying every ticker.
1. ``plan_starts``: a ticker the warehouse holds is fetched from its ``OVERLAP_SESSIONS``-th
   latest held session (Yahoo revises recent days), whatever the requested window's start:
   a gap of missed nights between the held rows and the window is fetched too. A ticker
   it does not hold, from the window's start.
2. Tickers sharing a start are fetched together with ``yf.download`` (one call, a few
   chart requests at a time, ``DOWNLOAD_THREADS``). A ticker that comes back empty
   (yfinance returns all-NaN columns rather than raising for a delisted or throttled
   symbol) is retried alone, with backoff, which also yields the reason when it keeps
   failing.
3. ``refetch_reason``: when the fetched days carry a split or dividend the warehouse does not
   have, or the overlapping closes disagree with the held ones (a split Yahoo applied to
   days before the overlap), the ticker's whole history (from ``HISTORY_START``, or the
   window's start if earlier) is fetched again, so its as-traded history stays consistent
   end to end.

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

from dagster_project.lib.calendar import HISTORY_START
from dagster_project.lib.sources.base import (
    Batch,
    HeldPrices,
    SourceUnavailable,
    Window,
    empty_frame,
)
from dagster_project.lib.sources.live.config import DOWNLOAD_THREADS, OVERLAP_SESSIONS
from dagster_project.lib.sources.live.network import NoNetwork
from dagster_project.lib.sources.live.retry import (
    Backoff,
    connection_failure,
    http_status,
    is_network_error,
    retry,
)
from dagster_project.lib.sources.live.yahoo_session import (
    YAHOO_TIMEOUT,
    EmptyHistory,
    UnknownSymbol,
    check_network,
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

    A held ticker restarts at its ``overlap``-th latest held session, even when that is
    before the window's start: the nights a build missed (held to 08-30, a 09-26 window)
    are fetched too, and the overlap is always re-read, since Yahoo revises recent days.
    Counting held rows, not calendar days, makes the overlap a number of trading sessions
    whatever the holidays. A ticker not held, or held past the window's end (an older
    window re-loaded), starts at the window's start.
    """
    starts = {}
    for ticker in tickers:
        rows = held.rows(ticker)
        if rows.empty:
            starts[ticker] = window.start
            continue
        restart = pd.Timestamp(rows["trade_date"].iloc[-overlap:].min()).date()
        starts[ticker] = restart if restart <= window.end else window.start
    return starts


def whole_history_start(window: Window) -> dt.date:
    """Where a ticker's whole history starts: the live source's span, or the window's
    start when it reaches further back."""
    return min(window.start, HISTORY_START)


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
    """Fetches Yahoo-layout daily histories for groups of tickers, with retries.

    ``network_check(session)`` raises ``NoNetwork`` when no Yahoo host can be reached; it
    runs before the first request and again whenever a request fails to connect at all,
    so a network lost mid-load ends the load instead of every ticker's retries.
    """

    session_factory: Callable[[], object]
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    network_check: Callable[[object], None] = check_network
    _checked: bool = field(default=False, init=False, repr=False)

    def fetch(
        self, tickers: Sequence[str], start: dt.date
    ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
        """Yahoo-layout frames (indexed by date) per ticker from ``start`` to today, and
        the reason for each ticker that has none."""
        session = self.session_factory()
        if not self._checked:
            self.network_check(session)
            self._checked = True
        frames = self._download(tickers, start, session)
        failures: dict[str, str] = {}
        missing = [t for t in tickers if t not in frames]
        if missing and len(missing) == len(tickers) > 1:
            # Nothing for anyone: an outage, not a ticker. Is the network still there (yf.
            # download logs its errors instead of raising)? Then retry the batch, not each
            # name.
            self.network_check(session)
            try:
                frames = retry(
                    lambda: self._download(tickers, start, session, require_any=True),
                    policy=self.policy,
                    is_retryable=self._retryable(
                        session,
                        lambda e: isinstance(e, EmptyHistory) or is_network_error(e),
                        suspect_network=lambda e: True,  # yf.download hides its errors
                    ),
                    sleep=self.sleep,
                )
            except NoNetwork:
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                return {}, dict.fromkeys(tickers, reason)
            missing = [t for t in tickers if t not in frames]
        for ticker in missing:
            try:
                frames[ticker] = retry(
                    lambda ticker=ticker: self._history(ticker, start, session),
                    policy=self.policy,
                    is_retryable=self._retryable(session, worth_retrying),
                    sleep=self.sleep,
                    on_retry=lambda n, e, d, ticker=ticker: log.info(
                        "%s: retry %d in %.1fs after %s", ticker, n, d, type(e).__name__
                    ),
                )
            except NoNetwork:
                raise
            except Exception as exc:
                failures[ticker] = f"{type(exc).__name__}: {exc}"
        return frames, failures

    def _retryable(
        self,
        session,
        worth: Callable[[BaseException], bool],
        suspect_network: Callable[[BaseException], bool] | None = None,
    ) -> Callable[[BaseException], bool]:
        """``worth``, after checking the network again when an error could be its loss
        (by default: the request could not connect at all). The check raises
        ``NoNetwork`` when no Yahoo host answers any more, which ends the retries."""
        suspect = suspect_network or (lambda e: connection_failure(e) is not None)

        def is_retryable(error: BaseException) -> bool:
            if suspect(error):
                self.network_check(session)
            return worth(error)

        return is_retryable

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
            threads=min(DOWNLOAD_THREADS, len(tickers)),
            progress=False,
            session=session,
            timeout=YAHOO_TIMEOUT,
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
        try:
            with raising_errors():
                frame = yf.Ticker(ticker, session=session).history(
                    start=start.isoformat(), auto_adjust=False, actions=True, timeout=YAHOO_TIMEOUT
                )
        except Exception as exc:
            # yfinance asks quoteSummary for a time zone it lacks; 404 is Yahoo's "no such
            # symbol" there (the URL, with its crumb, is left out of the reason).
            if http_status(exc) == 404:
                raise UnknownSymbol(
                    f"{ticker}: Yahoo does not know the symbol (HTTP 404): possibly delisted, "
                    "renamed or misspelled"
                ) from None
            raise
        frame = frame.dropna(subset=["Close"]) if "Close" in frame else frame.iloc[0:0]
        if frame.empty:
            raise EmptyHistory(f"{ticker}: Yahoo returned no prices since {start}")
        frame.index = pd.to_datetime(frame.index).tz_localize(None)
        return frame


def fetch_prices(
    yahoo: YahooPrices, tickers: Sequence[str], window: Window, held: HeldPrices
) -> Batch:
    """Canonical ``raw.prices`` rows for every ticker, each with the window it replaces.

    A held ticker's rows replace its history from its planned start (``plan_starts``,
    possibly before the window's start) to the window's end; a ticker whose history moved
    (``refetch_reason``) replaces it whole, from ``whole_history_start``.
    """
    starts = plan_starts(tickers, window, held)
    whole = whole_history_start(window)
    rows, windows, failures = {}, {}, {}
    refetch: list[str] = []
    for start, group in _grouped(starts).items():
        frames, failed = yahoo.fetch(group, start)
        failures.update(failed)
        for ticker, frame in frames.items():
            canonical = as_traded(frame, ticker)
            held_rows = held.rows(ticker)
            reason = refetch_reason(canonical, held_rows) if not held_rows.empty else None
            if reason and start > whole:
                log.info("%s: fetching its whole history again: %s", ticker, reason)
                refetch.append(ticker)
                continue
            rows[ticker], windows[ticker] = canonical, Window(start, window.end)
    if refetch:
        frames, failed = yahoo.fetch(refetch, whole)
        for ticker in refetch:
            if ticker in frames:
                rows[ticker] = as_traded(frames[ticker], ticker)
                windows[ticker] = Window(whole, window.end)
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
