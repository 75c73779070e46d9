"""Statistical gates: judge each unusual ticker-day or rate value, never halt on one.

Real markets have -70% days, tickers that stop trading and index files that end early;
bad feeds have one-session spikes and wrong split ratios. A large move is therefore
looked at more closely instead of rejected for its size:

* it reverses the next session (the next close lands back near the one before it): a
  bad tick, **quarantined** (kept in raw, kept out of the marts, listed);
* a split in the data explains it only with the wrong ratio: **quarantined**;
* it is on the latest session, so nobody can tell yet: **quarantined** until the next
  session is loaded, when it is judged again (and released if it stands);
* otherwise it stands: a real move, kept and listed as a **warning**.

Gaps and tickers no longer reported are warnings. Only a systemic fault halts the build:
on one day, more than ``systemic_share`` of the tickers priced (and at least
``systemic_min_count``) quarantined, or such a share of one rate series out of range,
which is a broken feed, not a bad ticker.

Every finding is a row (table_name, key, obs_date, rule, action, value) for
``raw.quarantine``; ``warehouse.reconcile_findings`` keeps that relation in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from dagster_project.lib.quality.series_ranges import range_table
from dagster_project.lib.settings import GateSettings

QUARANTINE = "quarantine"
WARN = "warn"
HALT = "halt"

SPIKE = "one-session spike that reverses the next session (bad tick)"
WRONG_SPLIT = "large move that the split ratio in the data explains only with the wrong ratio"
PENDING = "large move on the latest session: held out until the next session shows it stands"
STANDS = "large move that stands (a real move)"
GAP = "gap in the ticker's sessions"
STALE = "ticker no longer reported"
OUT_OF_RANGE = "value outside the range of its kind of series"

PRICE_FINDINGS_SQL = """
WITH bounds AS (
    SELECT ticker,
           max(trade_date) AS last_date,
           max(trade_date) FILTER (WHERE trade_date < $lookback) AS anchor_date
    FROM raw.prices
    WHERE close > 0 AND NOT isnan(close)
    GROUP BY ticker
),

slice AS (
    -- the rows from the lookback on, and each ticker's row before it (the base of the
    -- first move); rows without a usable close are the structural gate's
    SELECT p.ticker, p.trade_date, p.close,
           CASE WHEN p.splits > 0 THEN p.splits ELSE 1 END AS split_ratio,
           CASE
               WHEN u.kind = 'index' THEN $move_index
               WHEN u.kind = 'etf' THEN $move_etf
               WHEN u.size = 'large' THEN $move_large_stock
               ELSE $move_small_stock
           END AS move_limit
    FROM raw.prices AS p
    INNER JOIN bounds AS b ON b.ticker = p.ticker
    LEFT JOIN raw.universe AS u ON u.ticker = p.ticker
    WHERE (p.trade_date >= $lookback OR p.trade_date = b.anchor_date)
        AND p.close > 0 AND NOT isnan(p.close)
),

steps AS (
    SELECT *,
           lag(close) OVER by_ticker AS previous_close,
           lag(trade_date) OVER by_ticker AS previous_date,
           lead(close) OVER by_ticker AS next_close,
           lead(split_ratio) OVER by_ticker AS next_split_ratio
    FROM slice
    WINDOW by_ticker AS (PARTITION BY ticker ORDER BY trade_date)
),

moves AS (
    SELECT *,
           close * split_ratio / previous_close - 1 AS daily_move,
           -- what the close says with no split, or with the ratio the other way round
           least(
               abs(close / previous_close - 1),
               abs(close / split_ratio / previous_close - 1)
           ) AS move_with_other_ratio,
           -- from the close before to the close after, in the same share terms
           next_close * next_split_ratio * split_ratio / previous_close - 1 AS round_trip
    FROM steps
),

verdicts AS (
    SELECT *,
           CASE
               WHEN previous_close IS NULL OR abs(daily_move) <= move_limit THEN NULL
               WHEN split_ratio <> 1 AND move_with_other_ratio <= move_limit / 2 THEN 'split'
               WHEN next_close IS NULL AND trade_date = $latest THEN 'pending'
               WHEN next_close IS NOT NULL
                   AND abs(ln(1 + round_trip)) <= $reversal_share * abs(ln(1 + daily_move))
                   THEN 'spike'
               ELSE 'stands'
           END AS verdict
    FROM moves
),

judged AS (
    -- the session after a spike moves back by the spike: it is judged by the round
    -- trip over the spike instead (what the marts see once the spike is held out)
    SELECT *,
           CASE
               WHEN coalesce(lag(verdict) OVER by_ticker = 'spike', false) THEN
                   CASE
                       WHEN abs(lag(round_trip) OVER by_ticker) > move_limit THEN 'stands'
                   END
               ELSE verdict
           END AS final_verdict,
           CASE
               WHEN coalesce(lag(verdict) OVER by_ticker = 'spike', false)
                   THEN lag(round_trip) OVER by_ticker
               ELSE daily_move
           END AS judged_move
    FROM verdicts
    WINDOW by_ticker AS (PARTITION BY ticker ORDER BY trade_date)
),

move_findings AS (
    SELECT ticker AS key, trade_date AS obs_date,
           CASE final_verdict
               WHEN 'split' THEN $rule_split
               WHEN 'pending' THEN $rule_pending
               WHEN 'spike' THEN $rule_spike
               ELSE $rule_stands
           END AS rule,
           CASE final_verdict WHEN 'stands' THEN 'warn' ELSE 'quarantine' END AS action,
           to_json({
               'daily_move': round(judged_move, 4),
               'limit': move_limit,
               'previous_close': previous_close,
               'close': close,
               'next_close': next_close,
               'split_ratio': split_ratio
           })::VARCHAR AS value
    FROM judged
    WHERE final_verdict IS NOT NULL AND trade_date >= $lookback
),

gap_findings AS (
    SELECT j.ticker AS key, j.trade_date AS obs_date, $rule_gap AS rule, 'warn' AS action,
           to_json({
               'sessions_missing': day.sessions_before - previous.sessions_before - 1,
               'previous_row': j.previous_date,
               'limit': $max_gap_sessions
           })::VARCHAR AS value
    FROM judged AS j
    INNER JOIN nyse_days AS day ON day.day = j.trade_date
    INNER JOIN nyse_days AS previous ON previous.day = j.previous_date
    WHERE j.trade_date >= $lookback
        AND day.sessions_before - previous.sessions_before - 1 > $max_gap_sessions
),

latest_session AS (
    SELECT sessions_before + is_session::INTEGER AS sessions_to_latest
    FROM nyse_days WHERE day = $latest
),

stale_findings AS (
    SELECT b.ticker AS key, b.last_date AS obs_date, $rule_stale AS rule, 'warn' AS action,
           to_json({
               'sessions_since_last_row':
                   l.sessions_to_latest - day.sessions_before - day.is_session::INTEGER,
               'latest_day_in_table': $latest,
               'limit': $stale_sessions
           })::VARCHAR AS value
    FROM bounds AS b
    CROSS JOIN latest_session AS l
    INNER JOIN nyse_days AS day ON day.day = b.last_date
    WHERE l.sessions_to_latest - day.sessions_before - day.is_session::INTEGER
        > $stale_sessions
)

SELECT 'raw.prices' AS table_name, * FROM move_findings
UNION ALL
SELECT 'raw.prices', * FROM gap_findings
UNION ALL
SELECT 'raw.prices', * FROM stale_findings
ORDER BY obs_date, key, rule
"""

PRICED_TICKERS_SQL = """
SELECT trade_date AS obs_date, count(DISTINCT ticker) AS priced
FROM raw.prices
WHERE trade_date >= $lookback AND close > 0 AND NOT isnan(close)
GROUP BY trade_date
"""

RATE_FINDINGS_SQL = """
SELECT 'raw.rates' AS table_name, r.series_id AS key, r.obs_date, $rule AS rule,
       'quarantine' AS action,
       to_json({
           'value': r.value, 'kind': k.kind, 'units': k.units,
           'min': k.min_value, 'max': k.max_value
       })::VARCHAR AS value
FROM raw.rates AS r
INNER JOIN series_ranges AS k ON k.series_id = r.series_id
WHERE r.value IS NOT NULL AND NOT isnan(r.value)
    AND (r.value < k.min_value OR r.value > k.max_value)
ORDER BY r.series_id, r.obs_date
"""


@dataclass(frozen=True)
class Judgement:
    """The findings of one gate over its scope, and what (if anything) is systemic."""

    findings: pd.DataFrame
    systemic: list[str]

    def count(self, action: str) -> int:
        return int((self.findings["action"] == action).sum()) if len(self.findings) else 0


def price_findings(
    con: duckdb.DuckDBPyConnection, lookback: dt.date, latest: dt.date, gates: GateSettings
) -> Judgement:
    """Judge ``raw.prices`` from ``lookback`` to ``latest`` (``nyse_days`` registered)."""
    params = {
        "lookback": lookback,
        "latest": latest,
        "move_index": gates.move_index,
        "move_etf": gates.move_etf,
        "move_large_stock": gates.move_large_stock,
        "move_small_stock": gates.move_small_stock,
        "reversal_share": gates.reversal_share,
        "max_gap_sessions": gates.max_gap_sessions,
        "stale_sessions": gates.stale_sessions,
        "rule_split": WRONG_SPLIT,
        "rule_pending": PENDING,
        "rule_spike": SPIKE,
        "rule_stands": STANDS,
        "rule_gap": GAP,
        "rule_stale": STALE,
    }
    findings = con.execute(PRICE_FINDINGS_SQL, params).df()
    priced = con.execute(PRICED_TICKERS_SQL, {"lookback": lookback}).df()
    return Judgement(findings, systemic_days(findings, priced, gates))


def systemic_days(findings: pd.DataFrame, priced: pd.DataFrame, gates: GateSettings) -> list[str]:
    """Days on which so many tickers were quarantined that the feed, not a ticker, is
    broken: more than ``systemic_share`` of the tickers priced that day, and at least
    ``systemic_min_count`` of them."""
    quarantined = findings[findings["action"] == QUARANTINE]
    if quarantined.empty:
        return []
    per_day = quarantined.groupby("obs_date")["key"].nunique().rename("quarantined")
    days = per_day.to_frame().join(priced.set_index("obs_date")["priced"], how="left")
    broken = days[
        (days["quarantined"] >= gates.systemic_min_count)
        & (days["quarantined"] > gates.systemic_share * days["priced"].fillna(0))
    ]
    return [
        f"{pd.Timestamp(day).date()}: {int(row.quarantined)} of {int(row.priced or 0)} "
        "tickers quarantined"
        for day, row in broken.iterrows()
    ]


def rate_findings(
    con: duckdb.DuckDBPyConnection, units: dict[str, str], gates: GateSettings
) -> Judgement:
    """Judge every ``raw.rates`` value against the range of its series' kind."""
    series = [r[0] for r in con.execute("SELECT DISTINCT series_id FROM raw.rates").fetchall()]
    con.register("series_ranges", range_table(series, units))
    try:
        findings = con.execute(RATE_FINDINGS_SQL, {"rule": OUT_OF_RANGE}).df()
        rows = con.execute(
            "SELECT series_id AS key, count(*) AS observed FROM raw.rates GROUP BY 1"
        ).df()
    finally:
        con.unregister("series_ranges")
    return Judgement(findings, systemic_series(findings, rows, gates))


def systemic_series(findings: pd.DataFrame, rows: pd.DataFrame, gates: GateSettings) -> list[str]:
    """Series with so many values out of range that their units, not a value, are wrong
    (e.g. basis points where FRED has percent)."""
    if findings.empty:
        return []
    per_series = findings.groupby("key").size().rename("out_of_range").to_frame()
    per_series = per_series.join(rows.set_index("key")["observed"], how="left")
    broken = per_series[
        (per_series["out_of_range"] >= gates.systemic_min_count)
        & (per_series["out_of_range"] > gates.systemic_share * per_series["observed"])
    ]
    return [
        f"{key}: {int(row.out_of_range)} of {int(row.observed)} values out of range"
        for key, row in broken.iterrows()
    ]
