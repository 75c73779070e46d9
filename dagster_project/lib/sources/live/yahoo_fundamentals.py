"""Quarterly EPS, shares and point-in-time valuations from Yahoo through yfinance.

Quarterly EPS comes from two places. The quarterly income statement has diluted EPS as
reported, with exact period ends, but only for the last five quarters. The earnings
calendar (``get_earnings_dates``) reaches back decades with the reported EPS, the
consensus estimate and the report date, but gives no period end, and Yahoo states its
per-share history in today's share terms (restated for later splits), as it does prices.
So: a calendar row's period end is the company's latest fiscal quarter end at least
``MIN_REPORT_LAG_DAYS`` before the report (fiscal quarter months learnt from the income
statement), unless the next report already took that quarter (``assign_quarters``: a
late annual report in mid-April is December's, May's report is March's); its values are
restated to the quarter's own share terms by multiplying by the splits after the report
(exact days, from the daily chart's actions), and where the income statement has the
quarter, its as-reported diluted EPS wins.

A ticker whose answer lacks a piece (an empty income statement or share count, an
earnings calendar page without its table) is a ``PartialAnswer`` failure, never a
thinner frame: rows built from the rest would replace a complete held history.
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
from dagster_project.lib.sources.live.retry import Backoff, connection_failure, retry
from dagster_project.lib.sources.live.yahoo_session import (
    YAHOO_TIMEOUT,
    PartialAnswer,
    check_network,
    forget_cached_responses,
    worth_retrying,
)
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, VALUATION_SNAPSHOTS

MIN_REPORT_LAG_DAYS = 10
"""No company reports a quarter within ten days of closing it."""
SAME_QUARTER_DAYS = 21
"""Two reports closer than three weeks are one quarter reported twice (a correction);
further apart they are two quarters, however late the earlier one (a 10-K filed in
mid-April under an extension, then the March quarter's 10-Q in May)."""
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
    """The latest fiscal quarter end at least ``MIN_REPORT_LAG_DAYS`` before a report:
    the quarter it covers, unless a later report already covers that one
    (``assign_quarters``)."""
    latest = pd.Timestamp(report_day).normalize() - pd.Timedelta(days=MIN_REPORT_LAG_DAYS)
    month_end = latest + pd.offsets.MonthEnd(0)
    if month_end > latest:
        month_end -= pd.offsets.MonthEnd(1)
    while month_end.month not in months:
        month_end -= pd.offsets.MonthEnd(1)
    return month_end.normalize()


def previous_quarter_end(period_end: pd.Timestamp) -> pd.Timestamp:
    """The fiscal quarter end three months before ``period_end``."""
    return (pd.Timestamp(period_end) - pd.offsets.MonthEnd(3)).normalize()


def assign_quarters(report_days: pd.Series, months: frozenset[int]) -> list[pd.Timestamp | None]:
    """The period end of each report (None: a repeat of the next report's quarter).

    Walking from the latest report back, each takes ``period_end_for``'s quarter, or the
    quarter before the one the next report took when that is no earlier: a company that
    files its December quarter late (mid-April) and March's in May reported two quarters,
    not March twice. Only reports less than ``SAME_QUARTER_DAYS`` apart are one quarter
    twice; the later one stands.
    """
    days = [pd.Timestamp(d).normalize() for d in report_days]
    order = sorted(range(len(days)), key=lambda i: days[i], reverse=True)
    result: list[pd.Timestamp | None] = [None] * len(days)
    next_day: pd.Timestamp | None = None
    next_quarter: pd.Timestamp | None = None
    for i in order:
        quarter = period_end_for(days[i], months)
        if next_quarter is not None and quarter >= next_quarter:
            if (next_day - days[i]).days < SAME_QUARTER_DAYS:
                continue
            quarter = previous_quarter_end(next_quarter)
        result[i], next_day, next_quarter = quarter, days[i], quarter
    return result


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
    table["period_end"] = assign_quarters(table["report_date"], months)
    table = table[table["period_end"].notna()].astype({"period_end": "datetime64[ns]"})
    return table.sort_values("period_end").set_index("period_end")[
        ["eps", "report_date", "eps_estimate"]
    ]


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


def missing_pieces(
    income: pd.DataFrame | None, earnings: pd.DataFrame | None, shares: pd.Series | None
) -> list[str]:
    """What a ticker's answer lacks, in words (empty when it is whole).

    Yahoo answers a throttled or half-failed request with empty tables (yfinance logs
    the error and returns an empty frame or None): quarters built from what is left would
    be fewer, or without report dates or shares, than the warehouse already holds.
    """
    missing = []
    if income is None or income.empty:
        missing.append("the quarterly income statement is empty")
    elif "DilutedEPS" not in income.index or income.loc["DilutedEPS"].isna().all():
        missing.append("the quarterly income statement has no diluted EPS")
    if earnings is None:
        missing.append("the earnings calendar page has no table")
    elif earnings.empty:
        missing.append("the earnings calendar is empty")
    if shares is None or shares.empty:
        missing.append("the share count is empty")
    return missing


def _shares_full(tkr, start: dt.date) -> pd.Series | None:
    """The share count history, or None when Yahoo's answer has none.

    yfinance 1.7 indexes ``timeseries.result[0]`` without checking: an empty result (how
    Yahoo answers a symbol it keeps no counts for) raises IndexError, not None.
    """
    try:
        return tkr.get_shares_full(start=start.isoformat())
    except (IndexError, KeyError, TypeError):
        return None


def split_days(history: pd.DataFrame) -> pd.Series:
    """Split ratios by their exact (time-zone-free) day, from a daily chart with actions.

    Why daily: a monthly chart dates a split at its month, so a report between the split
    and the month's end would be restated by a split it does not need.
    """
    splits = history.get("Stock Splits", pd.Series(dtype=float))
    splits = splits[splits.fillna(0) > 0].astype(float)
    days = pd.to_datetime(splits.index)
    if days.tz is not None:
        days = days.tz_localize(None)
    return pd.Series(splits.to_numpy(), index=days.normalize(), dtype=float)


@dataclass
class YahooFundamentals:
    """Per-ticker fundamentals and valuation snapshots, each call retried.

    ``network_check(session)`` raises ``NoNetwork`` when no Yahoo host can be reached: it
    runs before the first ticker and whenever a request could not connect at all.
    """

    session_factory: Callable[[], object]
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    network_check: Callable[[object], None] = check_network
    _checked: bool = field(default=False, init=False, repr=False)

    def quarters(self, ticker: str, window: Window) -> pd.DataFrame:
        """Payload rows of ``raw.fundamentals`` with period ends inside the window.

        Raises ``PartialAnswer`` (after the retries) when a piece of Yahoo's answer is
        missing, so the ticker is listed among the load's failures and keeps what the
        warehouse holds.
        """
        frame = self._retried(lambda session: self._quarters(ticker, window, session))
        ends = pd.to_datetime(frame["period_end"])
        return frame[(ends >= pd.Timestamp(window.start)) & (ends <= pd.Timestamp(window.end))]

    def snapshot(self, ticker: str, as_of: dt.date) -> dict:
        """One ``raw.valuation_snapshots`` row: the valuation Yahoo shows today."""
        return self._retried(lambda session: self._snapshot(ticker, as_of, session))

    def _retried(self, call):
        session = self.session_factory()
        if not self._checked:
            self.network_check(session)
            self._checked = True

        def is_retryable(error: BaseException) -> bool:
            if connection_failure(error) is not None:
                self.network_check(session)  # NoNetwork when no Yahoo host answers
            return worth_retrying(error)

        return retry(
            lambda: call(session), policy=self.policy, is_retryable=is_retryable, sleep=self.sleep
        )

    def _ticker(self, ticker: str, session):
        import yfinance as yf

        forget_cached_responses()
        return yf.Ticker(ticker, session=session)

    def _quarters(self, ticker: str, window: Window, session) -> pd.DataFrame:
        tkr = self._ticker(ticker, session)
        income = tkr.get_income_stmt(freq="quarterly")
        earnings = tkr.get_earnings_dates(limit=EARNINGS_ROWS)
        shares = _shares_full(tkr, window.start)
        missing = missing_pieces(income, earnings, shares)
        if missing:
            raise PartialAnswer(ticker, missing)
        daily = tkr.history(
            start=window.start.isoformat(),
            interval="1d",
            actions=True,
            auto_adjust=False,
            timeout=YAHOO_TIMEOUT,
        )
        return combine_quarters(ticker, income, earnings, shares, split_days(daily))

    def _snapshot(self, ticker: str, as_of: dt.date, session) -> dict:
        info = self._ticker(ticker, session).get_info() or {}
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
