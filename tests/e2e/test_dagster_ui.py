"""The Dagster UI, driven as a person would: open the asset graph, backfill, watch.

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

from dagster_project.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT

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
BACKFILL = ("2023-01-03", "2025-12-31")
"""The sessions of the 3-year sample (its years end on 2025-12-31)."""
BACKFILL_SESSIONS = "752"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


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
        time.sleep(2)
    pytest.fail(f"dagster dev did not load the code location in {timeout}s")


@pytest.fixture
def dagster_ui(tmp_path, dbt_manifest):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
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
        yield base, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _dismiss_community_dialog(page) -> None:
    """Dagster shows a one-time "Join the community" dialog a moment after load; skip it."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=8_000)
    except Exception:  # Playwright's TimeoutError: the dialog did not come this time
        return
    skip.click()
    skip.wait_for(state="hidden", timeout=8_000)


def _backfill(base: str) -> dict:
    query = (
        "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status "
        "numPartitions runs(limit: 50) { id status assetSelection { path } "
        "tags { key value } } } } } }"
    )
    backfills = _graphql(base, query)["partitionBackfillsOrError"]["results"]
    assert len(backfills) <= 1, backfills
    return backfills[0] if backfills else None


def _wait_for_backfill(base: str, log: Path, timeout: float) -> dict:
    """The backfill once it has ended (the launch mutation returns before it is listed)."""
    deadline = time.monotonic() + timeout
    backfill = None
    while time.monotonic() < deadline:
        backfill = _backfill(base)
        if backfill and backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            return backfill
        time.sleep(5)
    status = backfill["status"] if backfill else "not created"
    pytest.fail(f"backfill {status} after {timeout}s:\n{log.read_text()[-4000:]}")


def test_backfill_the_sample_from_the_asset_graph(dagster_ui):
    """Materialize all for a range of session partitions: the sample's three years are
    loaded by one run (single-run backfill policy), the marts follow, all succeed."""
    from playwright.sync_api import expect, sync_playwright

    base, log = dagster_ui
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/asset-groups", wait_until="networkidle")
            _dismiss_community_dialog(page)
            for group in GROUPS:
                expect(page.get_by_text(group, exact=True).first).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "asset_graph.png"))

            _dismiss_community_dialog(page)
            page.get_by_role("button", name="Materialize all").click()
            dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
            dialog.get_by_text("Show all partitions").click()
            sessions = dialog.locator("input[type=text]").first
            sessions.fill(f"[{BACKFILL[0]}...{BACKFILL[1]}]")
            sessions.press("Enter")
            expect(dialog.get_by_text(f"{BACKFILL_SESSIONS} partitions")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "backfill_dialog.png"))
            dialog.get_by_role("button", name="Launch backfill").click()

            backfill = _wait_for_backfill(base, log, timeout=1500)
            runs = backfill["runs"]
            failed = [run["id"] for run in runs if run["status"] != "SUCCESS"]
            assert backfill["status"].startswith("COMPLETED") and not failed, (
                f"backfill {backfill['status']}, runs not successful: {failed}\n"
                f"{log.read_text()[-4000:]}"
            )
            ranged = [run for run in runs if _tags(run).get(RANGE_START) == BACKFILL[0]]
            [loader] = ranged  # three years of sessions: one run, not one per day
            assert _tags(loader)[RANGE_END] == BACKFILL[1]
            loaded = {"/".join(asset["path"]) for asset in loader["assetSelection"]}
            assert loaded == {"raw/prices", "raw/rates"}

            # The backfill page: the range, and per asset the sessions targeted and done.
            page.goto(f"{base}/runs/b/{backfill['id']}", wait_until="networkidle")
            _dismiss_community_dialog(page)
            expect(page.get_by_text(f"{BACKFILL[0]}...{BACKFILL[1]}")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("link", name="raw / prices").first).to_be_visible()
            expect(page.get_by_text("100% completed").first).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "backfill.png"), full_page=True)
            page.goto(f"{base}/assets/raw/prices?view=partitions", wait_until="networkidle")
            page.screenshot(path=str(SCREENSHOTS / "prices_partitions.png"))

            # The report asset's latest materialization shows its charts (Markdown images).
            page.goto(f"{base}/assets/report/rotation_report", wait_until="networkidle")
            _dismiss_community_dialog(page)
            expect(page.get_by_text("fed_target_upper").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "report_asset.png"), full_page=True)
        finally:
            browser.close()


def _tags(run: dict) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}
