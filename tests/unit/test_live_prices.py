"""The live source's prices through recorded Yahoo answers: batches, failures, increments."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest

from dagster_project.lib.calendar import HISTORY_START
from dagster_project.lib.sources.base import HeldPrices, SourceError, Window
from dagster_project.lib.sources.live import LiveSource
from dagster_project.lib.sources.live.retry import Backoff
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import PRICES
from tests.replay.fixtures import TEST_UNIVERSE
from tests.replay.yahoo import FIXTURES

WINDOW = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))
LOADED_AT = dt.datetime(2024, 10, 1, 6, 0)


def universe(tmp_path, *tickers: str):
    """A universe file with some of the test universe's tickers (and unknown ones as ETFs)."""
    lines = [line for line in TEST_UNIVERSE.read_text().splitlines() if "{ticker:" in line]
    kept = [line for line in lines if any(f'"{t}"' in line for t in tickers)]
    extra = [
        f'  - {{ticker: "{t}", kind: etf}}' for t in tickers if not any(f'"{t}"' in x for x in kept)
    ]
    path = tmp_path / "universe.yaml"
    path.write_text("tickers:\n" + "\n".join(kept + extra) + "\n")
    return path


def recorded_closes(ticker: str, variant: str = "") -> pd.Series:
    name = f"{ticker}.{variant}.json" if variant else f"{ticker}.json"
    result = json.loads((FIXTURES / "chart" / name).read_text())["chart"]["result"][0]
    days = pd.to_datetime(result["timestamp"], unit="s").normalize()
    return pd.Series(result["indicators"]["quote"][0]["close"], index=days)


def test_a_batch_of_tickers_loads_as_traded_with_its_corporate_actions(yahoo):
    batch = LiveSource().prices(WINDOW)
    frame = batch.frame
    assert list(frame.columns) == list(PRICES.payload)
    assert set(frame["ticker"]) == {
        "^GSPC",
        "^RUT",
        "SPY",
        "IWM",
        "IWB",
        "IWD",
        "IWF",
        "IWN",
        "IWO",
        "RSP",
        "XLK",
        "XLF",
        "AAPL",
        "NVDA",
        "JPM",
        "CMC",
    }
    assert batch.failures == {}
    assert all(w == WINDOW for w in batch.windows.values())
    spy = frame[frame["ticker"] == "SPY"].set_index("trade_date")
    assert spy["close"].to_numpy() == pytest.approx(recorded_closes("SPY").to_numpy())
    assert spy.loc["2024-09-20", "dividends"] == pytest.approx(1.75)
    nvda = frame[frame["ticker"] == "NVDA"].set_index("trade_date")
    assert nvda.loc["2024-09-10", "splits"] == 2.0
    # Yahoo halved every close before the split; the warehouse keeps them as traded.
    yahoo_close = recorded_closes("NVDA")
    assert nvda.loc["2024-09-09", "close"] == pytest.approx(2 * yahoo_close["2024-09-09"])
    assert nvda.loc["2024-09-10", "close"] == pytest.approx(yahoo_close["2024-09-10"])
    before_split = recorded_closes("NVDA", "before")
    assert nvda.loc[before_split.index, "close"].to_numpy() == pytest.approx(before_split)
    assert nvda["adj_close"].notna().all()


def test_a_delisted_ticker_is_reported_and_the_rest_load(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "SPY", "IWM", "GONE"))
    batch = source.prices(WINDOW)
    assert set(batch.frame["ticker"]) == {"SPY", "IWM"}
    assert list(batch.failures) == ["GONE"]
    assert "delisted" in batch.failures["GONE"]


def test_throttling_is_retried_with_backoff_then_loads(yahoo, tmp_path):
    yahoo.throttle["SPY"] = 4  # the batch call and its internal retry, then one more
    waits: list[float] = []
    source = LiveSource(
        universe_file=universe(tmp_path, "SPY", "IWM"),
        policy=Backoff(attempts=3, base_delay=2.0),
        sleep=waits.append,
    )
    batch = source.prices(WINDOW)
    assert batch.failures == {}
    assert set(batch.frame["ticker"]) == {"SPY", "IWM"}
    assert len(waits) >= 1 and all(1.0 <= w <= 4.0 for w in waits)


def test_throttled_past_every_retry_is_a_reported_failure(yahoo, tmp_path):
    yahoo.throttle["SPY"] = 1000
    source = LiveSource(universe_file=universe(tmp_path, "SPY", "IWM"))
    batch = source.prices(WINDOW)
    assert "RateLimit" in batch.failures["SPY"]
    assert set(batch.frame["ticker"]) == {"IWM"}


def test_nothing_at_all_fails_loudly_naming_the_network(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "GONE", "LOST"))
    with pytest.raises(SourceError, match="no prices for any of 2 tickers.*network"):
        source.prices(WINDOW)


def held_after(tmp_path, batch) -> HeldPrices:
    with wh.connect(tmp_path / "w.duckdb") as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(con, PRICES, batch.frame, "live", None, LOADED_AT, batch.windows)
        return wh.held_prices(con, LiveSource.held_depth)


def test_a_second_load_fetches_only_the_last_sessions_again(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "^GSPC", "^RUT"))
    first = source.prices(Window(WINDOW.start, dt.date(2024, 8, 30)))
    held = held_after(tmp_path, first)
    second = source.incremental_prices(WINDOW, held)
    # Five sessions of overlap: Aug 26..30 again, then September.
    assert {w.start for w in second.windows.values()} == {dt.date(2024, 8, 26)}
    assert second.frame["trade_date"].min() == pd.Timestamp("2024-08-26")
    assert second.frame["trade_date"].max() == pd.Timestamp("2024-09-30")


def test_a_split_after_an_earlier_load_refetches_the_whole_history(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "^GSPC", "NVDA"))
    yahoo.use_chart("NVDA", "before")
    first = source.prices(Window(WINDOW.start, dt.date(2024, 8, 30)))
    held = held_after(tmp_path, first)
    # Recorded a month later: a 2-for-1 split on 2024-09-10, every earlier price halved.
    yahoo.charts["NVDA"] = FIXTURES / "chart" / "NVDA.json"
    second = source.incremental_prices(WINDOW, held)
    assert second.windows["NVDA"] == Window(HISTORY_START, WINDOW.end)  # whole history
    assert second.windows["^GSPC"].start == dt.date(2024, 8, 26)  # no news: just the tail
    before = first.frame[first.frame["ticker"] == "NVDA"].set_index("trade_date")["close"]
    after = second.frame[second.frame["ticker"] == "NVDA"].set_index("trade_date")["close"]
    # The as-traded closes of the first load are exactly what the refetch restores.
    assert after[before.index].to_numpy() == pytest.approx(before.to_numpy())


def test_a_bad_symbol_never_reaches_a_url(tmp_path, yahoo):
    path = tmp_path / "universe.yaml"
    path.write_text('tickers:\n  - {ticker: "SPY/../x", kind: etf}\n')
    with pytest.raises(SourceError, match="not a valid ticker symbol"):
        LiveSource(universe_file=path)


def test_a_new_dividend_refetches_the_whole_history(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "SPY", "^GSPC"))
    first = source.prices(Window(WINDOW.start, dt.date(2024, 8, 30)))
    second = source.incremental_prices(WINDOW, held_after(tmp_path, first))
    # SPY went ex-dividend on 2024-09-20: its whole history is replaced.
    assert second.windows["SPY"] == Window(HISTORY_START, WINDOW.end)
    assert second.windows["^GSPC"].start == dt.date(2024, 8, 26)


def chart_starts(yahoo, ticker: str) -> list[dt.date]:
    """The first day of each chart request for ``ticker`` (in New York, as yfinance asks)."""
    starts = []
    for url in yahoo.requests:
        query = parse_qs(urlsplit(url).query)
        if f"/v8/finance/chart/{ticker}" in unquote(url) and "period1" in query:
            stamp = pd.Timestamp(int(query["period1"][0]), unit="s", tz="UTC")
            starts.append(stamp.tz_convert("America/New_York").date())
    return starts


def test_a_one_session_window_still_rereads_the_overlap_and_sees_the_dividend(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "SPY", "^GSPC"))
    held = held_after(tmp_path, source.prices(Window(WINDOW.start, dt.date(2024, 9, 19))))
    yahoo.requests.clear()
    one_day = Window(dt.date(2024, 9, 20), dt.date(2024, 9, 20))
    batch = source.incremental_prices(one_day, held)
    # From SPY's 5th latest held session (09-13, not the window's 09-20), where the new
    # dividend shows, then its whole history again.
    assert chart_starts(yahoo, "SPY") == [dt.date(2024, 9, 13), HISTORY_START]
    assert batch.windows["SPY"] == Window(HISTORY_START, one_day.end)
    spy = batch.frame[batch.frame["ticker"] == "SPY"].set_index("trade_date")
    assert spy.index.min() == pd.Timestamp(WINDOW.start)  # all Yahoo has, not one day
    assert spy.loc["2024-09-20", "dividends"] == pytest.approx(1.75)
    assert batch.windows["^GSPC"] == Window(dt.date(2024, 9, 13), one_day.end)


def test_a_window_after_a_gap_starts_from_the_held_overlap(yahoo, tmp_path):
    source = LiveSource(universe_file=universe(tmp_path, "^GSPC", "^RUT"))
    held = held_after(tmp_path, source.prices(Window(WINDOW.start, dt.date(2024, 8, 30))))
    yahoo.requests.clear()
    late = Window(dt.date(2024, 9, 26), dt.date(2024, 9, 30))
    batch = source.incremental_prices(late, held)
    # Held to 08-30, asked for 09-26..30: 08-26 onwards, so September's gap is filled.
    assert chart_starts(yahoo, "^GSPC") == [dt.date(2024, 8, 26)]
    assert batch.windows["^GSPC"] == Window(dt.date(2024, 8, 26), late.end)
    gspc = batch.frame[batch.frame["ticker"] == "^GSPC"]["trade_date"]
    assert gspc.min() == pd.Timestamp("2024-08-26") and gspc.max() == pd.Timestamp("2024-09-30")
    assert pd.Timestamp("2024-09-10") in set(gspc)
