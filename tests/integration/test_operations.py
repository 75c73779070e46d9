"""How the project runs unattended: the writer lock, the run queue, retries, the UI host."""

import shutil

import dagster as dg
import pytest
import requests

from dagster_project.defs.ingest.loads import INGEST_RETRY_POLICY, ingest_assets, worth_retrying
from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from dagster_project.lib.sources.base import SourceError, SourceUnavailable
from dagster_project.lib.sources.live.network import NoNetwork
from dagster_project.lib.warehouse.store import MixedSourceError, WarehouseLockedError

WRITER_RESOURCES = {"warehouse", "dbt"}
"""A step with either resource opens the warehouse file for writing (dbt writes the marts)."""
READERS = {"report__rotation_report"}
"""Steps that take the warehouse resource only to read its published copy."""


def test_every_step_that_opens_the_warehouse_takes_its_writer_lock(dbt_manifest):
    """The lock lives in the warehouse resource: a step opening the file without it (dbt
    takes the file in a subprocess) would race another writer on DuckDB's lock."""
    from dagster_project.definitions import defs

    steps = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:  # an external table (raw/quarantine): no step
            continue
        steps[assets_def.node_def.name] = assets_def.required_resource_keys
    writers = {name for name, keys in steps.items() if keys & WRITER_RESOURCES}
    assert {"raw__prices", "rotation_dbt_models", "published__warehouse"} <= writers
    assert {"raw_prices_gates", "raw_rates_gates"} <= writers  # the quality gates
    assert {name for name in writers if "warehouse" not in steps[name]} == set()


def test_the_project_instance_is_stock_dagster_with_a_queue_of_one(tmp_path, monkeypatch):
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # as `.env` and `rotation` set it
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        # Dagster's own SQLite storage: nothing of ours sits between Dagster and its records.
        assert type(instance.event_log_storage).__module__.startswith("dagster.")
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_coordinator.inst_data.config_dict["max_concurrent_runs"] == 1


def test_ingest_assets_retry_with_exponential_backoff_and_jitter():
    assert INGEST_RETRY_POLICY.max_retries == 3
    assert INGEST_RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL
    assert INGEST_RETRY_POLICY.jitter == dg.Jitter.PLUS_MINUS
    for assets_def in ingest_assets:
        assert assets_def.node_def.retry_policy == INGEST_RETRY_POLICY


def throttled() -> requests.HTTPError:
    response = requests.Response()
    response.status_code = 429
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (SourceUnavailable("live: Yahoo returned no prices for any of 16 tickers"), True),
        (NoNetwork("no network: could not resolve query1.finance.yahoo.com (DNS)"), False),
        (WarehouseLockedError("w.duckdb is locked by another process"), False),
        (throttled(), True),
        (TimeoutError("read timed out"), True),
        (MixedSourceError("w.duckdb already holds data from source sample"), False),
        (SourceError("prices/SPY.csv line 3: duplicate Date 2024-07-01"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_failures_that_may_pass_by_themselves_are_retried(error, retried):
    assert worth_retrying(error) is retried


def test_dagster_dev_serves_the_ui_on_localhost_only():
    from dagster_webserver.cli import DEFAULT_WEBSERVER_HOST

    # `dagster dev` passes --host to the webserver only when given one.
    assert DEFAULT_WEBSERVER_HOST == "127.0.0.1"
    for name in ("workspace.yaml", ".env", "README.md", "dagster_home/dagster.yaml"):
        text = (PROJECT_ROOT / name).read_text()
        assert "0.0.0.0" not in text and "--host" not in text.replace("--host 127.0.0.1", ""), name


def test_a_build_is_one_run_recording_one_materialization_per_asset(built_sample):
    """No partitions: the whole window loads in one run, and Dagster's bookkeeping is a few
    hundred events (one per asset and check), not one per session and asset."""
    instance, run_id = built_sample.instance, built_sample.outcome.run_id
    materialized = built_sample.outcome.materialized
    assert len(materialized) == len(set(materialized))
    assert {"raw/prices", "raw/rates", "marts/relative_performance"} <= set(materialized)
    records = instance.get_records_for_run(run_id, limit=100_000).records
    assert len(records) < 2_000
    assert all(
        record.event_log_entry.dagster_event is None
        or record.event_log_entry.dagster_event.partition is None
        for record in records
    )


def test_a_window_the_source_does_not_cover_fails_the_load_and_changes_nothing(build):
    import datetime as dt

    outcome = build(start=dt.date(2001, 1, 2), end=dt.date(2001, 3, 30))
    assert not outcome.ok
    failures = "\n".join(outcome.failed_steps)
    assert "raw.prices: source 'sample' has no rows for 2001-01-02..2001-03-30" in failures
    assert "raw/prices" not in outcome.materialized


def test_ui_runs_execute_in_one_process_like_the_cli(dbt_manifest):
    """Steps take turns on the writer lock anyway; a process per step would only add
    start-up time (Materialize all in the UI included: the implicit asset job)."""
    from dagster_project.definitions import BUILD_JOB_NAME, defs

    assert defs.resolve_job_def(BUILD_JOB_NAME).executor_def.name == "in_process"
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
