"""The production operating model: the sample build on a Postgres-backed Dagster instance.

``ROTATION_TEST_POSTGRES_URL`` names a server role that may create databases (``.ci/run``
starts one with ``.ci/start-postgres`` and sets ``ROTATION_REQUIRE_POSTGRES=1``, so there
the test can only pass or fail). Each run gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pytest

from dagster_project.build import run_build
from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME, Settings
from tests.integration.conftest import SMALL

SERVER_URL = os.environ.get("ROTATION_TEST_POSTGRES_URL")
REQUIRED = os.environ.get("ROTATION_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def postgres_database():
    if not SERVER_URL:
        if REQUIRED:
            pytest.fail("ROTATION_REQUIRE_POSTGRES=1 but ROTATION_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server: set ROTATION_TEST_POSTGRES_URL (.ci/start-postgres)")
    import psycopg2

    name = f"rotation_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(SERVER_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        parts = urlsplit(SERVER_URL)
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres ships psycopg2
        yield urlunsplit(parts._replace(scheme="postgresql+psycopg2", path=f"/{name}"))
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.close()


def test_the_sample_builds_on_a_postgres_backed_instance(
    postgres_database, dbt_manifest, tmp_path, warehouse_path, monkeypatch
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "postgres" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_database)
    warehouse = warehouse_path  # conftest: a fresh file, where dbt parses incrementally

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        outcome = run_build(Settings(warehouse=warehouse, **SMALL), instance, show_progress=False)
        assert outcome.ok, outcome.failure_report()
        [run] = instance.get_runs()
        assert run.run_id == outcome.run_id and run.status == dg.DagsterRunStatus.SUCCESS
        prices = instance.get_latest_materialization_event(dg.AssetKey(["raw", "prices"]))
        assert prices.run_id == run.run_id
        assert prices.asset_materialization.metadata["rows_loaded"].value > 0
