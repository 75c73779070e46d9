"""Quarterly EPS, shares and point-in-time valuations from Yahoo through yfinance.

Quarterly EPS comes from two places. The quarterly income statement has diluted EPS as
reported, with exact period ends, but only for the last five quarters. The earnings
calendar (``get_earnings_dates``) reaches back decades with the reported EPS, the
consensus estimate and the report date, but gives no period end, and Yahoo states its
per-share history in today's share terms (restated for later splits), as it does prices.
So: a calendar row's period end is the company's latest fiscal quarter end at least
``MIN_REPORT_LAG_DAYS`` before the report (fiscal quarter months learnt from the income
statement), its values are restated to the quarter's own share terms by multiplying by
the splits after the report (month precision, from a monthly chart), and where the income
statement has the quarter, its as-reported diluted EPS wins.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dagster_project.lib.sources.base import SourceError, Window
from dagster_project.lib.sources.live.retry import Backoff, retry
from dagster_project.lib.sources.live.yahoo_session import forget_cached_responses, worth_retrying
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, VALUATION_SNAPSHOTS

MIN_REPORT_LAG_DAYS = 10
"""No company reports a quarter within ten days of closing it."""
CALENDAR_QUARTER_MONTHS = frozenset({3, 6, 9, 12})
EARNINGS_ROWS = 100
"""Yahoo's limit for one earnings-calendar page: 25 years of quarters."""


class NoFundamentals(SourceError):
    """Yahoo has no usable EPS (or no valuation) for a ticker."""


def quarter_end_months(period_ends: pd.DatetimeIndex) -> frozenset[int]:
    """The four months a company's fiscal quarters end in, from any known period end.

    Why: Walmart's quarters end in January, April, July and October; calendar quarters
    would put each of its reports one quarter off.
    """
    if len(period_ends) == 0:
        return CALENDAR_QUARTER_MONTHS
    month = pd.Timestamp(max(period_ends)).month
    return frozenset((month - 1 + 3 * k) % 12 + 1 for k in range(4))


def period_end_for(report_day: pd.Timestamp, months: frozenset[int]) -> pd.Timestamp:
    """The fiscal quarter a report covers: the latest quarter-month end at least
    ``MIN_REPORT_LAG_DAYS`` before it."""
    latest = pd.Timestamp(report_day).normalize() - pd.Timedelta(days=MIN_REPORT_LAG_DAYS)
    month_end = latest + pd.offsets.MonthEnd(0)
    if month_end > latest:
        month_end -= pd.offsets.MonthEnd(1)
    while month_end.month not in months:
        month_end -= pd.offsets.MonthEnd(1)
    return month_end.normalize()


def splits_after(days: pd.Series, splits: pd.Series) -> np.ndarray:
    """For each day, the product of the split ratios dated strictly after it."""
    split_days = pd.to_datetime(splits.index).to_numpy()
    ratios = splits.to_numpy(dtype=float)
    values = pd.to_datetime(days).to_numpy()
    return (
        np.array([ratios[split_days > day].prod() for day in values])
        if len(values)
        else (np.array([]))
    )


def combine_quarters(
    ticker: str,
    income: pd.DataFrame,
    earnings: pd.DataFrame | None,
    shares: pd.Series | None,
    splits: pd.Series,
) -> pd.DataFrame:
    """Payload rows of ``raw.fundamentals`` from Yahoo's pieces (see the module docstring).

    ``income``: the quarterly income statement (rows such as ``DilutedEPS``, one column
    per period end). ``earnings``: the earnings calendar (``EPS Estimate``,
    ``Reported EPS``, indexed by report time). ``shares``: shares outstanding over time.
    ``splits``: split ratios by (approximate) date.
    """
    income_periods = pd.DatetimeIndex(pd.to_datetime(income.columns)).normalize()
    reported = _income_row(income, "DilutedEPS", income_periods)
    average_shares = _income_row(income, "DilutedAverageShares", income_periods)
    quarters = pd.DataFrame({"eps": reported}).rename_axis("period_end")
    quarters["report_date"] = pd.NaT
    quarters["eps_estimate"] = np.nan
    if earnings is not None and not earnings.empty:
        calendar = _calendar_quarters(earnings, quarter_end_months(income_periods), splits)
        quarters = calendar.combine_first(quarters)
        from_income = reported.dropna()
        quarters.loc[from_income.index, "eps"] = from_income
    quarters = quarters[quarters["eps"].notna()].sort_index()
    if quarters.empty:
        raise NoFundamentals(f"{ticker}: Yahoo has no quarterly EPS")
    quarters["shares_outstanding"] = _shares_at(quarters.index, shares, average_shares)
    frame = quarters.reset_index().assign(ticker=ticker)
    return frame[list(FUNDAMENTALS.payload)]


def _income_row(income: pd.DataFrame, name: str, periods: pd.DatetimeIndex) -> pd.Series:
    if name not in income.index:
        return pd.Series(np.nan, index=periods, dtype=float)
    return pd.Series(income.loc[name].to_numpy(dtype=float), index=periods)


def _calendar_quarters(
    earnings: pd.DataFrame, months: frozenset[int], splits: pd.Series
) -> pd.DataFrame:
    """One row per reported quarter of the earnings calendar, in the quarter's terms."""
    days = pd.to_datetime(earnings.index)
    if days.tz is not None:
        days = days.tz_localize(None)
    table = pd.DataFrame(
        {
            "report_date": days.normalize(),
            "eps": pd.to_numeric(earnings.get("Reported EPS"), errors="coerce").to_numpy(),
            "eps_estimate": pd.to_numeric(earnings.get("EPS Estimate"), errors="coerce").to_numpy(),
        }
    )
    table = table[table["eps"].notna()]
    factor = splits_after(table["report_date"], splits)
    table["eps"] = (table["eps"] * factor).round(4)
    table["eps_estimate"] = (table["eps_estimate"] * factor).round(4)
    table["period_end"] = [period_end_for(day, months) for day in table["report_date"]]
    # Two reports mapped to one quarter (a restatement): keep the later one.
    table = table.sort_values("report_date").drop_duplicates("period_end", keep="last")
    return table.set_index("period_end")[["eps", "report_date", "eps_estimate"]]


def _shares_at(
    period_ends: pd.DatetimeIndex, shares: pd.Series | None, average: pd.Series
) -> np.ndarray:
    """Shares outstanding at each period end: the latest count on or before it, else the
    quarter's diluted average shares from the income statement."""
    result = pd.Series(np.nan, index=period_ends)
    if shares is not None and not shares.empty:
        counts = shares.copy()
        counts.index = pd.to_datetime(counts.index)
        if counts.index.tz is not None:
            counts.index = counts.index.tz_localize(None)
        counts = counts[~counts.index.duplicated(keep="last")].sort_index().astype(float)
        known = counts.reindex(counts.index.union(period_ends)).ffill()
        result = known.reindex(period_ends)
        result[period_ends < counts.index.min()] = np.nan
    return result.fillna(average.reindex(period_ends)).to_numpy(dtype=float)


def _number(value: object) -> float | None:
    """A finite float, or None (Yahoo sends 'Infinity' or nothing for undefined ratios)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class YahooFundamentals:
    """Per-ticker fundamentals and valuation snapshots, each call retried."""

    session_factory: Callable[[], object]
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep

    def quarters(self, ticker: str, window: Window) -> pd.DataFrame:
        """Payload rows of ``raw.fundamentals`` with period ends inside the window."""
        frame = self._retried(lambda: self._quarters(ticker, window))
        ends = pd.to_datetime(frame["period_end"])
        return frame[(ends >= pd.Timestamp(window.start)) & (ends <= pd.Timestamp(window.end))]

    def snapshot(self, ticker: str, as_of: dt.date) -> dict:
        """One ``raw.valuation_snapshots`` row: the valuation Yahoo shows today."""
        return self._retried(lambda: self._snapshot(ticker, as_of))

    def _retried(self, call):
        return retry(call, policy=self.policy, is_retryable=worth_retrying, sleep=self.sleep)

    def _ticker(self, ticker: str):
        import yfinance as yf

        forget_cached_responses()
        return yf.Ticker(ticker, session=self.session_factory())

    def _quarters(self, ticker: str, window: Window) -> pd.DataFrame:
        tkr = self._ticker(ticker)
        income = tkr.get_income_stmt(freq="quarterly")
        earnings = tkr.get_earnings_dates(limit=EARNINGS_ROWS)
        shares = tkr.get_shares_full(start=window.start.isoformat())
        monthly = tkr.history(
            start=window.start.isoformat(), interval="1mo", actions=True, auto_adjust=False
        )
        splits = monthly.get("Stock Splits", pd.Series(dtype=float))
        splits = splits[splits.fillna(0) > 0]
        # A monthly row stands for its whole month: date its split at the month's end.
        split_days = pd.to_datetime(splits.index)
        if split_days.tz is not None:
            split_days = split_days.tz_localize(None)
        splits.index = split_days + pd.offsets.MonthEnd(0)
        return combine_quarters(ticker, income, earnings, shares, splits)

    def _snapshot(self, ticker: str, as_of: dt.date) -> dict:
        info = self._ticker(ticker).get_info() or {}
        row = {
            "ticker": ticker,
            "snapshot_date": pd.Timestamp(as_of),
            "trailing_pe": _number(info.get("trailingPE")),
            "forward_pe": _number(info.get("forwardPE")),
            "market_cap": _number(info.get("marketCap")),
        }
        if all(row[c] is None for c in ("trailing_pe", "forward_pe", "market_cap")):
            raise NoFundamentals(
                f"{ticker}: Yahoo shows no trailing P/E, forward P/E or market cap"
            )
        return {name: row[name] for name in VALUATION_SNAPSHOTS.payload}
