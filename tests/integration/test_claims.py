"""The claims ledger end to end: claims file -> raw.claims -> marts.claims -> CLI.

Everything here reads the session's sample build (``built_sample``): ``rotation claims
--file`` only reads the published copy, so it needs no build of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest

from dagster_project.cli import main
from dagster_project.lib.claims import read_claims_file
from dagster_project.lib.claims_measure import measure_claims_file
from dagster_project.lib.settings import DEFAULT_CLAIMS_FILE
from dagster_project.lib.warehouse.store import published_path

pytestmark = pytest.mark.slow


def _nightly_ledger(warehouse) -> pd.DataFrame:
    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        return con.execute("SELECT * FROM marts.claims ORDER BY claim_position").df()


def _nightly_rows(warehouse) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        result = con.execute("SELECT * FROM marts.claims ORDER BY claim_position")
        return [column[0] for column in result.description], result.fetchall()


def test_every_default_claim_gets_a_verdict_with_its_measurement(built_sample):
    ids = [claim["id"] for claim in read_claims_file(DEFAULT_CLAIMS_FILE)]
    ledger = _nightly_ledger(built_sample.warehouse)
    assert ledger["claim_id"].tolist() == ids
    assert set(ledger["verdict"]) <= {"supported", "contradicted"}, ledger["no_data_reason"]
    assert ledger["measured_value"].notna().all()
    # Every verdict says which window it used and why.
    assert ledger["measured_from"].notna().all() and ledger["measured_to"].notna().all()
    assert ledger["verdict_reason"].notna().all()
    assert (ledger["measured_from"] <= ledger["measured_to"]).all()
    # The sample holds the real FOMC path, so the rate claims are facts here too.
    verdicts = dict(zip(ledger["claim_id"], ledger["verdict"], strict=True))
    assert verdicts["fed-first-cut-2024-50bp"] == "supported"
    assert verdicts["fed-cut-50bp-jul-2024"] == "contradicted"
    assert verdicts["fed-range-end-2025"] == "supported"


def test_the_cli_measures_exactly_what_the_nightly_ledger_records(built_sample, capsys):
    """One implementation: the --file path on the published copy equals marts.claims."""
    published = published_path(built_sample.warehouse)
    columns, rows = measure_claims_file(published, DEFAULT_CLAIMS_FILE)
    nightly_columns, nightly_rows = _nightly_rows(built_sample.warehouse)
    assert columns == nightly_columns
    assert len(rows) == len(read_claims_file(DEFAULT_CLAIMS_FILE))
    for measured, recorded in zip(rows, nightly_rows, strict=True):
        assert measured == recorded  # every column, values and types, row for row

    warehouse = str(built_sample.warehouse)
    args = ["claims", "--warehouse", warehouse, "--format", "json"]
    assert main([*args, "--file", str(DEFAULT_CLAIMS_FILE)]) == 0
    from_file = capsys.readouterr()
    assert main(args) == 0
    nightly = capsys.readouterr()
    assert json.loads(from_file.out) == json.loads(nightly.out)
    # the sample's figures are labelled, on stderr so the JSON stays machine-readable
    assert "synthetic sample data" in from_file.err and "synthetic sample data" in nightly.err


def test_the_cli_measures_without_dagster(built_sample, tmp_path):
    """--file opens no Dagster run and imports neither Dagster, dbt nor pandas: it stays a
    quick reader (pandas alone takes longer to import than the whole measurement)."""
    probe = textwrap.dedent(
        f"""
        import sys
        from dagster_project.cli import main
        code = main(["claims", "--file", {str(DEFAULT_CLAIMS_FILE)!r},
                     "--warehouse", {str(built_sample.warehouse)!r}, "--format", "json"])
        heavy = sorted(
            m for m in sys.modules if m.split(".")[0] in ("dagster", "dbt", "pandas")
        )
        print("HEAVY", heavy, file=sys.stderr)
        sys.exit(code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr, result.stderr
    assert len(json.loads(result.stdout)) == len(read_claims_file(DEFAULT_CLAIMS_FILE))


def test_claims_cli_measures_another_file_and_keeps_good_claims(built_sample, tmp_path, capsys):
    warehouse = built_sample.warehouse
    before = published_path(warehouse).stat().st_mtime_ns, warehouse.stat().st_mtime_ns
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
              - id: loose-one-sided
                metric: return
                ticker: SPY
                start: 2025-01-02
                end: 2025-02-03
                claimed: 0.1
                comparison: ">="
                tolerance: 0.01
            """
        )
    )
    code = main(
        ["claims", "--file", str(claims), "--warehouse", str(warehouse), "--format", "json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    ledger = {row["claim_id"]: row for row in json.loads(captured.out)}
    assert set(ledger) == {"spy-h1-2025", "bad-ticker", "bad-window", "loose-one-sided"}
    good = ledger["spy-h1-2025"]
    assert good["verdict"] in ("supported", "contradicted")
    assert (good["measured_from"], good["measured_to"]) == ("2024-12-31", "2025-06-27")
    assert good["verdict_reason"].startswith("measured ")
    assert ledger["bad-ticker"]["verdict"] == "no_data"
    assert (
        "claim bad-ticker: ticker: unknown ticker 'NOPE'" in ledger["bad-ticker"]["no_data_reason"]
    )
    assert (
        "claim bad-window: end: 2025-02-01 is before start"
        in ledger["bad-window"]["no_data_reason"]
    )
    assert "tolerance: widens '=' only" in ledger["loose-one-sided"]["no_data_reason"]
    assert "1 supported" in captured.err or "1 contradicted" in captured.err

    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        (spy_return,) = con.execute(
            "SELECT max(adj_close) FILTER (WHERE trade_date = '2025-06-27') "
            "/ max(adj_close) FILTER (WHERE trade_date = '2024-12-31') - 1 "
            "FROM marts.fct_daily_prices WHERE ticker = 'SPY'"
        ).fetchone()
    assert good["measured_value"] == pytest.approx(spy_return, abs=1e-9)
    # Read-only: neither the warehouse nor its published copy was touched.
    after = published_path(warehouse).stat().st_mtime_ns, warehouse.stat().st_mtime_ns
    assert after == before


def test_claims_cli_names_what_is_missing(tmp_path, capsys):
    claims = tmp_path / "c.yaml"
    claims.write_text("claims: []\n")
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    assert main(["claims", "--file", str(claims), "--warehouse", str(missing)]) == 1
    assert "does not exist yet: run `rotation build` first" in capsys.readouterr().err
