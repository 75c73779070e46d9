"""Run ``dbt build`` on a hand-made raw warehouse inside a temporary folder.

Shared by the dbt model tests: the warehouse, dbt's target and its logs all live under
the test's temporary folder, so parallel runs never clash and the repo's ``dbt/`` stays
clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from dagster_project.schemas import RAW_TABLES

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


@contextmanager
def dbt_built_warehouse(
    tmp: Path, fill_raw: Callable[[duckdb.DuckDBPyConnection], None]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Create the raw tables, fill them with ``fill_raw``, build every model and test.

    Yields a connection to the built warehouse. Fails with every node that did not pass,
    so a broken model names itself.
    """
    db_path = tmp / "warehouse.duckdb"
    raw = duckdb.connect(str(db_path))
    try:
        raw.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for table in RAW_TABLES.values():
            raw.execute(table.ddl())
        fill_raw(raw)
    finally:
        raw.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROTATION_WAREHOUSE", str(db_path))
        result = dbtRunner().invoke(
            [
                "build",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(tmp / "target"),
                "--log-path",
                str(tmp / "logs"),
                "--no-use-colors",
                "--quiet",
            ]
        )
    assert result.exception is None, result.exception
    failed = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success and not failed, failed
    # dbt-duckdb keeps its connection cached in this process, opened with the profile's
    # config_options: close it first, or DuckDB refuses a second configuration.
    DuckDBConnectionManager.close_all_connections()
    con = duckdb.connect(str(db_path))
    try:
        yield con
    finally:
        con.close()
        # Drop dbt-duckdb's cached environment so no later test inherits this warehouse.
        DuckDBConnectionManager.close_all_connections()
