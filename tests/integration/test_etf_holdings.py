"""A files build with ETF holdings files: raw.etf_holdings and the membership spells.

The folder holds flat prices for every holding of the fixtures (two IWM files, one IWB
file, in iShares' download layout) and one rate series. Each file's equity rows load;
each holding is a member of its fund's bucket from the first session after the file's
date until the first session after the fund's next file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.build import run_build
from dagster_project.lib import calendar
from dagster_project.lib.settings import Settings
from dagster_project.lib.warehouse import store as wh

pytestmark = pytest.mark.slow

HOLDINGS_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "holdings"
TICKERS = ("AAPL", "MSFT", "NVDA", "BRK-B", "INSM", "FTAI", "SFM", "PCVX")


@pytest.fixture
def holdings_files_dir(tmp_path) -> Path:
    root = tmp_path / "my-data"
    (root / "prices").mkdir(parents=True)
    days = calendar.sessions(dt.date(2024, 6, 3), dt.date(2024, 10, 31))
    lines = ["Date,Close"] + [f"{d:%Y-%m-%d},100.0" for d in days]
    for ticker in TICKERS:
        (root / "prices" / f"{ticker}.csv").write_text("\n".join(lines) + "\n")
    (root / "rates").mkdir()
    rates = ["observation_date,DGS2"] + [f"{d:%Y-%m-%d},4.5" for d in days]
    (root / "rates" / "DGS2.csv").write_text("\n".join(rates) + "\n")
    shutil.copytree(HOLDINGS_FIXTURES, root / "holdings")
    return root


def test_holdings_files_give_membership_spells(dbt_manifest, warehouse_path, holdings_files_dir):
    settings = Settings(source=f"files:{holdings_files_dir}", warehouse=warehouse_path)
    with dg.DagsterInstance.ephemeral() as instance:
        outcome = run_build(settings, instance, show_progress=False)
        assert outcome.ok, outcome.failure_report()
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "etf_holdings"]))
        skipped = event.asset_materialization.metadata["skipped_rows"].value
    assert skipped == {"Cash": 3, "Futures": 2, "Money Market": 1}
    published = wh.published_path(warehouse_path)
    with duckdb.connect(str(published), read_only=True) as con:
        held = con.execute(
            "SELECT fund, as_of_date, count(*) FROM raw.etf_holdings GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        spells = con.execute(
            "SELECT fund, as_of_date, size_bucket, valid_from, valid_to, method, "
            "list(ticker ORDER BY ticker) "
            "FROM intermediate.int_universe_membership_holdings GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    june, september = dt.date(2024, 6, 28), dt.date(2024, 9, 30)
    assert held == [("IWB", june, 4), ("IWM", june, 3), ("IWM", september, 3)]
    # Friday 06-28's holdings count from Monday 07-01; IWM's 09-30 file takes over on
    # 10-01 (its first session after), and stays valid (NULL): it is IWM's latest.
    july_1, october_1 = dt.date(2024, 7, 1), dt.date(2024, 10, 1)
    assert spells == [
        ("IWB", june, "large", july_1, None, "etf_holdings", ["AAPL", "BRK-B", "MSFT", "NVDA"]),
        ("IWM", june, "small", july_1, october_1, "etf_holdings", ["FTAI", "INSM", "SFM"]),
        ("IWM", september, "small", october_1, None, "etf_holdings", ["INSM", "PCVX", "SFM"]),
    ]
