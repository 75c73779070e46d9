"""NYSE-session partitions of the time-based raw assets, and the date window a range of
them loads.

One partition per session, keyed by its date (``2024-07-05``). A partition owns its
session and the closed days up to the next one, so every calendar day belongs to
exactly one partition: a Friday's partition loads Friday to Sunday, the 3rd of July 2024
loads the 3rd and the 4th (a holiday, on which FRED's daily effective rate still
publishes). Dagster's own window for a partition stops at the next weekday (its cron
skips only the excluded days), which is why the load window is computed here from the
calendar and not taken from ``context.partition_time_window``.
"""

import datetime as dt

import dagster as dg

from dagster_project.nyse import (
    HISTORY_START,
    MARKET_TIMEZONE,
    ONE_DAY,
    closed_weekdays,
    first_session_from,
    next_session,
    previous_session,
)
from dagster_project.sources import Window
from dagster_project.sources.base import SourceError

CALENDAR_HORIZON_YEARS = 3
"""Exchange holidays are excluded up to the end of this many years from now; the
definitions are rebuilt at every start of a process, so the horizon moves with time."""

SESSION_CRON = "0 0 * * 1-5"
DATE_FORMAT = "%Y-%m-%d"


def _session_partitions(today: dt.date) -> dg.TimeWindowPartitionsDefinition:
    horizon = dt.date(today.year + CALENDAR_HORIZON_YEARS, 12, 31)
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=SESSION_CRON,
        start=HISTORY_START.strftime(DATE_FORMAT),
        fmt=DATE_FORMAT,
        timezone=MARKET_TIMEZONE,
        # A session's partition exists from 00:00 that day, so the 18:30 nightly run can
        # load it (with the default offset it would appear only once the window closed).
        end_offset=1,
        exclusions=[
            dt.datetime.combine(day, dt.time()) for day in closed_weekdays(HISTORY_START, horizon)
        ],
    )


SESSION_PARTITIONS = _session_partitions(dt.date.today())

SESSIONS_BACKFILL_POLICY = dg.BackfillPolicy.single_run()
"""A backfill of any number of sessions is one run that loads their whole window at once
(one fetch, one transaction), not a run per day."""


def partition_date(key: str) -> dt.date:
    return dt.datetime.strptime(key, DATE_FORMAT).date()


def partition_key(day: dt.date) -> str:
    return day.strftime(DATE_FORMAT)


def load_window(keys: dg.PartitionKeyRange) -> Window:
    """The dates a run over partitions ``keys`` loads: from the first session to the day
    before the session after the last one."""
    return Window(partition_date(keys.start), next_session(partition_date(keys.end)) - ONE_DAY)


def partition_range(window: Window, today: dt.date | None = None) -> dg.PartitionKeyRange:
    """The session partitions that cover ``window`` (what ``rotation build --start/--end``
    runs as one partition range).

    The range starts at the first partition when the window starts before it, and ends at
    the last session that already has a partition (today's, at the latest).
    """
    today = today or dt.date.today()
    first = max(first_session_from(window.start), HISTORY_START)
    last = previous_session(min(window.end, today))
    if last < first:
        raise SourceError(
            f"the window {window.start}..{window.end} holds no NYSE session up to today "
            f"({today}): nothing to load"
        )
    return dg.PartitionKeyRange(partition_key(first), partition_key(last))


def run_window(keys: dg.PartitionKeyRange, requested: Window | None) -> Window:
    """``load_window(keys)``, reaching back to ``requested.start`` when the range begins
    at the first partition (history older than 1990 belongs to it)."""
    window = load_window(keys)
    if requested and partition_date(keys.start) == HISTORY_START:
        return Window(min(window.start, requested.start), window.end)
    return window
