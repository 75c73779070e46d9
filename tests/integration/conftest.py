from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.build import BuildOutcome, run_build
from dagster_project.lib.settings import ENV_WAREHOUSE, Settings

SMALL = {"sample_tickers": 40, "sample_years": 3}


@pytest.fixture
def build(dbt_manifest, warehouse_path):
    """Run the real build job in-process on a small sample, into a temporary warehouse."""

    def _build(**overrides) -> BuildOutcome:
        settings = Settings(warehouse=warehouse_path, **{**SMALL, **overrides})
        with dg.DagsterInstance.ephemeral() as instance:
            return run_build(settings, instance, show_progress=False)

    return _build


@dataclass(frozen=True)
class BuiltWarehouse:
    warehouse: Path
    outcome: BuildOutcome
    instance: dg.DagsterInstance
    """An instance holding the build's run events: its materializations can be inspected."""


@pytest.fixture(scope="session")
def built_sample(dbt_manifest, tmp_path_factory, worker_id):
    """One small sample build shared by every test that only reads its results.

    Built once per test run, by the first worker that asks for it, in a folder all workers
    share; the others wait on a file lock and then read the same files. The build runs on
    an in-memory instance (a SQLite one costs every event a connection); its run's events
    are kept beside the warehouse and replayed into each worker's own in-memory instance,
    so any test can inspect the build's materializations. Read-only by contract: a test
    that writes to the warehouse must use ``build`` instead.
    """
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # each xdist worker has its own folder under the run's
        shared = shared.parent
    folder = shared / "built_sample"
    warehouse = folder / "warehouse.duckdb"
    outcome_file, events_file = folder / "outcome.json", folder / "events.json"
    with FileLock(str(shared / "built_sample.lock")):
        if not outcome_file.exists():
            folder.mkdir(parents=True, exist_ok=True)
            with (
                dg.DagsterInstance.ephemeral() as instance,
                pytest.MonkeyPatch.context() as mp,  # dbt reads the path; restored after
            ):
                mp.setenv(ENV_WAREHOUSE, str(warehouse))
                settings = Settings(warehouse=warehouse, **SMALL)
                outcome = run_build(settings, instance, show_progress=False)
                events_file.write_text(dg.serialize_value(instance.all_logs(outcome.run_id)))
            outcome_file.write_text(json.dumps(dataclasses.asdict(outcome)))
    outcome = BuildOutcome(**json.loads(outcome_file.read_text()))
    assert outcome.ok, outcome.failure_report()
    with dg.DagsterInstance.ephemeral() as instance:
        for entry in dg.deserialize_value(events_file.read_text(), as_type=list):
            instance.store_event(entry)
        yield BuiltWarehouse(warehouse, outcome, instance)


@pytest.fixture
def sample_copy(built_sample, warehouse_path):
    """``warehouse_path`` holding a copy of the shared sample build (and its published copy):
    for a test about what a second build does to a built warehouse, without building the
    first one again. The copy is the test's own; ``built_sample`` stays untouched."""
    from dagster_project.lib.warehouse.store import published_path

    shutil.copy2(built_sample.warehouse, warehouse_path)
    published = published_path(warehouse_path)
    published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(published_path(built_sample.warehouse), published)
    return warehouse_path


def table_counts(path: Path) -> dict[str, int]:
    """Row counts of every raw and mart table of a warehouse file, by qualified name."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'marts') ORDER BY 1"
        ).fetchall()
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for (t,) in tables}
