"""What the report reads from the marts: one small query per chart, and the key figures.

Each reader takes an open DuckDB connection (the published copy for the report, the
live warehouse right after dbt for the mart assets' metadata) and returns a plain frame,
so the charts never see SQL and can be tested on hand-made frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from dagster_project.lib.warehouse.connection import is_synthetic, read_sources

SIZE_PAIRS = ("IWM/SPY", "^RUT/^GSPC")
"""The small/large pairs the report charts (``marts.relative_performance.pair``)."""

KEY_PAIR = "IWM/SPY"
HEATMAP_MONTHS = 12
"""Recent months shown in the sector heatmap: enough to see a rotation, few enough to read."""


def read_relative(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The small/large ratios and their 3m/12m relative returns, one row per pair and day."""
    placeholders = ", ".join("?" for _ in SIZE_PAIRS)
    return con.execute(
        "SELECT pair, trade_date, ratio, rel_return_3m, rel_return_12m "
        f"FROM marts.relative_performance WHERE pair IN ({placeholders}) "
        "ORDER BY pair, trade_date",
        list(SIZE_PAIRS),
    ).df()


def read_policy(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The Fed's target range by calendar day."""
    return con.execute(
        "SELECT calendar_date, target_lower, target_upper FROM marts.fed_policy_daily "
        "ORDER BY calendar_date"
    ).df()


def read_cuts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every FOMC cut, flagged when it opened an easing cycle."""
    return con.execute(
        "SELECT decision_date, change_bp, is_first_cut_of_cycle FROM marts.fomc_decisions "
        "WHERE direction = 'cut' ORDER BY decision_date"
    ).df()


def read_pe(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The small/large trailing P/E discount under both index conventions (with
    loss-makers, S&P's; without, FTSE Russell's), its expanding median, and how each
    day's baskets were chosen, by trading day."""
    return con.execute(
        "SELECT trade_date, discount, discount_ex_losses, discount_percentile, "
        "discount_median_to_date, small_membership_method, large_membership_method "
        "FROM marts.pe_discount "
        "WHERE discount IS NOT NULL OR discount_ex_losses IS NOT NULL ORDER BY trade_date"
    ).df()


def read_megacap(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per calendar year: the Magnificent 7's contribution as a share of the large
    universe's return and of the benchmark fund's (SPY's) return."""
    return con.execute(
        "SELECT period_label, period_start, n_constituents, membership_method, "
        "index_return, benchmark_return, mag7_contribution, mag7_share, "
        "mag7_share_of_benchmark FROM marts.megacap_contribution "
        "WHERE period_type = 'year' ORDER BY period_start"
    ).df()


def membership_methods(pe: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """How the baskets were chosen over the charted days: method -> (first, last day).

    The report says it in words, because a discount measured on today's list applied to
    the past (``static_list``) is not the same claim as one on point-in-time members.
    """
    if pe.empty or "small_membership_method" not in pe:
        return {}
    methods: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    for column in ("small_membership_method", "large_membership_method"):
        for method, days in pe.groupby(column)["trade_date"]:
            first, last = days.min(), days.max()
            if method in methods:
                first, last = min(first, methods[method][0]), max(last, methods[method][1])
            methods[str(method)] = (first, last)
    return dict(sorted(methods.items(), key=lambda item: item[1][0]))


def read_event_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Average small-minus-large return after cuts, by pair, cut set and horizon."""
    return con.execute(
        "SELECT pair, cut_set, horizon_days, n_events, avg_relative_return "
        "FROM marts.rate_cut_event_summary ORDER BY pair, cut_set, horizon_days"
    ).df()


def read_sectors(con: duckdb.DuckDBPyConnection, months: int = HEATMAP_MONTHS) -> pd.DataFrame:
    """Each sector's return relative to its size bucket's benchmark over the recent months."""
    return con.execute(
        "SELECT month_start, month_label, size_bucket, sector, relative_to_benchmark "
        "FROM marts.sector_rotation WHERE month_start IN ("
        "  SELECT DISTINCT month_start FROM marts.sector_rotation "
        "  ORDER BY month_start DESC LIMIT ?) "
        "ORDER BY size_bucket, sector, month_start",
        [months],
    ).df()


def read_claims(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The claims ledger in the claims file's order."""
    return con.execute(
        "SELECT claim_id, claim_text, metric, subject, claimed_value, measured_value, "
        "comparison, verdict, measured_from, measured_to, no_data_reason "
        "FROM marts.claims ORDER BY claim_position"
    ).df()


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as frames read from one warehouse file."""

    sources: list[str]
    relative: pd.DataFrame
    policy: pd.DataFrame
    cuts: pd.DataFrame
    pe: pd.DataFrame
    megacap: pd.DataFrame
    event_summary: pd.DataFrame
    sectors: pd.DataFrame
    claims: pd.DataFrame

    @property
    def synthetic(self) -> bool:
        return is_synthetic(self.sources)

    @property
    def as_of(self) -> pd.Timestamp | None:
        """The last trading day in the data: what "latest" means in the report."""
        dates = self.relative["trade_date"]
        return dates.max() if len(dates) else None


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    return ReportData(
        sources=read_sources(con),
        relative=read_relative(con),
        policy=read_policy(con),
        cuts=read_cuts(con),
        pe=read_pe(con),
        megacap=read_megacap(con),
        event_summary=read_event_summary(con),
        sectors=read_sectors(con),
        claims=read_claims(con),
    )


def _last(frame: pd.DataFrame, column: str, order: str) -> float | None:
    """The latest non-null value of a column, as a plain float (None when there is none)."""
    values = frame.dropna(subset=[column]).sort_values(order)[column]
    if values.empty:
        return None
    value = float(values.iloc[-1])
    return None if math.isnan(value) else value


def relative_key_figures(relative: pd.DataFrame, pair: str = KEY_PAIR) -> dict[str, float]:
    """Latest 3m and 12m relative return of the headline pair (absent when not computable)."""
    rows = relative[relative["pair"] == pair]
    prefix = pair.replace("/", "_").replace("^", "").lower()
    figures = {
        f"{prefix}_rel_return_3m": _last(rows, "rel_return_3m", "trade_date"),
        f"{prefix}_rel_return_12m": _last(rows, "rel_return_12m", "trade_date"),
    }
    return {k: v for k, v in figures.items() if v is not None}


def pe_key_figures(pe: pd.DataFrame) -> dict[str, float]:
    """Latest small/large trailing P/E discount, with and without loss-makers."""
    figures = {
        name: _last(pe, column, "trade_date")
        for name, column in (
            ("pe_discount", "discount"),
            ("pe_discount_ex_losses", "discount_ex_losses"),
        )
        if column in pe
    }
    return {k: v for k, v in figures.items() if v is not None}


def megacap_key_figures(megacap: pd.DataFrame) -> dict[str, float]:
    """The latest year's Magnificent 7 share of the large universe's and of SPY's return.

    Both from the same (latest) year, never one from each: the two are read side by side.
    """
    if megacap.empty:
        return {}
    latest = megacap.sort_values("period_start").iloc[-1]
    figures = {
        "mag7_share": latest.get("mag7_share"),
        "mag7_share_of_benchmark": latest.get("mag7_share_of_benchmark"),
    }
    return {k: float(v) for k, v in figures.items() if v is not None and not pd.isna(v)}


def policy_key_figures(policy: pd.DataFrame) -> dict[str, float]:
    """Latest upper bound of the Fed's target range, percent."""
    value = _last(policy, "target_upper", "calendar_date")
    return {} if value is None else {"fed_target_upper": value}


def key_figures(data: ReportData) -> dict[str, float]:
    """The headline numbers Dagster records with each materialization (and plots over time)."""
    return {
        **pe_key_figures(data.pe),
        **megacap_key_figures(data.megacap),
        **relative_key_figures(data.relative),
        **policy_key_figures(data.policy),
    }
