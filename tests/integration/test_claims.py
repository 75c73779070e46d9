"""The claims ledger end to end: claims file -> raw.claims -> marts.claims -> CLI."""

from __future__ import annotations

import json
import shutil
import textwrap

import duckdb
import pytest

from dagster_project.cli import main
from dagster_project.lib.claims import read_claims_file
from dagster_project.lib.settings import DEFAULT_CLAIMS_FILE, DEFAULT_DAGSTER_HOME
from dagster_project.lib.warehouse.store import published_path

pytestmark = pytest.mark.slow


def test_every_default_claim_gets_a_verdict_with_its_measurement(build, warehouse_path):
    outcome = build()
    assert outcome.ok, outcome.failure_report()
    ids = [claim["id"] for claim in read_claims_file(DEFAULT_CLAIMS_FILE)]
    with duckdb.connect(str(published_path(warehouse_path)), read_only=True) as con:
        rows = con.execute(
            "SELECT claim_id, verdict, measured_value, measured_to, metric "
            "FROM marts.claims ORDER BY claim_position"
        ).fetchall()
        # The sample holds the real FOMC path, so the rate claims are facts here too.
        verdicts = dict(con.execute("SELECT claim_id, verdict FROM marts.claims").fetchall())
    assert [r[0] for r in rows] == ids
    assert all(r[1] in ("supported", "contradicted") for r in rows), rows
    assert all(r[2] is not None and r[3] is not None for r in rows)
    assert verdicts["fed-first-cut-2024-50bp"] == "supported"
    assert verdicts["fed-cut-50bp-jul-2024"] == "contradicted"
    assert verdicts["fed-range-end-2025"] == "supported"


def test_claims_cli_measures_another_file_and_keeps_good_claims(
    build, warehouse_path, tmp_path, monkeypatch, capsys
):
    assert build().ok
    capsys.readouterr()  # the build's own dbt output is not the ledger
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in ("ROTATION_CLAIMS", "ROTATION_SAMPLE_TICKERS", "ROTATION_SAMPLE_YEARS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROTATION_SAMPLE_TICKERS", "40")
    monkeypatch.setenv("ROTATION_SAMPLE_YEARS", "3")
    claims = tmp_path / "mine.yaml"
    claims.write_text(
        textwrap.dedent(
            """
            claims:
              - id: spy-h1-2025
                text: "SPY rose in the first half of 2025"
                metric: return
                ticker: SPY
                start: 2025-01-01     # a holiday: base is the last close of 2024
                end: 2025-06-29       # a Sunday: the close of Friday 27 June
                claimed: 0
                comparison: ">="
                tolerance: 0
              - id: bad-ticker
                metric: return
                ticker: NOPE
                start: 2025-01-02
                end: 2025-02-03
                claimed: 0.1
              - id: bad-window
                metric: drawdown
                ticker: IWM
                start: 2025-03-01
                end: 2025-02-01
                claimed: -0.1
            """
        )
    )
    code = main(
        ["claims", "--file", str(claims), "--warehouse", str(warehouse_path), "--format", "json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    ledger = {row["claim_id"]: row for row in json.loads(captured.out)}
    assert set(ledger) == {"spy-h1-2025", "bad-ticker", "bad-window"}
    good = ledger["spy-h1-2025"]
    assert good["verdict"] in ("supported", "contradicted")
    assert (good["measured_from"], good["measured_to"]) == ("2024-12-31", "2025-06-27")
    assert ledger["bad-ticker"]["verdict"] == "no_data"
    assert (
        "claim bad-ticker: ticker: unknown ticker 'NOPE'" in ledger["bad-ticker"]["no_data_reason"]
    )
    assert (
        "claim bad-window: end: 2025-02-01 is before start"
        in ledger["bad-window"]["no_data_reason"]
    )
    assert "1 supported" in captured.err or "1 contradicted" in captured.err

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        (spy_return,) = con.execute(
            "SELECT max(adj_close) FILTER (WHERE trade_date = '2025-06-27') "
            "/ max(adj_close) FILTER (WHERE trade_date = '2024-12-31') - 1 "
            "FROM marts.fct_daily_prices WHERE ticker = 'SPY'"
        ).fetchone()
    assert good["measured_value"] == pytest.approx(spy_return, abs=1e-9)
