"""The NYSE calendar (exchange_calendars' XNYS): which days were sessions, and why not.

The one calendar of the project: the schedule skips the days the exchange was shut, the
quality gates judge gaps in sessions, and the sample market trades on the same days.
"""

import datetime as dt
import functools

import exchange_calendars as xcals
import pandas as pd

MARKET_TIMEZONE = "America/New_York"
HISTORY_START = dt.date(1990, 1, 2)
"""The first session of 1990: where the history a build loads starts by default (the
live source), and where the FOMC record the marts use begins.
The sample market's own epoch is the same day (``tests`` hold them to it)."""


@functools.lru_cache(maxsize=64)
def _calendar(first_year: int, last_year: int) -> xcals.ExchangeCalendar:
    """XNYS over whole calendar years.

    Built for an explicit span: exchange_calendars' default bounds move with today's date,
    so the same day would get a different answer (or none) depending on when it is asked.
    """
    return xcals.get_calendar(
        "XNYS", start=pd.Timestamp(first_year, 1, 1), end=pd.Timestamp(last_year, 12, 31)
    )


@functools.lru_cache(maxsize=64)
def _nyse_year(year: int) -> tuple[frozenset[dt.date], dict[dt.date, str]]:
    """The NYSE sessions and named regular holidays of one calendar year."""
    calendar = _calendar(year, year)
    sessions = frozenset(day.date() for day in calendar.sessions)
    named = calendar.regular_holidays.holidays(
        pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), return_name=True
    )
    return sessions, {day.date(): str(name) for day, name in named.items()}


def is_session(day: dt.date) -> bool:
    return day in _nyse_year(day.year)[0]


def closed_reason(day: dt.date) -> str | None:
    """Why the NYSE did not trade on ``day`` ("weekend", "holiday: Thanksgiving"), or
    None when ``day`` is a session."""
    sessions, holidays = _nyse_year(day.year)
    if day in sessions:
        return None
    if day.weekday() >= 5:
        return "weekend"
    name = holidays.get(day)
    return f"holiday: {name}" if name else "holiday"


def sessions(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """The NYSE sessions from ``start`` to ``end`` (tz-naive midnights)."""
    found = _calendar(start.year, end.year).sessions.tz_localize(None)
    return found[(found >= pd.Timestamp(start)) & (found <= pd.Timestamp(end))]
