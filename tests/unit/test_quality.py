import datetime as dt

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.quality.raw_checks import check_prices, nyse_days
from dagster_project.lib.quality.validation import (
    load_suite_json,
    validate_frame,
    validate_in_duckdb,
    violation_sql,
)
from dagster_project.lib.warehouse import store as wh

LOADED = dt.datetime(2024, 8, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_sessions_are_counted_across_holidays_not_calendar_days():
    days = nyse_days(d("2024-07-01"), d("2024-07-20")).set_index("day")
    before = days["sessions_before"]
    # 2024-07-03 (Wed) -> 2024-07-05 (Fri): July 4th is a holiday, no session is missing.
    assert before[pd.Timestamp("2024-07-05")] - before[pd.Timestamp("2024-07-03")] - 1 == 0
    # 2024-07-05 -> 2024-07-16: sessions 8, 9, 10, 11, 12, 15 are missing (6 sessions).
    assert before[pd.Timestamp("2024-07-16")] - before[pd.Timestamp("2024-07-05")] - 1 == 6
    assert not days["is_session"][pd.Timestamp("2024-07-20")]  # a Saturday


@pytest.fixture
def con():
    with duckdb.connect() as con:
        wh.ensure_raw_schema(con)
        yield con


def load_prices(con, rows: list[tuple], loaded_at=LOADED):
    """rows: (ticker, date, close[, splits]); open/high/low bracket the close."""
    for ticker, day, close, *splits in rows:
        con.execute(
            "INSERT INTO raw.prices VALUES (?, ?, ?, ?, ?, ?, ?, 100, 0, ?, 'sample', ?)",
            [ticker, day, close, close, close, close, close, splits[0] if splits else 0, loaded_at],
        )


def change(con, assignments: str, where: str) -> None:
    con.execute(f"UPDATE raw.prices SET {assignments} WHERE {where}")


def sessions(first: str, last: str) -> list[dt.date]:
    days = nyse_days(d(first), d(last))
    return [t.date() for t in days.loc[days["is_session"], "day"]]


def clean_history(tickers=("SPY", "IWM"), first="2024-06-03", last="2024-07-31"):
    return [(t, day, 100.0 + i % 3) for t in tickers for i, day in enumerate(sessions(first, last))]


def rules(outcome) -> dict[str, list[tuple]]:
    return {
        f.rule: sorted((r["ticker"], r["trade_date"]) for r in f.rows) for f in outcome.failures
    }


def test_the_structural_check_passes_clean_prices_with_gaps_and_large_moves(con):
    """Gaps and large moves are the statistical gates' (test_anomalies), not faults."""
    rows = [
        r
        for r in clean_history()
        if not (r[0] == "IWM" and d("2024-07-08") <= r[1] <= d("2024-07-15"))
    ]
    load_prices(con, rows)
    change(
        con, "close = close * 10, high = high * 10", "ticker = 'SPY' AND trade_date = '2024-07-17'"
    )
    outcome, _ = check_prices(con)
    assert outcome.passed, outcome.summary()


def test_the_duckdb_check_names_each_kind_of_bad_row(con):
    load_prices(con, clean_history(("SPY", "IWM")))
    change(con, "close = -1, low = -1", "ticker = 'SPY' AND trade_date = '2024-07-01'")
    change(con, "close = 'nan'", "ticker = 'SPY' AND trade_date = '2024-07-10'")
    change(con, "trade_date = '2024-07-06'", "ticker = 'SPY' AND trade_date = '2024-07-05'")
    load_prices(con, [("IWM", d("2024-06-04"), 101.0)])  # a duplicated day
    outcome, _ = check_prices(con)
    found = rules(outcome)
    assert found["close is positive"] == [("SPY", "2024-07-01")]
    assert found["close is present"] == [("SPY", "2024-07-10")]
    assert found["one row per ticker and day"] == [("IWM", "2024-06-04")] * 2
    assert found["trade_date is an NYSE session"] == [("SPY", "2024-07-06")]  # a Saturday
    quarantine = outcome.quarantine_rows("raw.prices")
    assert {"table_name", "key", "obs_date", "rule", "value"} <= set(quarantine.columns)
    assert len(quarantine) == sum(len(v) for v in found.values())


def test_a_nightly_check_reads_only_the_new_rows_and_their_lookback(con):
    load_prices(con, clean_history(first="2024-01-02", last="2024-07-30"))
    first, _ = check_prices(con)
    assert first.passed
    wh.record_validated(con, "prices", first.row_count, "run-1")
    load_prices(
        con,
        [("SPY", d("2024-07-31"), 101.0), ("IWM", d("2024-07-31"), -5.0)],
        loaded_at=LOADED + dt.timedelta(days=1),
    )
    nightly, _ = check_prices(con)
    assert nightly.row_count < first.row_count / 3  # 40 days of two tickers, not 7 months
    assert rules(nightly)["close is positive"] == [("IWM", "2024-07-31")]


def test_rows_of_a_failed_load_stay_in_scope_until_a_check_passes(con):
    load_prices(con, clean_history(first="2024-01-02", last="2024-07-30"))
    change(con, "close = -1, low = -1", "ticker = 'SPY' AND trade_date = '2024-02-01'")
    assert not check_prices(con)[0].passed  # no watermark recorded
    load_prices(
        con,
        [("SPY", d("2024-07-31"), 101.0), ("IWM", d("2024-07-31"), 101.0)],
        loaded_at=LOADED + dt.timedelta(days=1),
    )
    assert "close is positive" in rules(check_prices(con)[0])


def test_the_duckdb_prefilter_never_hides_a_row_gx_would_reject(con):
    """Every unit-test frame: GX on the prefiltered rows finds what GX on all rows finds."""
    frames = [
        price_frame(close=(1, -3.0)),
        price_frame(high=(0, 9.0)),
        price_frame(close=(2, float("nan")), is_nyse_session=(0, False)),
        pd.concat([price_frame(), price_frame().iloc[[2]]], ignore_index=True),
    ]
    for frame in frames:
        frame = pd.concat([frame] + [clean_rows(i) for i in range(3)], ignore_index=True)
        con.register("frame", frame)
        whole = validate_frame("raw_prices", frame, ["ticker", "trade_date"])
        # a sample of (almost) nothing: only the candidates reach GX
        prefiltered, _ = validate_in_duckdb(
            con, "raw_prices", "SELECT * FROM frame", [], ["ticker", "trade_date"], 10**12
        )
        con.unregister("frame")
        assert not whole.passed
        assert [(f.rule, f.unexpected_count) for f in prefiltered.failures] == [
            (f.rule, f.unexpected_count) for f in whole.failures
        ]


def clean_rows(seed: int) -> pd.DataFrame:
    frame = price_frame()
    frame["ticker"] = [f"C{seed}{i}" for i in range(len(frame))]
    return frame


def test_every_rule_of_the_suites_has_a_sql_prefilter():
    for suite in ("raw_prices", "raw_rates"):
        for expectation in load_suite_json(suite)["expectations"]:
            assert violation_sql(expectation) != "true", expectation


def price_frame(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "ticker": ["SPY", "SPY", "IWM"],
            "trade_date": [d("2024-01-02"), d("2024-01-03"), d("2024-01-02")],
            "open": [10.0, 10.5, 5.0],
            "high": [11.0, 11.0, 5.5],
            "low": [9.5, 10.0, 4.5],
            "close": [10.5, 10.8, 5.2],
            "splits": [0.0, 0.0, 0.0],
            "is_nyse_session": [True, True, True],
        }
    )
    for column, (row, value) in overrides.items():
        frame.loc[row, column] = value
    return frame


def test_clean_prices_pass_every_rule():
    outcome = validate_frame("raw_prices", price_frame(), ["ticker", "trade_date"])
    assert outcome.passed, outcome.summary()
    assert outcome.evaluated == len(load_suite_json("raw_prices")["expectations"])


def test_a_negative_price_fails_naming_ticker_and_date():
    outcome = validate_frame("raw_prices", price_frame(close=(1, -3.0)), ["ticker", "trade_date"])
    assert not outcome.passed
    rules = {f.rule for f in outcome.failures}
    assert "close is positive" in rules
    assert "SPY 2024-01-03" in outcome.summary()


def test_a_duplicated_day_fails_uniqueness():
    frame = price_frame()
    frame = pd.concat([frame, frame.iloc[[2]]], ignore_index=True)
    outcome = validate_frame("raw_prices", frame, ["ticker", "trade_date"])
    failure = next(f for f in outcome.failures if f.rule == "one row per ticker and day")
    assert failure.unexpected_count == 2
    assert {"ticker": "IWM", "trade_date": "2024-01-02"} in failure.rows


def test_inconsistent_ohlc_is_caught():
    frame = price_frame(high=(0, 9.0))
    rules = {f.rule for f in validate_frame("raw_prices", frame, ["ticker", "trade_date"]).failures}
    assert {"high >= low", "high >= close", "high >= open"} <= rules


def test_a_malformed_series_id_and_a_duplicated_rate_day_fail():
    frame = pd.DataFrame(
        {
            "series_id": ["DFF", "DFF", "dgs 2"],
            "obs_date": [d("2024-01-02"), d("2024-01-02"), d("2024-01-02")],
            "value": [5.33, 5.33, 4.2],
        }
    )
    outcome = validate_frame("raw_rates", frame, ["series_id", "obs_date"])
    assert {f.rule for f in outcome.failures} == {
        "series id is a FRED id",
        "one row per series and day",
    }
