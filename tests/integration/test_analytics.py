"""The analytics marts after a real build of a small sample (40 tickers, 3 years to 2025).

The shared sample build (the real Dagster job, in-process) feeds every assertion: each
mart covers the whole loaded history and its figures are plausible for the sample
market, whose small caps trade at a discount and whose Fed path is the real one (the
first cut of the 2024 cycle on 2024-09-18, three cuts in 2025).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dagster_project.lib.warehouse.store import published_path

pytestmark = pytest.mark.slow

NEW_MARTS = (
    "pe_discount",
    "fomc_decisions",
    "rate_cut_event_study",
    "rate_cut_event_summary",
    "sector_rotation",
    "megacap_contribution",
)


@pytest.fixture(scope="module")
def con(built_sample):
    """The shared sample build (conftest's ``built_sample``), read through its published copy."""
    with duckdb.connect(str(published_path(built_sample.warehouse)), read_only=True) as connection:
        yield connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_analytics_marts_cover_the_loaded_history(con):
    for mart in NEW_MARTS:
        assert scalar(con, f"SELECT count(*) FROM marts.{mart}") > 0, mart
    first_day, last_day, days = con.execute(
        "SELECT min(trade_date), max(trade_date), count(DISTINCT trade_date) FROM raw.prices"
    ).fetchone()
    months = scalar(con, "SELECT count(DISTINCT date_trunc('month', trade_date)) FROM raw.prices")
    years = scalar(con, "SELECT count(DISTINCT year(trade_date)) FROM raw.prices")

    # One row per trading day, from the first to the last.
    assert con.execute(
        "SELECT min(trade_date), max(trade_date), count(*) FROM marts.pe_discount"
    ).fetchone() == (first_day, last_day, days)
    # The trailing P/E needs four reported quarters; from then on every day has a discount.
    first_discount = scalar(
        con, "SELECT min(trade_date) FROM marts.pe_discount WHERE discount IS NOT NULL"
    )
    assert first_discount < first_day + dt.timedelta(days=500)
    assert (
        scalar(
            con,
            "SELECT count(*) FROM marts.pe_discount"
            f" WHERE trade_date >= DATE '{first_discount}' AND discount IS NULL",
        )
        == 0
    )
    # Every month and year, for both size buckets.
    assert (
        scalar(con, "SELECT count(*) FROM marts.megacap_contribution WHERE period_type = 'month'")
        == months
    )
    assert (
        scalar(con, "SELECT count(*) FROM marts.megacap_contribution WHERE period_type = 'year'")
        == years
    )
    assert con.execute(
        "SELECT size_bucket, count(DISTINCT month_start) FROM marts.sector_rotation"
        " GROUP BY 1 ORDER BY 1"
    ).fetchall() == [("large", months), ("small", months)]
    # The policy calendar covers the loaded rates, with a regime every day.
    assert con.execute(
        "SELECT count(*) = count(regime), min(calendar_date) <= ?, max(calendar_date) >= ?"
        " FROM marts.fed_policy_daily",
        [first_day, last_day],
    ).fetchone() == (True, True, True)


def test_small_caps_trade_at_a_discount(con):
    median_discount, last_percentile, history, small_pe, large_pe = con.execute(
        "SELECT median(discount), arg_max(discount_percentile, trade_date),"
        " max(discount_history_sessions),"
        " median(small_trailing_pe), median(large_trailing_pe) FROM marts.pe_discount"
    ).fetchone()
    assert median_discount < 0
    # Three sample years, the discount from the second: short of the three years of
    # history (756 sessions) a percentile needs, so none is quoted.
    assert 0 < history < 756 and last_percentile is None
    assert 5 < small_pe < large_pe < 60
    # Coverage: at least half the priced names on every day with a P/E (the threshold),
    # and all of them once every company has reported four quarters.
    assert (
        scalar(
            con,
            "SELECT count(*) FROM marts.pe_discount WHERE discount IS NOT NULL"
            " AND (2 * small_names_trailing < small_names_priced"
            " OR 2 * large_names_trailing < large_names_priced)",
        )
        == 0
    )
    assert con.execute(
        "SELECT small_names_trailing = small_names_priced,"
        " large_names_trailing = large_names_priced"
        " FROM marts.pe_discount ORDER BY trade_date DESC LIMIT 1"
    ).fetchone() == (True, True)


def test_fomc_cycles_and_the_2024_first_cut(con):
    first_cut = con.execute(
        "SELECT change_bp, is_first_cut_of_cycle, cycle_id FROM marts.fomc_decisions"
        " WHERE decision_date = DATE '2024-09-18'"
    ).fetchone()
    assert first_cut == (-50.0, True, "easing-2024-09-18")
    assert (
        scalar(
            con,
            "SELECT count(*) FROM marts.fomc_decisions"
            " WHERE direction = 'cut' AND year(decision_date) = 2025",
        )
        == 3
    )
    # The 2025 cuts continue the cycle that opened in September 2024.
    assert con.execute(
        "SELECT DISTINCT cycle_id, bool_or(is_first_cut_of_cycle) FROM marts.fomc_decisions"
        " WHERE year(decision_date) = 2025 GROUP BY 1"
    ).fetchall() == [("easing-2024-09-18", False)]
    assert con.execute(
        "SELECT regime, days_since_first_cut FROM marts.fed_policy_daily"
        " WHERE calendar_date = DATE '2024-10-18'"
    ).fetchone() == ("easing", 30)


def test_event_study_after_the_2024_first_cut(con):
    rows = con.execute(
        "SELECT horizon_days, base_date, small_return, large_return, relative_return"
        " FROM marts.rate_cut_event_study"
        " WHERE pair = 'IWM/SPY' AND decision_date = DATE '2024-09-18' ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 5, 21, 63, 126, 252]
    assert all(r[1] == dt.date(2024, 9, 17) for r in rows)
    for _, _, small, large, relative in rows:
        assert -0.6 < small < 1.5 and -0.6 < large < 1.5
        assert relative == pytest.approx(small - large, abs=1e-9)
    summary = dict(
        con.execute(
            "SELECT cut_set, n_events FROM marts.rate_cut_event_summary"
            " WHERE pair = 'IWM/SPY' AND horizon_days = 1"
        ).fetchall()
    )
    assert summary["first_cuts"] >= 1
    assert summary["all_cuts"] >= 6  # Sep, Nov, Dec 2024 and Sep, Oct, Dec 2025


def test_megacap_contribution_adds_up(con):
    bad = scalar(
        con,
        "SELECT count(*) FROM marts.megacap_contribution"
        " WHERE abs(mag7_contribution + rest_contribution - index_return) > 1e-9"
        " OR mag7_start_weight NOT BETWEEN 0 AND 1 OR n_magnificent_7 > 7"
        " OR (membership_method = 'static_list' AND n_magnificent_7 <> 7)",
    )
    assert bad == 0
    # The index is the large members valid at each period's start: from the first
    # reconstitution on, the ranked top third of the universe, not today's list.
    assert con.execute(
        "SELECT DISTINCT membership_method FROM marts.megacap_contribution ORDER BY 1"
    ).fetchall() == [("reconstitution",), ("static_list",)]
    year_2024 = con.execute(
        "SELECT index_return, mag7_share, benchmark_return FROM marts.megacap_contribution"
        " WHERE period_type = 'year' AND period_label = '2024'"
    ).fetchone()
    assert year_2024[0] is not None and year_2024[2] is not None
    share_of_spy = con.execute(
        "SELECT mag7_contribution / benchmark_return, mag7_share_of_benchmark"
        " FROM marts.megacap_contribution WHERE period_type = 'year' AND period_label = '2024'"
    ).fetchone()
    assert share_of_spy[1] == pytest.approx(share_of_spy[0])


def test_relative_performance_rate_correlation(con):
    count, with_corr, low, high = con.execute(
        "SELECT count(*), count(spread_dgs2_corr_63d), min(spread_dgs2_corr_63d),"
        " max(spread_dgs2_corr_63d) FROM marts.relative_performance WHERE pair = 'IWM/SPY'"
    ).fetchone()
    assert with_corr == count - 63  # NULL on the first 63 days (no spread on day one)
    assert -1 <= low <= high <= 1
