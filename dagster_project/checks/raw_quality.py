"""Blocking Great Expectations checks on the raw tables, with quarantine.

A failed check stops everything downstream in the run (the dbt models and the published
copy), so bad source data never reaches the marts; the check's metadata lists the rows
that failed (key, date, rule, value) and a copy of each goes to ``raw.quarantine``.

The per-row inputs of the rules (daily move, NYSE sessions skipped since the previous
row, sessions since a ticker's last row) are computed in DuckDB, and GX validates only the
rows DuckDB flags as possible violations plus a bounded sample
(``quality.validation.validate_in_duckdb``). ``raw.prices`` is checked from its last
validated load on (plus a lookback for the moves and gaps), so a nightly check reads the
new day, not the whole history.
"""

import datetime as dt
import functools

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from dagster_project import warehouse as wh
from dagster_project.quality.validation import SuiteOutcome, validate_in_duckdb
from dagster_project.resources import WAREHOUSE_POOL, WarehouseResource

NON_RATE_SERIES = ("CPIAUCSL",)
"""Series that are index levels, not percentages, so the [-1, 25] rule does not apply."""

RATES_CHECKED = (
    "SELECT series_id, obs_date, value FROM raw.rates "
    f"WHERE series_id NOT IN ({', '.join('?' for _ in NON_RATE_SERIES)})"
)
"""The rows the raw_rates suite judges; its parameters are NON_RATE_SERIES."""

LOOKBACK = dt.timedelta(days=40)
"""Rows before the new ones that the prices check reads for moves and gaps. 40 days hold
at least 25 sessions, far more than the gap rule allows (5): a previous row further back
is a gap anyway, and is reported as one (counted from the lookback, a lower bound)."""

CALENDAR_START = dt.date(1990, 1, 2)

PRICES_SLICE = """
WITH bounds AS (
    SELECT ticker, min(trade_date) AS first_date, max(trade_date) AS last_date
    FROM raw.prices
    GROUP BY ticker
),

slice AS (
    -- the rows from the lookback on, and every ticker's last row (for vanished tickers)
    SELECT p.ticker, p.trade_date, p.open, p.high, p.low, p.close, p.splits,
           b.first_date, b.last_date
    FROM raw.prices AS p
    INNER JOIN bounds AS b ON b.ticker = p.ticker
    WHERE p.trade_date >= $lookback OR p.trade_date = b.last_date
)
"""

PRICES_CHECKED = (
    PRICES_SLICE
    + """,

ordered AS (
    SELECT *,
           lag(close) OVER by_ticker AS previous_close,
           lag(trade_date) OVER by_ticker AS previous_date,
           -- rows sharing a key are neighbours in this order: the uniqueness rule's
           -- candidates, without a second sort by (ticker, trade_date)
           coalesce(lag(trade_date) OVER by_ticker = trade_date, false)
               OR coalesce(lead(trade_date) OVER by_ticker = trade_date, false)
               AS shares_key
    FROM slice
    WINDOW by_ticker AS (PARTITION BY ticker ORDER BY trade_date)
),

edges AS (
    SELECT
        (SELECT sessions_before FROM nyse_days WHERE day = $lookback) AS lookback_sessions,
        (SELECT sessions_before + is_session::INTEGER FROM nyse_days
          WHERE day = (SELECT max(trade_date) FROM raw.prices)) AS sessions_to_latest
)

SELECT
    o.ticker, o.trade_date, o.open, o.high, o.low, o.close, o.splits, o.shares_key,
    -- a split is not a move: the close is compared in the previous row's share terms
    o.close * CASE WHEN o.splits > 0 THEN o.splits ELSE 1 END / o.previous_close - 1
        AS daily_move,
    coalesce(day.is_session, false) AS is_nyse_session,
    CASE
        WHEN o.previous_date IS NOT NULL
            THEN greatest(day.sessions_before - previous.sessions_before - 1, 0)
        -- the previous row lies before the lookback: at least the sessions since it
        WHEN o.trade_date > o.first_date
            THEN greatest(day.sessions_before - edges.lookback_sessions, 0)
        ELSE 0
    END AS missing_sessions,
    CASE
        WHEN o.trade_date = o.last_date
            THEN edges.sessions_to_latest - day.sessions_before - day.is_session::INTEGER
    END::DOUBLE AS sessions_after_last_row
FROM ordered AS o
CROSS JOIN edges
LEFT JOIN nyse_days AS day ON day.day = o.trade_date
LEFT JOIN nyse_days AS previous ON previous.day = o.previous_date
"""
)


@functools.lru_cache(maxsize=4)
def nyse_days(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every calendar day from ``start`` to ``end``: is it an NYSE session, and how many
    sessions came strictly before it.

    Joined by date in DuckDB, two such counts give the sessions skipped between two rows:
    sessions, not calendar days, so long weekends and holidays are no gap.
    """
    import exchange_calendars as xcals

    calendar = xcals.get_calendar(
        "XNYS", start=pd.Timestamp(min(start, CALENDAR_START)), end=pd.Timestamp(end)
    )
    sessions = calendar.sessions.tz_localize(None).values
    days = pd.date_range(start, end, freq="D")
    position = np.searchsorted(sessions, days.values)
    is_session = np.isin(days.values, sessions)
    return pd.DataFrame(
        {"day": days, "sessions_before": position.astype("int64"), "is_session": is_session}
    )


def prices_scope(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date, dt.date] | None:
    """(lookback, first, last date of the table) for the prices check; None if empty.

    The rows to check are those loaded since the last passed check (all of them on a
    first build); ``lookback`` is LOOKBACK before the earliest of them.
    """
    bounds = "SELECT min(trade_date), max(trade_date) FROM raw.prices"
    first, last = con.execute(bounds).fetchall()[0]
    if first is None:
        return None
    since = wh.validated_through(con, "prices")
    new_from = con.execute(
        "SELECT min(trade_date) FROM raw.prices WHERE ? IS NULL OR loaded_at > ?",
        [since, since],
    ).fetchall()[0][0]
    lookback = max((new_from or last) - LOOKBACK, first)
    return lookback, first, last


def check_prices(con: duckdb.DuckDBPyConnection) -> tuple[SuiteOutcome, int]:
    """The raw_prices suite on the rows loaded since the last passed check."""
    scope = prices_scope(con)
    if scope is None:
        return SuiteOutcome("raw_prices", ("ticker", "trade_date"), 0, 0, []), 0
    lookback, first, last = scope
    con.register("nyse_days", nyse_days(first, last))
    try:
        params = {"lookback": lookback}
        rows = con.execute(PRICES_SLICE + "SELECT count(*) FROM slice", params).fetchall()[0][0]
        return validate_in_duckdb(
            con,
            "raw_prices",
            PRICES_CHECKED,
            params,
            ["ticker", "trade_date"],
            rows,
            candidates={"one row per ticker and day": "shares_key"},
        )
    finally:
        con.unregister("nyse_days")


def check_rates(con: duckdb.DuckDBPyConnection) -> tuple[SuiteOutcome, int]:
    """The raw_rates suite on the whole (small) table."""
    params = list(NON_RATE_SERIES)
    rows = con.execute(f"SELECT count(*) FROM ({RATES_CHECKED})", params).fetchall()[0][0]
    return validate_in_duckdb(
        con, "raw_rates", RATES_CHECKED, params, ["series_id", "obs_date"], rows
    )


def _result(outcome: SuiteOutcome, rows_to_gx: int, quarantined: int) -> dg.AssetCheckResult:
    metadata: dict = {
        "rows_checked": dg.MetadataValue.int(outcome.row_count),
        "rows_validated_by_gx": dg.MetadataValue.int(rows_to_gx),
        "rules_evaluated": dg.MetadataValue.int(outcome.evaluated),
        "rules_failed": dg.MetadataValue.int(len(outcome.failures)),
    }
    if not outcome.passed:
        failing = outcome.failing_rows()
        metadata["failing_rows"] = dg.MetadataValue.md(failing.to_markdown(index=False))
        metadata["failed_rules"] = dg.MetadataValue.json(
            {f.rule: f.unexpected_count for f in outcome.failures}
        )
        metadata["quarantined_rows"] = dg.MetadataValue.int(quarantined)
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary(),
        metadata=metadata,
    )


def run_gate(warehouse: WarehouseResource, table: str, check, run_id: str) -> dg.AssetCheckResult:
    """Run ``check`` on ``raw.<table>``; quarantine what failed, or move the watermark."""
    with warehouse.connect() as con:
        wh.ensure_raw_schema(con)
        outcome, rows_to_gx = check(con)
        quarantined = 0
        if outcome.passed:
            wh.record_validated(con, table, outcome.row_count, run_id)
        else:
            detected_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            rows = outcome.quarantine_rows(f"raw.{table}")
            quarantined = wh.quarantine(con, rows, run_id, detected_at)
    return _result(outcome, rows_to_gx, quarantined)


@dg.asset_check(
    asset=dg.AssetKey(["raw", "prices"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="GX suite raw_prices: positive prices, consistent OHLC, one row per ticker "
    "and day, NYSE sessions only, no gap over 5 sessions, daily moves within +/-50%, no "
    "ticker left behind. Failing rows go to raw.quarantine.",
)
def raw_prices_expectations(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    return run_gate(warehouse, "prices", check_prices, context.run.run_id)


@dg.asset_check(
    asset=dg.AssetKey(["raw", "rates"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="GX suite raw_rates: FRED-style ids, rates within [-1, 25] percent, "
    "one row per series and day. Failing rows go to raw.quarantine.",
)
def raw_rates_expectations(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    return run_gate(warehouse, "rates", check_rates, context.run.run_id)


raw_quality_checks = [raw_prices_expectations, raw_rates_expectations]
