"""Blocking Great Expectations checks on the raw tables.

A failed check stops everything downstream in the run (the dbt models and the published
copy), so bad source data never reaches the marts; the check's metadata lists the rows
that failed (key, rule, value) so the fix is obvious.
"""

from __future__ import annotations

import dagster as dg
import exchange_calendars as xcals
import numpy as np
import pandas as pd

from dagster_project.quality.validation import SuiteOutcome, validate_frame
from dagster_project.resources import WAREHOUSE_POOL, WarehouseResource

NON_RATE_SERIES = ("CPIAUCSL",)
"""Series that are index levels, not percentages, so the [-1, 25] rule does not apply."""

PRICES_FOR_VALIDATION = """
SELECT ticker, trade_date, open, high, low, close, splits,
       close * CASE WHEN splits > 0 THEN splits ELSE 1 END
         / lag(close) OVER by_ticker - 1 AS daily_move,
       lag(trade_date) OVER by_ticker AS previous_date
FROM raw.prices
WINDOW by_ticker AS (PARTITION BY ticker ORDER BY trade_date)
"""


def add_session_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Flag non-session dates and count NYSE sessions skipped since a ticker's previous row.

    Counting sessions, not calendar days, is what makes "no gap longer than 5 trading
    days" hold over long weekends and holidays.
    """
    if frame.empty:
        return frame.assign(is_nyse_session=pd.Series(dtype=bool), missing_sessions=0)
    dates = pd.to_datetime(frame["trade_date"])
    calendar = xcals.get_calendar(
        "XNYS", start=min(dates.min(), pd.Timestamp("1990-01-02")), end=dates.max()
    )
    sessions = calendar.sessions.tz_localize(None).values
    position = np.searchsorted(sessions, dates.values)
    in_range = position < len(sessions)
    is_session = in_range & (sessions[np.minimum(position, len(sessions) - 1)] == dates.values)
    previous = pd.to_datetime(frame["previous_date"])
    previous_position = np.searchsorted(sessions, previous.values)
    # Sessions strictly between the previous row and this one: position difference - 1.
    missing = np.where(previous.isna(), 0, position - previous_position - 1)
    return frame.drop(columns=["previous_date"]).assign(
        is_nyse_session=is_session, missing_sessions=np.maximum(missing, 0)
    )


def _result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    metadata: dict = {
        "rows_validated": dg.MetadataValue.int(outcome.row_count),
        "rules_evaluated": dg.MetadataValue.int(outcome.evaluated),
        "rules_failed": dg.MetadataValue.int(len(outcome.failures)),
    }
    if not outcome.passed:
        failing = outcome.failing_rows()
        metadata["failing_rows"] = dg.MetadataValue.md(failing.to_markdown(index=False))
        metadata["failed_rules"] = dg.MetadataValue.json(
            {f.rule: f.unexpected_count for f in outcome.failures}
        )
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary(),
        metadata=metadata,
    )


@dg.asset_check(
    asset=dg.AssetKey(["raw", "prices"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="GX suite raw_prices: positive prices, consistent OHLC, one row per ticker "
    "and day, NYSE sessions only, no gap over 5 sessions, daily moves within +/-50%.",
)
def raw_prices_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    frame = add_session_columns(warehouse.read_frame(PRICES_FOR_VALIDATION))
    return _result(validate_frame("raw_prices", frame, ["ticker", "trade_date"]))


@dg.asset_check(
    asset=dg.AssetKey(["raw", "rates"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="GX suite raw_rates: FRED-style ids, rates within [-1, 25] percent, "
    "one row per series and day.",
)
def raw_rates_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    placeholders = ", ".join("?" for _ in NON_RATE_SERIES)
    frame = warehouse.read_frame(
        f"SELECT series_id, obs_date, value FROM raw.rates WHERE series_id NOT IN ({placeholders})",
        list(NON_RATE_SERIES),
    )
    return _result(validate_frame("raw_rates", frame, ["series_id", "obs_date"]))


raw_quality_checks = [raw_prices_expectations, raw_rates_expectations]
