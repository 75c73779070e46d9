"""How the project runs unattended: the writers' pool, the run queue, retries, the UI host."""

import shutil
from pathlib import Path

import dagster as dg
import pytest
import requests

from dagster_project.assets.ingest import INGEST_RETRY_POLICY, ingest_assets, worth_retrying
from dagster_project.resources import WAREHOUSE_POOL
from dagster_project.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from dagster_project.sources.base import SourceError, SourceUnavailable
from dagster_project.warehouse import MixedSourceError, WarehouseLockedError

WRITER_RESOURCES = {"warehouse", "dbt"}
"""A step with either resource opens the warehouse file for writing (dbt writes the marts)."""
READERS = {"report__rotation_report"}
"""Steps that take the warehouse resource only to read its published copy."""


def test_every_warehouse_writer_is_in_the_pool(dbt_manifest):
    from dagster_project.definitions import defs

    writers = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:  # an external table (raw/quarantine): no step
            continue
        name = assets_def.node_def.name
        if assets_def.required_resource_keys & WRITER_RESOURCES and name not in READERS:
            writers[name] = assets_def.node_def.pool
    assert {"raw__prices", "rotation_dbt_models", "published__warehouse"} <= set(writers)
    assert {"raw_prices_gates", "raw_rates_gates"} <= set(writers)  # the quality gates
    assert {name for name, pool in writers.items() if pool != WAREHOUSE_POOL} == set()


def test_the_instance_queues_runs_and_gives_the_pool_one_slot(tmp_path, monkeypatch):
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # as `.env` and `rotation` set it
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert type(storage).__name__ == "BatchingSqliteEventLogStorage"
        assert Path(storage._base_dir) == tmp_path / "history" / "runs"  # Dagster's usual place
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity.value == "op"  # in-process CLI runs claim slots too
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


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
