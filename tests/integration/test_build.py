"""The whole product on a small sample: raw loads, GX gates, dbt, publish."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dagster_project.defs import resources
from dagster_project.lib.quality import anomalies
from dagster_project.lib.sources.base import as_frame
from dagster_project.lib.warehouse.store import published_path
from tests.integration.conftest import table_counts

pytestmark = pytest.mark.slow

MARTS = ("fct_daily_prices", "relative_performance", "fed_policy_daily")
PAIRS = {"IWM/SPY", "^RUT/^GSPC", "IWM/IWB", "IWD/IWF", "IWN/IWO", "RSP/SPY"}


def test_build_fills_every_mart_and_publishes_a_copy(built_sample):
    assert built_sample.outcome.ok, built_sample.outcome.failure_report()
    published = published_path(built_sample.warehouse)
    assert published.exists()
    with duckdb.connect(str(published), read_only=True) as con:
        for mart in MARTS:
            assert con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0] > 0, mart
        pairs = dict(
            con.execute(
                "SELECT pair, count(*) FROM marts.relative_performance GROUP BY 1"
            ).fetchall()
        )
        assert set(pairs) == PAIRS
        assert min(pairs.values()) > 700  # three years of trading days
        sources = con.execute("SELECT DISTINCT source FROM raw.prices").fetchall()
        assert sources == [("sample",)]


def test_a_narrower_window_replaces_only_that_window(sample_copy, build, warehouse_path):
    before = table_counts(warehouse_path)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        first_load = con.execute("SELECT min(loaded_at) FROM raw.prices").fetchone()[0]
    outcome = build(start=pd.Timestamp("2025-06-02").date(), end=pd.Timestamp("2025-06-30").date())
    assert outcome.ok, outcome.failure_report()
    assert table_counts(warehouse_path)["raw.prices"] == before["raw.prices"]
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        reloaded = con.execute(
            "SELECT min(trade_date), max(trade_date) FROM raw.prices WHERE loaded_at > ?",
            [first_load],
        ).fetchone()
    assert [d.isoformat() for d in reloaded] == ["2025-06-02", "2025-06-30"]


class CorruptedSource:
    """Wraps the real sample and breaks its prices the way a bad feed would."""

    def __init__(self, inner):
        self.inner = inner
        self.label = inner.label
        self.synthetic = inner.synthetic

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def prices(self, window):
        frame = as_frame(self.inner.prices(window)).reset_index(drop=True)
        spy = frame.index[frame["ticker"] == "SPY"]
        frame.loc[spy[10], ["open", "high", "low", "close"]] = -5.0
        duplicate = frame.loc[frame.index[frame["ticker"] == "IWM"][20:21]]
        return pd.concat([frame, duplicate], ignore_index=True)


class BadFeed(CorruptedSource):
    """Every structural fault, each on its own ticker and day: the build must halt."""

    def prices(self, window):
        frame = as_frame(self.inner.prices(window)).reset_index(drop=True)
        rows = {t: frame.index[frame["ticker"] == t] for t in ("SPY", "IWB", "IWD")}
        ohlc = ["open", "high", "low", "close"]
        frame.loc[rows["SPY"][10], ohlc] = -5.0  # negative price
        frame.loc[rows["IWD"][30], ohlc] = 0.0  # zero price
        frame.loc[rows["IWB"][40], "close"] = float("nan")  # NaN close
        duplicate = frame.loc[frame.index[frame["ticker"] == "IWM"][20:21]]
        return pd.concat([frame, duplicate], ignore_index=True)


class OddFeed(CorruptedSource):
    """Statistical anomalies a real feed has: none may halt the build."""

    TICK_DAY = 100
    JUMP_DAY = 200

    def prices(self, window):
        frame = as_frame(self.inner.prices(window)).reset_index(drop=True)
        rows = {t: frame.index[frame["ticker"] == t] for t in ("IWF", "IWN", "XLE")}
        ohlc = ["open", "high", "low", "close"]
        frame.loc[rows["IWF"][self.TICK_DAY], ohlc] *= 10  # a one-session x10 print
        jump = rows["XLE"][self.JUMP_DAY :]
        frame.loc[jump, ohlc] *= 0.4  # -60% that stands (a missing split, or a real crash)
        return frame.drop(index=rows["IWN"][-20:])  # a ticker that stops being reported

    def rates(self, window):
        frame = self.inner.rates(window).reset_index(drop=True)
        frame.loc[frame.index[frame["series_id"] == "DGS2"][5], "value"] = 420.0  # 4.2 x 100
        return frame


class BrokenFeed(CorruptedSource):
    """A feed that prints x10 for a quarter of the tickers on one day: systemic."""

    def prices(self, window):
        frame = as_frame(self.inner.prices(window)).reset_index(drop=True)
        day = sorted(frame["trade_date"].unique())[150]
        tickers = sorted(frame["ticker"].unique())[::4]
        hit = (frame["trade_date"] == day) & frame["ticker"].isin(tickers)
        frame.loc[hit, ["open", "high", "low", "close"]] *= 10
        return frame


def reported(report: str, rule: str) -> str:
    """The part of the failure report about ``rule`` (its count and example rows)."""
    parts = [p for line in report.splitlines() for p in line.split(" | ")]
    found = [p for p in parts if rule in p]
    assert found, f"rule {rule!r} not reported in:\n{report}"
    return found[0]


def use_feed(monkeypatch, feed) -> None:
    real = resources.build_source
    monkeypatch.setattr(resources, "build_source", lambda s: feed(real(s)))


def test_structural_faults_halt_the_build_and_are_listed(
    sample_copy, build, warehouse_path, monkeypatch
):
    fingerprint = (
        "SELECT count(*), sum(total_return_index), max(trade_date) FROM marts.fct_daily_prices"
    )
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        published_before = con.execute(fingerprint).fetchall()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        marts_before = con.execute(fingerprint).fetchall()

    use_feed(monkeypatch, BadFeed)
    outcome = build()

    assert not outcome.ok
    report = outcome.failure_report()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:

        def day(sql: str) -> str:
            return con.execute(sql).fetchall()[0][0].isoformat()

        expected = {
            (
                "SPY",
                day("SELECT trade_date FROM raw.prices WHERE ticker = 'SPY' AND close < 0"),
                "close is positive",
            ),
            (
                "IWD",
                day("SELECT trade_date FROM raw.prices WHERE ticker = 'IWD' AND close = 0"),
                "close is positive",
            ),
            (
                "IWB",
                day(
                    "SELECT trade_date FROM raw.prices WHERE ticker = 'IWB' "
                    "AND (close IS NULL OR isnan(close))"
                ),
                "close is present",
            ),
            (
                "IWM",
                day(
                    "SELECT trade_date FROM raw.prices WHERE ticker = 'IWM' "
                    "GROUP BY trade_date HAVING count(*) > 1"
                ),
                "one row per ticker and day",
            ),
        }
        halted = {
            (key, obs_date.isoformat(), rule)
            for key, obs_date, rule in con.execute(
                "SELECT key, obs_date, rule FROM raw.quarantine "
                "WHERE run_id = ? AND action = 'halt' AND status = 'open'",
                [outcome.run_id],
            ).fetchall()
        }
        marts_after = con.execute(fingerprint).fetchall()
    for key, obs_date, rule in expected:
        assert f"{key} {obs_date}" in reported(report, rule), (key, rule, report)
        assert (key, obs_date, rule) in halted, (key, obs_date, rule, halted)
    assert any("rotation_dbt_models" in step for step in outcome.skipped_steps)
    assert not any(key.startswith("marts/") for key in outcome.materialized)
    assert marts_after == marts_before
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        assert con.execute(fingerprint).fetchall() == published_before


def test_statistical_anomalies_are_quarantined_or_warned_and_the_build_goes_on(
    build, warehouse_path, monkeypatch
):
    use_feed(monkeypatch, OddFeed)
    outcome = build()
    assert outcome.ok, outcome.failure_report()
    assert any("raw_prices_anomalies" in w and "quarantined" in w for w in outcome.warnings)
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:

        def nth_day(ticker: str, n: int):
            return con.execute(
                "SELECT trade_date FROM raw.prices WHERE ticker = ? ORDER BY trade_date "
                f"LIMIT 1 OFFSET {n}",
                [ticker],
            ).fetchall()[0][0]

        tick, jump = nth_day("IWF", OddFeed.TICK_DAY), nth_day("XLE", OddFeed.JUMP_DAY)
        gone = con.execute("SELECT max(trade_date) FROM raw.prices WHERE ticker = 'IWN'")
        gone = gone.fetchall()[0][0]
        bad_rate = con.execute("SELECT obs_date FROM raw.rates WHERE value > 100").fetchall()
        found = {
            (key, obs_date, action)
            for key, obs_date, action in con.execute(
                "SELECT key, obs_date, action FROM raw.quarantine WHERE status = 'open'"
            ).fetchall()
        }
        assert ("IWF", tick, "quarantine") in found
        assert ("XLE", jump, "warn") in found
        assert ("IWN", gone, "warn") in found
        assert ("DGS2", bad_rate[0][0], "quarantine") in found
        # the bad tick stays in raw, is kept out of the marts, and the next day's return
        # runs from the day before it
        in_marts = con.execute(
            "SELECT count(*) FROM marts.fct_daily_prices WHERE ticker = 'IWF' AND trade_date = ?",
            [tick],
        ).fetchall()
        assert in_marts == [(0,)]
        worst = con.execute(
            "SELECT max(abs(daily_return)) FROM marts.fct_daily_prices WHERE ticker = 'IWF'"
        ).fetchall()[0][0]
        assert worst < 0.2
        # the move that stands is in the marts, as it happened
        xle = con.execute(
            "SELECT daily_return FROM marts.fct_daily_prices WHERE ticker = 'XLE' "
            "AND trade_date = ?",
            [jump],
        ).fetchall()[0][0]
        assert xle < -0.55
        kept_out = con.execute(
            "SELECT count(*) FROM staging.stg_raw__rates WHERE series_id = 'DGS2' AND obs_date = ?",
            [bad_rate[0][0]],
        ).fetchall()
        assert kept_out == [(0,)]


def test_a_systemic_fault_halts_the_build(build, monkeypatch):
    use_feed(monkeypatch, BrokenFeed)
    outcome = build()
    assert not outcome.ok
    assert "systemic fault" in reported(outcome.failure_report(), "raw_prices_anomalies")
    assert not any(key.startswith("marts/") for key in outcome.materialized)


def test_bad_prices_fail_the_blocking_check_and_leave_marts_alone(
    sample_copy, build, warehouse_path, monkeypatch
):
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        published_before = con.execute("SELECT count(*) FROM marts.fct_daily_prices").fetchone()

    real = resources.build_source
    monkeypatch.setattr(resources, "build_source", lambda s: CorruptedSource(real(s)))
    outcome = build()

    assert not outcome.ok
    report = outcome.failure_report()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        bad_day = con.execute(
            "SELECT trade_date FROM raw.prices WHERE ticker = 'SPY' AND close < 0"
        ).fetchone()[0]
        dup_day = con.execute(
            "SELECT trade_date FROM raw.prices WHERE ticker = 'IWM' "
            "GROUP BY trade_date HAVING count(*) > 1"
        ).fetchone()[0]
    assert f"close is positive: 1 rows, e.g. SPY {bad_day.isoformat()}" in report
    assert f"one row per ticker and day: 2 rows, e.g. IWM {dup_day.isoformat()}" in report
    assert any("rotation_dbt_models" in step for step in outcome.skipped_steps)
    assert not any(key.startswith("marts/") for key in outcome.materialized)
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_daily_prices").fetchone() == (
            published_before
        )


def test_the_sample_markets_extremes_meet_the_gates(build, warehouse_path):
    """The sample's scripted extremes (sources/sample/extremes.py) through the real build:
    the crash and spike stand, the bad tick is quarantined, the reverse split is no move,
    the delisting is a warning, negative real yields and VIX levels pass their ranges
    (^RUT's early end, at the sample's end: ``test_an_index_that_ends_early_is_a_warning``)."""
    from dagster_project.lib.sources.sample import extremes

    outcome = build(
        sample_tickers=45, sample_years=None, start=dt.date(2008, 9, 2), end=dt.date(2016, 6, 30)
    )
    assert outcome.ok, outcome.failure_report()
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        findings = {
            (key, obs_date, action)
            for key, obs_date, action in con.execute(
                "SELECT key, obs_date, action FROM raw.quarantine WHERE status = 'open'"
            ).fetchall()
        }

        def marts_return(event) -> float | None:
            rows = con.execute(
                "SELECT daily_return FROM marts.fct_daily_prices WHERE ticker = ? "
                "AND trade_date = ?",
                [event.ticker, event.date],
            ).fetchall()
            return rows[0][0] if rows else None

        crash, spike = extremes.STANDING_CRASH, extremes.STANDING_SPIKE
        assert (crash.ticker, crash.date, "warn") in findings
        assert (spike.ticker, spike.date, "warn") in findings
        assert marts_return(crash) == pytest.approx(-0.70, abs=0.02)
        assert marts_return(spike) == pytest.approx(1.50, abs=0.05)

        tick = extremes.BAD_TICK
        assert (tick.ticker, tick.date, "quarantine") in findings
        assert marts_return(tick) is None
        in_raw = con.execute(
            "SELECT count(*) FROM raw.prices WHERE ticker = ? AND trade_date = ?",
            [tick.ticker, tick.date],
        ).fetchall()
        assert in_raw == [(1,)]

        split = extremes.REVERSE_SPLIT
        assert not any(key == split.ticker and day == split.date for key, day, _ in findings)
        assert abs(marts_return(split)) < 0.2

        delisted = extremes.DELISTED
        assert (delisted.ticker, delisted.date, "warn") in findings

        quarantined_rates = [f for f in findings if f[0] in ("DFII10", "VIXCLS")]
        assert quarantined_rates == []
        lowest_real_yield, highest_vix = con.execute(
            "SELECT min(value) FILTER (WHERE series_id = 'DFII10'), "
            "max(value) FILTER (WHERE series_id = 'VIXCLS') FROM raw.rates"
        ).fetchall()[0]
        assert lowest_real_yield < -0.5
        assert highest_vix > 25


def test_an_index_that_ends_early_is_a_warning(built_sample):
    """The sample's ^RUT ends 8 sessions before the others (sources/sample/extremes.py):
    the build goes on, and the ticker is listed as no longer reported."""
    assert built_sample.outcome.ok
    with duckdb.connect(str(built_sample.warehouse), read_only=True) as con:
        last_rut, last_day = con.execute(
            "SELECT max(trade_date) FILTER (WHERE ticker = '^RUT'), max(trade_date) FROM raw.prices"
        ).fetchall()[0]
        stale = con.execute(
            "SELECT key, obs_date, action FROM raw.quarantine WHERE rule = ? AND status = 'open'",
            [anomalies.STALE],
        ).fetchall()
    assert last_rut < last_day
    assert ("^RUT", last_rut, "warn") in stale
