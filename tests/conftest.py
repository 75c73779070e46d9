"""Shared fixtures. Every test is offline: the sample source needs no network, and the
live source's tests replay recorded Yahoo and FRED answers (``tests/replay``)."""

from __future__ import annotations

import os
import shutil

# yfinance picks its HTTP backend at import: plain requests, so the replay adapter mounts.
# Imported here, before any test, so its warning filters sit under pytest's own.
os.environ.setdefault("YF_DISABLE_CURL_CFFI", "1")

import pytest  # noqa: E402
import yfinance  # noqa: E402, F401

from dagster_project.lib.settings import ENV_WAREHOUSE
from tests.replay.fixtures import fred_server, yahoo, yfinance_cache  # noqa: E402, F401


@pytest.fixture(scope="session")
def dbt_manifest():
    """dagster-dbt builds its assets from the manifest: parse the dbt project once."""
    from dagster_project.defs.transform.project import ensure_manifest

    return ensure_manifest()


@pytest.fixture
def warehouse_path(tmp_path_factory, monkeypatch):
    """A fresh warehouse file; the env var is restored after the test (dbt reads it).

    Its folder is emptied for every test but its path is the same for all the tests of a
    worker: dbt keeps its parse state per warehouse path, so a worker's builds after its
    first parse incrementally (as a user's builds into one warehouse do), not from scratch.
    """
    folder = tmp_path_factory.getbasetemp() / "warehouse"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    monkeypatch.setenv(ENV_WAREHOUSE, str(path))
    return path


@pytest.fixture(autouse=True)
def no_sec_user_agent(monkeypatch):
    """Offline: a developer's own ROTATION_SEC_USER_AGENT must not send a live build's
    EDGAR load to SEC. Tests of the EDGAR client pass their own environment and session."""
    monkeypatch.delenv("ROTATION_SEC_USER_AGENT", raising=False)


LONGEST_FILES_FIRST = (
    "tests/integration/test_stop_and_crash.py",  # with the shared sample build (conftest)
    "tests/benchmarks/test_harness.py",
    "tests/integration/test_build.py",
    "tests/e2e/test_dagster_ui.py",
    "tests/integration/test_real_sources.py",
    "tests/unit/test_dbt_incremental.py",
    "tests/integration/test_readme_commands.py",
    "tests/integration/test_postgres_instance.py",
    "tests/integration/test_reliability.py",
    "tests/integration/test_edgar_real_filings.py",
    "tests/integration/test_edgar.py",
    "tests/unit/test_dbt_project.py",
    "tests/integration/test_etf_holdings.py",
    "tests/unit/test_dbt_column_rules.py",
    "tests/integration/test_report.py",
    "tests/unit/test_dbt_returns.py",
    "tests/unit/test_dbt_analytics.py",
    "tests/integration/test_definitions.py",
)
"""Test files by their time in a full run (``--durations``), longest first. A file runs on
one worker (``--dist loadfile``), and workers take files in collection order
(``--no-loadscope-reorder``): handing out the longest first lets the two workers finish
together, where xdist's own order (most tests first) left one worker alone with a long
file for the last minutes of the run. Any file not listed runs after these, in its
usual order; a wrong position costs minutes, never a test."""


def pytest_collection_modifyitems(config, items):
    position = {path: rank for rank, path in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: position.get(item.nodeid.split("::")[0], len(position)))
