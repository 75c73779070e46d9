"""Run ``dbt build`` on a hand-made raw warehouse inside a temporary folder.

Shared by the dbt model tests: the warehouse and dbt's logs live under the test's
temporary folder (the warehouse visits a per-process ``stable_place`` while dbt runs, where
dbt's target folder stays between runs), so parallel runs never clash and the repo's
``dbt/`` stays clean.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from dagster_project.defs.transform.dbt import ENV_TESTS_SINCE, PRODUCTION_EXCLUDES
from dagster_project.lib.warehouse.store import ensure_raw_schema

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


_STABLE_ROOT = Path(tempfile.gettempdir()) / f"rotation-dbt-tests-{os.getpid()}"
atexit.register(shutil.rmtree, _STABLE_ROOT, ignore_errors=True)


def stable_place(db: Path) -> tuple[Path, Path]:
    """Where ``db`` sits while dbt runs on it, and that place's dbt target folder.

    dbt re-parses the whole project (seconds) whenever the profile's connection changes,
    and the warehouse path is part of it: every test warehouse at its own temporary path
    cost a full parse. One path per file name for this test process, with its own target
    folder, lets every later run here parse only what changed, as a user's builds into
    one warehouse do.
    """
    place = _STABLE_ROOT / db.stem
    place.mkdir(parents=True, exist_ok=True)
    return place / db.name, place / "target"


def _move(source: Path, destination: Path) -> None:
    for suffix in ("", ".wal"):
        moving = source.with_name(source.name + suffix)
        if moving.exists():
            os.replace(moving, destination.with_name(destination.name + suffix))


def invoke_dbt(db: Path, tmp: Path, *args: str, tests_since: str | None = None):
    """``dbt <args>`` in-process on the warehouse ``db``, its logs under ``tmp``.

    The file is moved to its ``stable_place`` for the run and back afterwards, so dbt
    parses incrementally. ``tests_since`` scopes the large relations' data tests as the
    Dagster asset does (None: every row). dbt-duckdb's cached connection is closed
    afterwards, so the test can open the warehouse itself.
    """
    stable, target = stable_place(db)
    _move(db, stable)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ROTATION_WAREHOUSE", str(stable))
            if tests_since is None:
                mp.delenv(ENV_TESTS_SINCE, raising=False)
            else:
                mp.setenv(ENV_TESTS_SINCE, tests_since)
            result = dbtRunner().invoke(
                [
                    *args,
                    "--project-dir",
                    str(DBT_DIR),
                    "--profiles-dir",
                    str(DBT_DIR),
                    "--target-path",
                    str(target),
                    "--log-path",
                    str(tmp / "logs"),
                    "--no-use-colors",
                    "--quiet",
                ]
            )
    finally:
        DuckDBConnectionManager.close_all_connections()
        _move(stable, db)
    return result


@contextmanager
def dbt_built_warehouse(
    tmp: Path,
    fill_raw: Callable[[duckdb.DuckDBPyConnection], None],
    unit_tests: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Create the raw tables, fill them with ``fill_raw``, build every model and data test
    (and every dbt unit test with ``unit_tests``: they need no data, so one module runs
    them for the suite, ``test_dbt_project``).

    Yields a connection to the built warehouse. Fails with every node that did not pass,
    so a broken model names itself.
    """
    db_path = tmp / "warehouse.duckdb"
    raw = duckdb.connect(str(db_path))
    try:
        ensure_raw_schema(raw)  # the raw tables and the gates' audit tables (quarantine)
        fill_raw(raw)
    finally:
        raw.close()
    excludes = () if unit_tests else PRODUCTION_EXCLUDES
    result = invoke_dbt(db_path, tmp, "build", *excludes)
    assert result.exception is None, result.exception
    failed = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success and not failed, failed
    if unit_tests:
        # The Dagster build skips dbt's unit tests (PRODUCTION_EXCLUDES): here they all run.
        manifest = json.loads((stable_place(db_path)[1] / "manifest.json").read_text())
        unit_tests_run = [r for r in result.result if r.node.resource_type == "unit_test"]
        assert len(unit_tests_run) == len(manifest["unit_tests"]) > 0
    con = duckdb.connect(str(db_path))
    try:
        yield con
    finally:
        con.close()
        # Drop dbt-duckdb's cached environment so no later test inherits this warehouse.
        DuckDBConnectionManager.close_all_connections()
