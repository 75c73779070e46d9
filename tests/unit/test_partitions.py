"""NYSE-session partitions: which keys exist, and the dates a range of them loads."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dagster_project.nyse import HISTORY_START, closed_weekdays, next_session
from dagster_project.partitions import (
    SESSION_PARTITIONS,
    load_window,
    partition_range,
    run_window,
)
from dagster_project.sources import Window
from dagster_project.sources.base import SourceError

D = dt.date.fromisoformat


def keys_between(start: str, end: str) -> list[str]:
    return SESSION_PARTITIONS.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))


def test_there_is_one_partition_per_session_and_none_on_closed_days():
    # Thanksgiving week 2025: Thursday shut, Friday a half-day session.
    assert keys_between("2025-11-24", "2025-12-01") == [
        "2025-11-24",
        "2025-11-25",
        "2025-11-26",
        "2025-11-28",
        "2025-12-01",
    ]
    # The exchange shut for the funeral of President Carter and for 9/11.
    assert "2025-01-09" not in keys_between("2025-01-06", "2025-01-13")
    assert keys_between("2001-09-10", "2001-09-17") == ["2001-09-10", "2001-09-17"]


def test_the_first_partition_is_the_first_session_of_1990():
    assert SESSION_PARTITIONS.get_first_partition_key() == HISTORY_START.isoformat()


def test_a_sessions_partition_exists_from_the_morning_of_the_session():
    """The 18:30 nightly run must find tonight's partition (end_offset=1)."""
    new_york = ZoneInfo("America/New_York")
    for moment, last in [
        (dt.datetime(2026, 11, 24, 23, 59, tzinfo=new_york), "2026-11-24"),
        (dt.datetime(2026, 11, 25, 0, 1, tzinfo=new_york), "2026-11-25"),
        (dt.datetime(2026, 11, 25, 18, 30, tzinfo=new_york), "2026-11-25"),
    ]:
        with dg.partition_loading_context(effective_dt=moment):
            assert SESSION_PARTITIONS.get_last_partition_key() == last, moment


@pytest.mark.parametrize(
    ("first", "last", "window"),
    [
        ("2024-07-01", "2024-07-01", ("2024-07-01", "2024-07-01")),
        ("2024-07-05", "2024-07-05", ("2024-07-05", "2024-07-07")),  # Friday: to Sunday
        ("2024-07-03", "2024-07-03", ("2024-07-03", "2024-07-04")),  # with Independence Day
        ("2024-07-01", "2024-07-05", ("2024-07-01", "2024-07-07")),
    ],
)
def test_a_range_loads_from_its_first_session_to_the_day_before_the_next(first, last, window):
    assert load_window(dg.PartitionKeyRange(first, last)) == Window(D(window[0]), D(window[1]))


def test_consecutive_partitions_cover_every_calendar_day_once():
    keys = keys_between("2024-01-02", "2024-12-31")
    windows = [load_window(dg.PartitionKeyRange(key, key)) for key in keys]
    for before, after in zip(windows, windows[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert windows[-1].end == next_session(D("2024-12-31")) - dt.timedelta(days=1)


def test_a_window_maps_to_the_sessions_inside_it():
    today = D("2026-11-29")
    assert partition_range(Window(D("2024-07-04"), D("2024-07-07")), today) == (
        dg.PartitionKeyRange("2024-07-05", "2024-07-05")
    )
    # Before 1990 belongs to the first partition; the end stops at the last session so far.
    assert partition_range(Window(D("1985-01-01"), D("2027-06-30")), today) == (
        dg.PartitionKeyRange("1990-01-02", "2026-11-27")
    )


def test_a_window_without_a_session_is_refused():
    with pytest.raises(SourceError, match=r"2026-11-26\.\.2026-11-26 holds no NYSE session"):
        partition_range(Window(D("2026-11-26"), D("2026-11-26")), D("2026-11-29"))


def test_the_first_partition_also_loads_older_history():
    first = dg.PartitionKeyRange("1990-01-02", "1990-01-05")
    assert run_window(first, Window(D("1985-01-02"), D("2025-12-31"))).start == D("1985-01-02")
    later = dg.PartitionKeyRange("1990-01-03", "1990-01-05")
    assert run_window(later, Window(D("1985-01-02"), D("2025-12-31"))).start == D("1990-01-03")


def test_closed_weekdays_are_the_exclusions_of_a_weekday_cron():
    assert closed_weekdays(D("2026-11-23"), D("2026-11-29")) == [D("2026-11-26")]


def test_one_history_start_for_partitions_live_loads_and_the_sample():
    from dagster_project.sources.sample.calibration import EPOCH

    assert EPOCH == HISTORY_START  # the sample keeps its own copy: it is self-contained
