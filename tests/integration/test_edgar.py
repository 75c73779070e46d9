"""A files build with SEC EDGAR companyfacts: point-in-time GAAP earnings in the marts.

The folder holds Apple's prices and ``fundamentals/edgar/`` (the companyfacts fixture and
SEC's ticker list). The trailing earnings of ``marts.stock_valuation_daily`` must change
exactly on the first session after the 10-K's filing date, to the sum of the quarters
as first reported.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.build import run_build
from dagster_project.definitions import BUILD_JOB_NAME, build_definitions
from dagster_project.lib import calendar
from dagster_project.lib.settings import Settings
from dagster_project.lib.warehouse import store as wh

pytestmark = pytest.mark.slow

EDGAR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"
M = 1_000_000
CLOSE = 150.0


@pytest.fixture
def edgar_files_dir(tmp_path) -> Path:
    """AAPL's as-traded closes (flat: only the fundamentals move), one rate series, and
    the EDGAR fixture as ``fundamentals/edgar/``."""
    root = tmp_path / "my-data"
    (root / "prices").mkdir(parents=True)
    days = calendar.sessions(dt.date(2022, 6, 1), dt.date(2024, 6, 28))
    lines = ["Date,Open,High,Low,Close,Volume,Dividends,Stock Splits"]
    lines += [f"{d:%Y-%m-%d},{CLOSE},{CLOSE},{CLOSE},{CLOSE},1000000,0,0" for d in days]
    (root / "prices" / "AAPL.csv").write_text("\n".join(lines) + "\n")
    (root / "rates").mkdir()
    rates = ["observation_date,DGS2"] + [f"{d:%Y-%m-%d},4.5" for d in days]
    (root / "rates" / "DGS2.csv").write_text("\n".join(rates) + "\n")
    shutil.copytree(EDGAR_FIXTURES, root / "fundamentals" / "edgar")
    return root


def valuation(path: Path, day: str) -> tuple:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT ttm_earnings_usd, earnings_period_end, earnings_known_since, "
            "earnings_source, shares_outstanding, shares_as_of, market_cap, trailing_pe "
            "FROM marts.stock_valuation_daily WHERE ticker = 'AAPL' AND trade_date = ?",
            [dt.date.fromisoformat(day)],
        ).fetchone()


def test_trailing_earnings_switch_on_the_session_after_the_10k(
    dbt_manifest, warehouse_path, edgar_files_dir
):
    settings = Settings(source=f"files:{edgar_files_dir}", warehouse=warehouse_path)
    with dg.DagsterInstance.ephemeral() as instance:
        outcome = run_build(settings, instance, show_progress=False)
    assert outcome.ok, outcome.failure_report()
    published = wh.published_path(warehouse_path)
    with duckdb.connect(str(published), read_only=True) as con:
        held = con.execute("SELECT count(*), count(DISTINCT accn) FROM raw.edgar_facts").fetchone()
    assert held == (27, 7)  # every version of the fixture, restatements included

    # Friday 2023-11-03, the 10-K's filing day: still fiscal Q4 2022 (99,803 - 79,082 =
    # 20,721, derived) + Q1-Q3 2023 (29,998 + 24,160 as first reported, not the fixture's
    # hypothetical 2024 restatement to 24,100, + 19,881) = 94,760, known since the Q3 10-Q
    # (2023-08-04 -> Monday 2023-08-07); shares: the Q3 10-Q's cover count.
    before = valuation(published, "2023-11-03")
    assert before[:4] == (
        (20_721 + 29_998 + 24_160 + 19_881) * M,
        dt.date(2023, 7, 1),
        dt.date(2023, 8, 7),
        "edgar",
    )
    assert before[4:7] == (15_634_232_000, dt.date(2023, 7, 21), CLOSE * 15_634_232_000)
    assert before[7] == pytest.approx(CLOSE * 15_634_232_000 / (94_760 * M))

    # Monday 2023-11-06, the first session after it: fiscal 2023's four quarters, whose
    # sum is the fiscal year (Q4 = 96,995 - 74,039 = 22,956), and the 10-K's cover count.
    after = valuation(published, "2023-11-06")
    assert after[:4] == (96_995 * M, dt.date(2023, 9, 30), dt.date(2023, 11, 6), "edgar")
    assert after[4:6] == (15_552_752_000, dt.date(2023, 10, 20))
    assert after[7] == pytest.approx(CLOSE * 15_552_752_000 / (96_995 * M))

    # Loading the same folder again appends nothing: every version is held already. Only
    # the EDGAR load runs (what a second build would do to raw.edgar_facts), not the marts.
    job = build_definitions(settings).resolve_job_def(BUILD_JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        again = job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey(["raw", "edgar_facts"])]
        )
    assert again.success
    materialized = {event.asset_key for event in again.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey(["raw", "edgar_facts"])}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == 27
