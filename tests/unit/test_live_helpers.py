"""Small pure helpers of the live source: retries, incremental planning, un-adjusting."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
import requests

from dagster_project.lib.sources.base import HeldPrices, SourceError, Window
from dagster_project.lib.sources.live.fred import scrub
from dagster_project.lib.sources.live.retry import Backoff, is_network_error, retry
from dagster_project.lib.sources.live.yahoo_prices import plan_starts, refetch_reason
from dagster_project.lib.sources.symbols import checked_series, checked_ticker
from dagster_project.lib.sources.yahoo_layout import as_traded, split_factor_after


class Flaky:
    def __init__(self, failures: list[BaseException]):
        self.failures, self.calls = list(failures), 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_retry_backs_off_exponentially_with_jitter_until_success():
    waits: list[float] = []
    call = Flaky([ConnectionError("reset"), ConnectionError("reset"), ConnectionError("reset")])
    result = retry(
        call,
        policy=Backoff(attempts=4, base_delay=1.0, max_delay=30.0),
        is_retryable=is_network_error,
        sleep=waits.append,
        rng=random.Random(7),
    )
    assert result == "ok" and call.calls == 4
    assert [0.5 <= waits[0] <= 1.0, 1.0 <= waits[1] <= 2.0, 2.0 <= waits[2] <= 4.0] == [True] * 3
    assert waits[0] != 0.5 or waits[1] != 1.0  # jittered, not fixed


def test_retry_caps_the_delay():
    policy = Backoff(attempts=10, base_delay=1.0, max_delay=5.0)
    assert all(policy.delay(n, random.Random(n)) <= 5.0 for n in range(10))


def test_retry_gives_up_after_the_attempts_and_raises_the_last_error():
    waits: list[float] = []
    call = Flaky([TimeoutError("1"), TimeoutError("2"), TimeoutError("3")])
    with pytest.raises(TimeoutError, match="3"):
        retry(call, policy=Backoff(attempts=3), is_retryable=is_network_error, sleep=waits.append)
    assert len(waits) == 2


def test_retry_does_not_retry_what_will_not_change():
    call = Flaky([SourceError("FRED series X: the series does not exist")])
    with pytest.raises(SourceError):
        retry(call, policy=Backoff(), is_retryable=is_network_error, sleep=pytest.fail)
    assert call.calls == 1


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(response=response)


def test_network_errors_are_429_5xx_and_dropped_connections():
    assert is_network_error(http_error(429)) and is_network_error(http_error(503))
    assert not is_network_error(http_error(404))
    assert is_network_error(requests.ConnectionError()) and is_network_error(TimeoutError())
    assert not is_network_error(ValueError("bad"))


def held(rows: list[tuple[str, str, float, float, float]]) -> HeldPrices:
    frame = pd.DataFrame(rows, columns=["ticker", "trade_date", "close", "dividends", "splits"])
    return HeldPrices(frame.assign(trade_date=pd.to_datetime(frame["trade_date"])))


def test_plan_restarts_held_tickers_a_few_sessions_back():
    days = pd.bdate_range("2024-08-19", "2024-08-30").strftime("%Y-%m-%d")
    tail = held([("SPY", d, 500.0, 0.0, 0.0) for d in days])
    window = Window(dt.date(2024, 1, 2), dt.date(2024, 9, 30))
    starts = plan_starts(["SPY", "IWM"], window, tail, overlap=5)
    assert starts == {"SPY": dt.date(2024, 8, 26), "IWM": dt.date(2024, 1, 2)}
    # The overlap is re-read whatever the window's start (it used to start at 08-28 here).
    late = Window(dt.date(2024, 8, 28), dt.date(2024, 9, 30))
    assert plan_starts(["SPY"], late, tail, overlap=5)["SPY"] == dt.date(2024, 8, 26)
    after_a_gap = Window(dt.date(2024, 9, 26), dt.date(2024, 9, 30))
    assert plan_starts(["SPY"], after_a_gap, tail, overlap=5)["SPY"] == dt.date(2024, 8, 26)
    older = Window(dt.date(2024, 1, 2), dt.date(2024, 3, 28))  # held rows are all later
    assert plan_starts(["SPY"], older, tail, overlap=5)["SPY"] == dt.date(2024, 1, 2)


def fetched(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["trade_date", "close", "dividends", "splits"])
    return frame.assign(trade_date=pd.to_datetime(frame["trade_date"]))


def test_refetch_when_history_moved_or_a_new_action_appears():
    tail = held([("X", "2024-08-29", 100.0, 0.0, 0.0), ("X", "2024-08-30", 101.0, 0.5, 0.0)])
    rows = held_rows = tail.rows("X")
    same = fetched(
        [
            ("2024-08-29", 100.2, 0.0, 0.0),
            ("2024-08-30", 101.0, 0.5, 0.0),
            ("2024-09-03", 102.0, 0.0, 0.0),
        ]
    )
    assert refetch_reason(same, held_rows) is None  # a small revision, a known dividend
    split = fetched([("2024-08-30", 101.0, 0.5, 0.0), ("2024-09-03", 51.0, 0.0, 2.0)])
    assert refetch_reason(split, rows) == "new split 2 on 2024-09-03"
    dividend = fetched([("2024-08-30", 101.0, 0.5, 0.0), ("2024-09-03", 102.0, 0.3, 0.0)])
    assert refetch_reason(dividend, rows) == "new dividend 0.3 on 2024-09-03"
    moved = fetched([("2024-08-29", 50.0, 0.0, 0.0), ("2024-08-30", 50.5, 0.5, 0.0)])
    assert "close on 2024-08-29 is now 50" in refetch_reason(moved, rows)


def test_yahoo_closes_are_unadjusted_by_the_splits_after_each_day():
    assert list(split_factor_after(pd.Series([0.0, 2.0, 0.0, 3.0, 0.0]))) == [6, 3, 3, 1, 1]
    yahoo = pd.DataFrame(
        {
            "Close": [10.0, 10.5, 11.0],
            "Volume": [200.0, 200.0, 100.0],
            "Dividends": [0.1, 0.0, 0.0],
            "Stock Splits": [0.0, 0.0, 2.0],
        },
        index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
    )
    rows = as_traded(yahoo, "X")
    assert list(rows["close"]) == [20.0, 21.0, 11.0]
    assert list(rows["volume"]) == [100.0, 100.0, 100.0]
    assert list(rows["dividends"]) == [0.2, 0.0, 0.0]
    assert rows["open"].isna().all() and rows["adj_close"].isna().all()


@pytest.mark.parametrize("good", ["SPY", "^RUT", "BRK-B", "BF.B", "CL=F"])
def test_symbols_that_pass(good):
    assert checked_ticker(good) == good


@pytest.mark.parametrize("bad", ["spy", "SPY;DROP", "../etc", "", "A B", "X" * 20, None])
def test_symbols_that_are_refused_by_name(bad):
    with pytest.raises(SourceError, match="not a valid ticker symbol"):
        checked_ticker(bad)
    with pytest.raises(SourceError, match="not a valid FRED series id"):
        checked_series({"spy": "dff", "X" * 20: "X" * 41}.get(bad, bad))


def test_scrub_masks_the_secret():
    assert scrub("GET /fred?api_key=s3cret failed", "s3cret") == "GET /fred?api_key=*** failed"
    assert scrub("nothing", None) == "nothing"


def test_the_factory_builds_live_and_its_window_runs_to_today():
    from dagster_project.lib.settings import Settings
    from dagster_project.lib.sources import build_source, default_window
    from dagster_project.lib.sources.live import LiveSource

    assert isinstance(build_source(Settings(source="live")), LiveSource)
    window = default_window(Settings(source="live"))
    assert (window.start, window.end) == (dt.date(1990, 1, 2), dt.date.today())
    narrow = default_window(Settings(source="live", start=dt.date(2024, 1, 2)))
    assert narrow.start == dt.date(2024, 1, 2)
    with pytest.raises(SourceError, match="needs a folder"):
        build_source(Settings(source="files:"))
