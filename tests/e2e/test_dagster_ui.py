"""The Dagster UI, driven as a person would: open the asset graph, Materialize all, watch.

Runs when Debian's Chromium and the Playwright package are present (``.ci/run`` installs
both); skipped with the reason otherwise. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GROUPS = ("ingest", "staging", "intermediate", "marts", "publish", "report")
SCREENSHOTS = PROJECT_ROOT / "data" / "e2e"
SAMPLE_SPAN = ("2023-01-03", "2025-12-31")
"""The sessions of the 3-year sample (its years end on 2025-12-31)."""
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


def _wait_for_location(base: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { name "
        "loadStatus locationOrLoadError { __typename } } } } }"
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited early:\n{log.read_text()[-3000:]}")
        try:
            entries = _graphql(base, query)["workspaceOrError"]["locationEntries"]
            if entries and entries[0]["loadStatus"] == "LOADED":
                kind = entries[0]["locationOrLoadError"]["__typename"]
                assert kind == "RepositoryLocation", f"code location failed to load: {kind}"
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster dev did not load the code location in {timeout}s")


@pytest.fixture
def dagster_ui(tmp_path, dbt_manifest):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The project's instance, without Dagster's one-time "Join the community" dialog: it
    # pops up a moment after a page loads, over whatever the test clicks next.
    config = (DEFAULT_DAGSTER_HOME / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(f"{config}\nnux:\n  enabled: false\n")
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ROTATION_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "ROTATION_SAMPLE_TICKERS": "40",
        "ROTATION_SAMPLE_YEARS": "3",
    }
    log = tmp_path / "dagster_dev.log"
    # Started outside the project root so its .env (DAGSTER_HOME) does not apply.
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_location(base, process, log, timeout=240)
        yield base, log, tmp_path / "warehouse.duckdb"
    finally:
        # The whole session at once: the webserver, the daemon and any run worker. Its
        # graceful shutdown takes ~30 s and is not what this test is about.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _runs(base: str) -> list[dict]:
    query = "{ runsOrError { ... on Runs { results { id status jobName } } } }"
    return _graphql(base, query)["runsOrError"]["results"]


def _wait_for_run(base: str, log: Path, timeout: float) -> dict:
    """The one run "Materialize all" launched, once it has ended."""
    deadline = time.monotonic() + timeout
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = _runs(base)
        if runs and all(run["status"] in TERMINAL for run in runs):
            assert len(runs) == 1, runs  # one run for everything, not one per partition
            return runs[0]
        time.sleep(1)
    pytest.fail(f"runs {runs} not finished after {timeout}s:\n{log.read_text()[-4000:]}")


def test_materialize_all_builds_the_sample_from_the_asset_graph(dagster_ui):
    """The UI's most natural action does what `rotation build` does: one run, no
    partition prompt, every raw table loaded and the marts built over the sample's span."""
    import duckdb
    from playwright.sync_api import expect, sync_playwright

    base, log, warehouse = dagster_ui
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/asset-groups", wait_until="networkidle")
            for group in GROUPS:
                expect(page.get_by_text(group, exact=True).first).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "asset_graph.png"))

            page.get_by_role("button", name="Materialize all").click()
            run = _wait_for_run(base, log, timeout=1500)
            assert run["status"] == "SUCCESS", f"{run}\n{log.read_text()[-4000:]}"
            expect(page.get_by_text("Launch runs to materialize")).to_have_count(0)

            with duckdb.connect(str(warehouse), read_only=True) as con:
                first, last, tickers = con.execute(
                    "SELECT min(trade_date)::VARCHAR, max(trade_date)::VARCHAR, "
                    "count(DISTINCT ticker) FROM raw.prices"
                ).fetchone()
                assert (first, last) == SAMPLE_SPAN and tickers == 40
                [(rates,)] = con.execute("SELECT count(*) FROM raw.rates").fetchall()
                [(marts,)] = con.execute(
                    "SELECT count(*) FROM marts.relative_performance"
                ).fetchall()
                assert rates > 0 and marts > 0

            page.goto(f"{base}/runs/{run['id']}", wait_until="networkidle")
            expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "materialize_all_run.png"), full_page=True)

            # The report asset's latest materialization shows its charts (Markdown images).
            page.goto(f"{base}/assets/report/rotation_report", wait_until="networkidle")
            expect(page.get_by_text("fed_target_upper").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "report_asset.png"), full_page=True)
        finally:
            browser.close()
