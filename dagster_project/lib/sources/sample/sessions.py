"""NYSE trading sessions: the sample market trades exactly when the real one did."""

from __future__ import annotations

import functools

import exchange_calendars as xcals
import pandas as pd


@functools.lru_cache(maxsize=8)
def nyse_sessions(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions in [start, end] (midnight timestamps, no time zone).

    The calendar is built for exactly this span (its bounds need not be sessions):
    exchange_calendars' default only reaches about 20 years back, too short for 1990.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        return pd.DatetimeIndex([])
    sessions = xcals.get_calendar("XNYS", start=start, end=end).sessions
    return pd.DatetimeIndex(sessions[(sessions >= start) & (sessions <= end)]).tz_localize(None)
