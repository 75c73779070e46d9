import datetime as dt

import pandas as pd

from dagster_project.checks.raw_quality import add_session_columns
from dagster_project.quality.validation import load_suite_json, validate_frame


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_sessions_are_counted_across_holidays_not_calendar_days():
    # 2024-07-03 (Wed) -> 2024-07-05 (Fri): July 4th is a holiday, no session is missing.
    # 2024-07-05 -> 2024-07-16: sessions 8, 9, 10, 11, 12, 15 are missing (6 sessions).
    frame = pd.DataFrame(
        {
            "trade_date": [d("2024-07-03"), d("2024-07-05"), d("2024-07-16"), d("2024-07-20")],
            "previous_date": [None, d("2024-07-03"), d("2024-07-05"), d("2024-07-16")],
        }
    )
    out = add_session_columns(frame)
    assert out["missing_sessions"].tolist()[:3] == [0, 0, 6]
    assert out["is_nyse_session"].tolist() == [True, True, True, False]  # 07-20 is a Saturday


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
            "daily_move": [None, 10.8 / 10.5 - 1, None],
            "is_nyse_session": [True, True, True],
            "missing_sessions": [0, 0, 0],
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


def test_inconsistent_ohlc_and_a_huge_move_are_caught():
    frame = price_frame(high=(0, 9.0), daily_move=(1, 9.0))
    rules = {f.rule for f in validate_frame("raw_prices", frame, ["ticker", "trade_date"]).failures}
    assert {"high >= low", "high >= close", "high >= open"} <= rules
    assert any(rule.startswith("daily move within") for rule in rules)


def test_rates_outside_the_plausible_range_fail():
    frame = pd.DataFrame(
        {
            "series_id": ["DFF", "DFF", "DGS2"],
            "obs_date": [d("2024-01-02"), d("2024-01-03"), d("2024-01-02")],
            "value": [5.33, 533.0, 4.2],
        }
    )
    outcome = validate_frame("raw_rates", frame, ["series_id", "obs_date"])
    assert [f.rule for f in outcome.failures] == ["rate within [-1, 25] percent"]
    assert outcome.failures[0].rows[0]["obs_date"] == "2024-01-03"
