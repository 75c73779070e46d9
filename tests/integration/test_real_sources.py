"""Whole builds from the live source (replayed Yahoo and FRED) and from a folder of files."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.build import BuildOutcome, run_build
from dagster_project.lib.settings import Settings
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import RATES
from tests.replay.fred import FIXTURES as FRED_FIXTURES
from tests.replay.fred import VALID_KEY
from tests.replay.yahoo import FIXTURES as YAHOO_FIXTURES

pytestmark = pytest.mark.slow

START, BEFORE_SPLIT, END = dt.date(2024, 7, 1), dt.date(2024, 8, 30), dt.date(2024, 9, 30)
PAIRS = {"IWM/SPY", "^RUT/^GSPC", "IWM/IWB", "IWD/IWF", "IWN/IWO", "RSP/SPY"}


def build(settings: Settings) -> tuple[BuildOutcome, list[str]]:
    """Run the build job; also return every event-log line the run wrote."""
    with dg.DagsterInstance.ephemeral() as instance:
        outcome = run_build(settings, instance, show_progress=False)
        # No run when the build stopped before it (its window could not be read).
        logs = [str(entry) for entry in instance.all_logs(outcome.run_id)] if outcome.run_id else []
    return outcome, logs


def mart_keys(outcome: BuildOutcome) -> set[str]:
    return {key for key in outcome.materialized if key.startswith("marts/")}


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def yahoo_export(ticker: str) -> pd.DataFrame:
    """A recorded chart as Yahoo's CSV export lays it out (split-adjusted Close)."""
    result = json.loads((YAHOO_FIXTURES / "chart" / f"{ticker}.json").read_text())
    result = result["chart"]["result"][0]
    days = pd.to_datetime(result["timestamp"], unit="s").normalize()
    quote = result["indicators"]["quote"][0]
    frame = pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Open": quote["open"],
            "High": quote["high"],
            "Low": quote["low"],
            "Close": quote["close"],
            "Adj Close": result["indicators"]["adjclose"][0]["adjclose"],
            "Volume": quote["volume"],
            "Dividends": 0.0,
            "Stock Splits": 0.0,
        }
    )
    for kind, column, field in (
        ("dividends", "Dividends", "amount"),
        ("splits", "Stock Splits", "numerator"),
    ):
        for event in result.get("events", {}).get(kind, {}).values():
            day = pd.to_datetime(event["date"], unit="s").normalize().strftime("%Y-%m-%d")
            frame.loc[frame["Date"] == day, column] = event[field]
    return frame


@pytest.fixture
def files_dir(tmp_path) -> Path:
    """Yahoo-style price CSVs (one Parquet, one close-only), FRED graph CSVs, fundamentals."""
    root = tmp_path / "my-data"
    (root / "prices").mkdir(parents=True)
    for path in sorted((YAHOO_FIXTURES / "chart").glob("*.json")):
        ticker = path.stem
        if "." in ticker:
            continue
        frame = yahoo_export(ticker)
        if ticker == "IWB":
            frame.to_parquet(root / "prices" / "IWB.parquet", index=False)
        elif ticker == "^GSPC":
            frame[["Date", "Close"]].to_csv(root / "prices" / "^GSPC.csv", index=False)
        else:
            frame.to_csv(root / "prices" / f"{ticker}.csv", index=False)
    (root / "rates").mkdir()
    for path in FRED_FIXTURES.glob("*.xml"):
        rows = [(o.get("date"), o.get("value")) for o in ET.parse(path).getroot()]
        if not rows:  # DFEDTAR ended in 2008
            continue
        lines = [f"observation_date,{path.stem}"] + [
            f"{d},{'' if v == '.' else v}" for d, v in rows
        ]
        (root / "rates" / f"{path.stem}.csv").write_text("\n".join(lines) + "\n")
    (root / "fundamentals").mkdir()
    (root / "fundamentals" / "JPM.csv").write_text(
        "period_end,eps,shares_outstanding,eps_estimate,report_date\n"
        "2023-09-30,4.33,2.9e9,3.96,2023-10-13\n2023-12-31,3.04,2.89e9,3.32,2024-01-12\n"
        "2024-03-31,4.44,2.88e9,4.11,2024-04-12\n2024-06-30,6.12,2.87e9,4.19,2024-07-12\n"
    )
    return root


def test_a_files_build_fills_every_mart_and_a_bad_file_loses_nothing(
    dbt_manifest, warehouse_path, files_dir
):
    settings = Settings(source=f"files:{files_dir}", warehouse=warehouse_path)
    outcome, _ = build(settings)
    assert outcome.ok, outcome.failure_report()
    assert mart_keys(outcome) >= {
        "marts/fct_daily_prices",
        "marts/relative_performance",
        "marts/fed_policy_daily",
    }
    published = wh.published_path(warehouse_path)
    pairs = {p for (p,) in query(published, "SELECT DISTINCT pair FROM marts.relative_performance")}
    assert pairs == PAIRS
    assert query(published, "SELECT DISTINCT source FROM raw.prices") == [(f"files:{files_dir}",)]
    # NVDA's split-adjusted export was restored to as-traded closes; dbt adjusts it back.
    kink = query(
        published, "SELECT max(abs(daily_return)) FROM marts.fct_daily_prices WHERE ticker = 'NVDA'"
    )[0][0]
    assert kink < 0.1

    before = query(warehouse_path, "SELECT count(*), sum(close) FROM raw.prices")
    (files_dir / "prices" / "SPY.csv").write_text("Date,Close\n2024-07-01,1\n2024-07-01,2\n")
    outcome, _ = build(settings)
    assert not outcome.ok
    assert "SPY.csv line 3: duplicate Date 2024-07-01" in outcome.failure_report()
    assert query(warehouse_path, "SELECT count(*), sum(close) FROM raw.prices") == before


def test_a_build_into_another_sources_warehouse_is_refused(dbt_manifest, warehouse_path, files_dir):
    with wh.connect(warehouse_path) as con:
        wh.ensure_raw_schema(con)
        rates = pd.DataFrame({"series_id": ["DFF"], "obs_date": [START], "value": [5.33]})
        wh.replace_window(con, RATES, rates, "sample", None, dt.datetime(2024, 1, 1))
    outcome, _ = build(Settings(source=f"files:{files_dir}", warehouse=warehouse_path))
    assert not outcome.ok
    assert "already holds data from source sample" in outcome.failure_report()
    assert "--warehouse" in outcome.failure_report()


def test_live_builds_incrementally_through_a_split_without_a_kink(
    dbt_manifest, warehouse_path, yahoo, fred_server, monkeypatch
):
    monkeypatch.setenv("FRED_API_KEY", VALID_KEY)
    yahoo.use_chart("NVDA", "before")
    first, first_logs = build(
        Settings(source="live", warehouse=warehouse_path, start=START, end=BEFORE_SPLIT)
    )
    assert first.ok, first.failure_report()
    assert mart_keys(first) >= {
        "marts/fct_daily_prices",
        "marts/relative_performance",
        "marts/fed_policy_daily",
    }
    # Funds without a recorded valuation are reported by the non-blocking check, not fatal.
    assert any("valuation_snapshots_all_fetched" in w and "IWB" in w for w in first.warnings)
    held = dict(
        query(warehouse_path, "SELECT trade_date, close FROM raw.prices WHERE ticker = 'NVDA'")
    )

    yahoo.charts["NVDA"] = YAHOO_FIXTURES / "chart" / "NVDA.json"  # a 2-for-1 split since
    second, second_logs = build(
        Settings(source="live", warehouse=warehouse_path, start=START, end=END)
    )
    assert second.ok, second.failure_report()
    rows = dict(
        query(warehouse_path, "SELECT trade_date, close FROM raw.prices WHERE ticker = 'NVDA'")
    )
    assert {day: rows[day] for day in held} == pytest.approx(held)  # as traded, unchanged
    assert query(
        warehouse_path,
        "SELECT splits FROM raw.prices WHERE ticker = 'NVDA' AND trade_date = DATE '2024-09-10'",
    ) == [(2.0,)]
    kink = query(
        warehouse_path,
        "SELECT max(abs(daily_return)) FROM marts.fct_daily_prices WHERE ticker = 'NVDA'",
    )[0][0]
    assert kink < 0.1
    assert query(
        warehouse_path, "SELECT count(*), max(trade_date) FROM raw.prices WHERE ticker = 'SPY'"
    ) == [(64, dt.date(2024, 9, 30))]
    # The FRED key went to FRED and nowhere else: not the warehouse, not the run's logs.
    assert any(VALID_KEY in path for path in fred_server.seen)
    for path in (warehouse_path, wh.published_path(warehouse_path)):
        assert VALID_KEY.encode() not in path.read_bytes()
    assert not any(VALID_KEY in line for line in first_logs + second_logs)


def test_a_live_build_into_a_sample_warehouse_is_refused_before_fetching(
    dbt_manifest, warehouse_path, yahoo, fred_server
):
    with wh.connect(warehouse_path) as con:
        wh.ensure_raw_schema(con)
        rates = pd.DataFrame({"series_id": ["DFF"], "obs_date": [START], "value": [5.33]})
        wh.replace_window(con, RATES, rates, "sample", None, dt.datetime(2024, 1, 1))
    outcome, _ = build(Settings(source="live", warehouse=warehouse_path, start=START, end=END))
    assert "already holds data from source sample" in outcome.failure_report()
    assert not any("/v8/finance/chart/" in url for url in yahoo.requests)
