"""What the raw quality gates compute, as plain DuckDB and GX code (no Dagster).

The gates in ``defs/quality/raw_gates.py`` turn these outcomes into asset checks; the
GX Data Docs (``lib/report/docs.py``) validate the same derived frames, so both describe
the very rows the checks judge.
"""

import datetime as dt
import functools

import duckdb
import numpy as np
import pandas as pd

from dagster_project.lib import calendar as nyse
from dagster_project.lib.quality import anomalies
from dagster_project.lib.quality.validation import SuiteOutcome, validate_in_duckdb
from dagster_project.lib.settings import GateSettings
from dagster_project.lib.warehouse import store as wh

RATES_CHECKED = "SELECT series_id, obs_date, value FROM raw.rates"
"""The rows the raw_rates suite judges."""

LOOKBACK = dt.timedelta(days=40)
"""Rows before the new ones that the price gates read again: enough sessions for moves,
reversals and gaps around the new days, and the window in which a finding can still
change (a large move on the latest day is judged again once the next one arrives)."""

PRICES_SLICE = """
WITH slice AS (
    SELECT p.ticker, p.trade_date, p.open, p.high, p.low, p.close, p.splits
    FROM raw.prices AS p
    WHERE p.trade_date >= $lookback
)
"""

PRICES_CHECKED = (
    PRICES_SLICE
    + """,

ordered AS (
    SELECT *,
           -- rows sharing a key are neighbours in this order: the uniqueness rule's
           -- candidates, without a second sort by (ticker, trade_date)
           coalesce(lag(trade_date) OVER by_ticker = trade_date, false)
               OR coalesce(lead(trade_date) OVER by_ticker = trade_date, false)
               AS shares_key
    FROM slice
    WINDOW by_ticker AS (PARTITION BY ticker ORDER BY trade_date)
)

SELECT
    o.ticker, o.trade_date, o.open, o.high, o.low, o.close, o.splits, o.shares_key,
    coalesce(day.is_session, false) AS is_nyse_session
FROM ordered AS o
LEFT JOIN nyse_days AS day ON day.day = o.trade_date
"""
)


@functools.lru_cache(maxsize=4)
def nyse_days(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every calendar day from ``start`` to ``end``: is it an NYSE session, and how many
    sessions came strictly before it.

    Joined by date in DuckDB, two such counts give the sessions skipped between two rows:
    sessions, not calendar days, so long weekends and holidays are no gap.
    """
    sessions = nyse.sessions(dt.date(start.year, 1, 1), end).values
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


UNSET = object()
"""``scope`` not given: compute ``prices_scope``. Both price gates judge the same rows, so
the gate step computes the scope once (two scans of raw.prices) and hands it to each."""


def check_prices(con: duckdb.DuckDBPyConnection, scope=UNSET) -> tuple[SuiteOutcome, int]:
    """The structural raw_prices suite on the rows loaded since the last passed check
    (``scope``: ``prices_scope(con)``, computed here when not given)."""
    scope = prices_scope(con) if scope is UNSET else scope
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
    """The structural raw_rates suite on the whole (small) table."""
    rows = con.execute(f"SELECT count(*) FROM ({RATES_CHECKED})").fetchall()[0][0]
    return validate_in_duckdb(con, "raw_rates", RATES_CHECKED, [], ["series_id", "obs_date"], rows)


def judge_prices(
    con: duckdb.DuckDBPyConnection, gates: GateSettings, scope=UNSET
) -> anomalies.Judgement:
    """The statistical price gates over the same scope as the structural check."""
    scope = prices_scope(con) if scope is UNSET else scope
    if scope is None:
        return anomalies.Judgement(pd.DataFrame(columns=wh.FINDING_COLUMNS), [])
    lookback, first, last = scope
    con.register("nyse_days", nyse_days(first, last))
    try:
        return anomalies.price_findings(con, lookback, last, gates)
    finally:
        con.unregister("nyse_days")


def structural_findings(outcome: SuiteOutcome, table_name: str) -> pd.DataFrame:
    """The rows a structural suite rejected, as findings that halt the build."""
    rows = outcome.quarantine_rows(table_name)
    rows["action"] = anomalies.HALT
    return rows[wh.FINDING_COLUMNS]
