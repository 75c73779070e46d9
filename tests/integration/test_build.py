"""The whole product on a small sample: raw loads, GX gates, dbt, publish."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project import resources
from dagster_project.warehouse import published_path

pytestmark = pytest.mark.slow

MARTS = ("fct_daily_prices", "relative_performance", "fed_policy_daily")
PAIRS = {"IWM/SPY", "^RUT/^GSPC", "IWM/IWB", "IWD/IWF", "IWN/IWO", "RSP/SPY"}


def counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'marts') ORDER BY 1"
        ).fetchall()
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for (t,) in tables}


def test_build_fills_every_mart_and_publishes_a_copy(build, warehouse_path):
    outcome = build()
    assert outcome.ok, outcome.failure_report()
    published = published_path(warehouse_path)
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


def test_building_twice_gives_identical_row_counts(build, warehouse_path):
    assert build().ok
    first = counts(warehouse_path)
    assert build().ok
    assert counts(warehouse_path) == first
    assert first["raw.prices"] > 0


def test_a_narrower_window_replaces_only_that_window(build, warehouse_path):
    assert build().ok
    before = counts(warehouse_path)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        first_load = con.execute("SELECT min(loaded_at) FROM raw.prices").fetchone()[0]
    outcome = build(start=pd.Timestamp("2025-06-02").date(), end=pd.Timestamp("2025-06-30").date())
    assert outcome.ok, outcome.failure_report()
    assert counts(warehouse_path)["raw.prices"] == before["raw.prices"]
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
        frame = self.inner.prices(window).reset_index(drop=True)
        spy = frame.index[frame["ticker"] == "SPY"]
        frame.loc[spy[10], ["open", "high", "low", "close"]] = -5.0
        duplicate = frame.loc[frame.index[frame["ticker"] == "IWM"][20:21]]
        return pd.concat([frame, duplicate], ignore_index=True)


def test_bad_prices_fail_the_blocking_check_and_leave_marts_alone(
    build, warehouse_path, monkeypatch
):
    assert build().ok
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
