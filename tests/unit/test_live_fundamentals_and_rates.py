"""The live source's fundamentals, valuation snapshots and FRED rates, replayed offline."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dagster_project.lib.sources.base import SourceError, Window
from dagster_project.lib.sources.live import LiveSource
from dagster_project.lib.sources.live.fred import FredClient, FredKeyError, RateLimiter, fetch_rates
from dagster_project.lib.sources.live.retry import NO_WAIT
from dagster_project.lib.sources.live.yahoo_fundamentals import (
    assign_quarters,
    combine_quarters,
    period_end_for,
    quarter_end_months,
    split_days,
    splits_after,
)
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, RATES, VALUATION_SNAPSHOTS
from tests.replay.fixtures import TEST_UNIVERSE
from tests.replay.fred import VALID_KEY

WINDOW = Window(dt.date(2023, 1, 1), dt.date(2024, 9, 30))
RATE_WINDOW = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))


def test_quarterly_eps_joins_the_statement_and_the_calendar(yahoo):
    batch = LiveSource().fundamentals(WINDOW)
    frame = batch.frame.set_index(["ticker", "period_end"])
    assert list(batch.frame.columns) == list(FUNDAMENTALS.payload)
    assert batch.failures == {}
    aapl = frame.loc[("AAPL", pd.Timestamp("2024-06-30"))]
    assert (aapl["eps"], aapl["eps_estimate"]) == (pytest.approx(1.40), pytest.approx(1.35))
    assert aapl["report_date"] == pd.Timestamp("2024-08-01")
    assert aapl["shares_outstanding"] > 1e10
    # Commercial Metals' quarters end in Feb/May/Aug/Nov: the June report is May's quarter.
    assert ("CMC", pd.Timestamp("2024-05-31")) in frame.index
    # NVIDIA's calendar EPS is in post-split terms; restated to the quarter's own terms.
    assert frame.loc[("NVDA", pd.Timestamp("2024-04-30")), "eps_estimate"] == pytest.approx(5.59)
    assert frame.loc[("NVDA", pd.Timestamp("2024-04-30")), "eps"] == pytest.approx(5.98)
    # Splits are read at their exact day from the daily chart, not a monthly one.
    assert not any("interval=1mo" in url for url in yahoo.requests)


def test_valuation_snapshots_cover_stocks_and_funds_and_report_the_rest(yahoo):
    batch = LiveSource().valuation_snapshots(dt.date(2024, 10, 1))
    frame = batch.frame.set_index("ticker")
    assert list(batch.frame.columns) == list(VALUATION_SNAPSHOTS.payload)
    assert set(frame.index) == {"SPY", "IWM", "AAPL", "JPM", "CMC", "NVDA"}
    assert frame.loc["AAPL", "forward_pe"] == pytest.approx(28.9)
    assert (frame["snapshot_date"] == pd.Timestamp("2024-10-01")).all()
    assert "^GSPC" not in batch.failures  # indices have no P/E and are not asked
    assert "IWB" in batch.failures


def fred_client(server, key=None) -> FredClient:
    return FredClient(
        api_key=key,
        api_root=f"{server.root}/fred",
        csv_url=f"{server.root}/graph/fredgraph.csv",
        limiter=RateLimiter(60_000),
        policy=NO_WAIT,
    )


@pytest.mark.parametrize("key", [None, VALID_KEY], ids=["keyless-csv", "fredapi"])
def test_rates_load_through_either_path_skipping_missing_values(fred_server, key):
    batch = fetch_rates(fred_client(fred_server, key), ["DFF", "DGS10", "DFEDTAR"], RATE_WINDOW)
    frame = batch.frame
    assert list(frame.columns) == list(RATES.payload)
    assert set(frame["series_id"]) == {"DFF", "DGS10"}  # DFEDTAR ended in 2008: no rows
    assert batch.failures == {}
    assert frame["value"].notna().all()  # DGS10's "." holiday is skipped
    dff = frame[frame["series_id"] == "DFF"].set_index("obs_date")["value"]
    assert dff[pd.Timestamp("2024-09-18")] == 5.33 and dff[pd.Timestamp("2024-09-19")] == 4.83
    assert any(("api_key" in p) == bool(key) for p in fred_server.seen)


def test_a_bad_key_stops_the_load_without_showing_the_key(fred_server):
    secret = "0123456789abcdef0123456789abcdef"
    with pytest.raises(FredKeyError) as raised:
        fetch_rates(fred_client(fred_server, secret), ["DFF", "DGS2"], RATE_WINDOW)
    message = str(raised.value)
    assert "FRED_API_KEY" in message and "not registered" in message
    assert secret not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize("key", [None, VALID_KEY], ids=["keyless-csv", "fredapi"])
def test_a_series_that_does_not_exist_is_named_and_the_rest_load(fred_server, key):
    batch = fetch_rates(fred_client(fred_server, key), ["DFF", "NOSUCH"], RATE_WINDOW)
    assert set(batch.frame["series_id"]) == {"DFF"}
    assert "NOSUCH" in batch.failures["NOSUCH"]
    if key:
        assert "does not exist" in batch.failures["NOSUCH"]
        assert key not in batch.failures["NOSUCH"]


def test_no_rates_at_all_fail_loudly_naming_the_network_or_key(fred_server):
    client = fred_client(fred_server)
    client.csv_url = "http://127.0.0.1:9/unreachable.csv"
    with pytest.raises(SourceError, match="no rates at all.*network.*FRED_API_KEY"):
        fetch_rates(client, ["DFF"], RATE_WINDOW)


def test_an_invalid_series_id_never_reaches_a_url(fred_server):
    batch = fetch_rates(fred_client(fred_server), ["DFF", "DFF&api_key=x"], RATE_WINDOW)
    assert "not a valid FRED series id" in batch.failures["DFF&api_key=x"]
    assert not any("api_key=x" in p for p in fred_server.seen)


def test_the_rate_limiter_spaces_requests():
    now, waits = [0.0], []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert waits == [pytest.approx(0.5), pytest.approx(0.5)]


def test_fiscal_quarter_helpers():
    assert quarter_end_months(pd.DatetimeIndex(["2024-04-30"])) == {1, 4, 7, 10}
    assert quarter_end_months(pd.DatetimeIndex([])) == {3, 6, 9, 12}
    calendar = frozenset({3, 6, 9, 12})
    assert period_end_for(pd.Timestamp("2024-07-12"), calendar) == pd.Timestamp("2024-06-30")
    # Reported within ten days of a quarter end: it is the previous quarter's report.
    assert period_end_for(pd.Timestamp("2024-07-05"), calendar) == pd.Timestamp("2024-03-31")
    splits = pd.Series([2.0, 3.0], index=pd.to_datetime(["2024-06-30", "2024-09-30"]))
    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-07-01", "2024-10-01"]))
    assert list(splits_after(days, splits)) == [6.0, 3.0, 1.0]


def calendar(rows: list[tuple[str, float]]) -> pd.DataFrame:
    """An earnings calendar as yfinance returns it: report times, reported EPS."""
    index = pd.DatetimeIndex([pd.Timestamp(f"{day} 16:00") for day, _ in rows])
    index = index.tz_localize("America/New_York")
    eps = [value for _, value in rows]
    return pd.DataFrame({"EPS Estimate": eps, "Reported EPS": eps}, index=index)


def income(period_ends: list[str], eps: list[float]) -> pd.DataFrame:
    return pd.DataFrame([eps], index=["DilutedEPS"], columns=pd.to_datetime(period_ends))


def test_a_late_annual_report_is_its_own_quarter_not_the_next_ones():
    # December's quarter reported late (mid-April, under an extension), March's in May.
    earnings = calendar(
        [("2024-08-14", 1.2), ("2024-05-15", 1.1), ("2024-04-15", 1.0), ("2023-11-14", 0.9)]
    )
    rows = combine_quarters(
        "LATE", income(["2024-06-30"], [1.2]), earnings, None, pd.Series(dtype=float)
    ).set_index("period_end")
    ends = ["2023-09-30", "2023-12-31", "2024-03-31", "2024-06-30"]
    assert list(rows.index) == list(pd.to_datetime(ends))  # before: December was dropped
    assert list(rows["eps"]) == [0.9, 1.0, 1.1, 1.2]
    assert rows.loc["2023-12-31", "report_date"] == pd.Timestamp("2024-04-15")


def test_quarters_of_reports_walk_back_one_quarter_per_report():
    months = frozenset({3, 6, 9, 12})
    days = pd.Series(pd.to_datetime(["2024-04-15", "2024-05-15", "2024-05-24", "2024-02-01"]))
    # 05-15 and 05-24 are nine days apart: one quarter reported twice, the later stands.
    assert assign_quarters(days, months) == [
        pd.Timestamp("2023-12-31"),
        None,
        pd.Timestamp("2024-03-31"),
        pd.Timestamp("2023-09-30"),
    ]
    # JPMorgan's mid-April report is March's quarter: nothing later claims it.
    jpm = pd.Series(pd.to_datetime(["2024-04-12", "2024-01-12"]))
    assert assign_quarters(jpm, months) == [pd.Timestamp("2024-03-31"), pd.Timestamp("2023-12-31")]


def test_splits_are_dated_on_their_day_so_a_report_in_the_same_month_is_not_restated():
    days = pd.date_range("2024-06-06", "2024-06-12", freq="B", tz="America/New_York")
    daily = pd.DataFrame({"Close": 1.0, "Stock Splits": 0.0}, index=days)
    daily.loc[days[2], "Stock Splits"] = 10.0  # 2024-06-10
    splits = split_days(daily)
    assert list(splits.index) == [pd.Timestamp("2024-06-10")] and list(splits) == [10.0]
    reports = pd.Series(pd.to_datetime(["2024-05-22", "2024-06-20"]))
    # Before: dated at the month's end (06-30), the 06-20 report was multiplied by 10 too.
    assert list(splits_after(reports, splits)) == [10.0, 1.0]


def test_partial_answers_are_failures_naming_what_is_missing(yahoo, tmp_path):
    path = tmp_path / "universe.yaml"  # the test universe's stocks
    lines = TEST_UNIVERSE.read_text().splitlines()
    path.write_text(
        "\n".join(line for line in lines if "kind: index" not in line and "etf" not in line)
    )
    yahoo.no_calendar.add("JPM")
    yahoo.no_income.add("CMC")
    yahoo.no_shares.add("NVDA")
    batch = LiveSource(universe_file=path).fundamentals(WINDOW)
    assert set(batch.frame["ticker"]) == {"AAPL"}  # no thinner frame replaces held rows
    assert batch.failures == {
        "JPM": "PartialAnswer: JPM: Yahoo's answer is incomplete: the earnings calendar page "
        "has no table",
        "CMC": "PartialAnswer: CMC: Yahoo's answer is incomplete: the quarterly income "
        "statement is empty",
        "NVDA": "PartialAnswer: NVDA: Yahoo's answer is incomplete: the share count is empty",
    }
