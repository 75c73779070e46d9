"""The batching event log stores what Dagster's stock SQLite storage stores."""

import shutil

import dagster as dg
import pytest

from dagster_project.partitions import SESSION_PARTITIONS
from dagster_project.settings import DEFAULT_DAGSTER_HOME

RANGE = {
    "dagster/asset_partition_range_start": "2024-06-03",
    "dagster/asset_partition_range_end": "2024-09-30",
}
SESSIONS = 83  # 86 weekdays June to September 2024, less Juneteenth, July 4 and Labor Day


@dg.asset(key=["raw", "prices"], partitions_def=SESSION_PARTITIONS)
def prices(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": len(context.partition_keys)})


@dg.asset(deps=[prices])
def mart() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 1})


@dg.asset_check(asset=mart)
def mart_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def run_backfill(instance: dg.DagsterInstance) -> str:
    job = dg.Definitions(
        assets=[prices, mart],
        asset_checks=[mart_has_rows],
        jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())],
    ).resolve_job_def("all")
    result = job.execute_in_process(instance=instance, tags=RANGE)
    assert result.success
    return result.run_id


def what_the_ui_reads(instance: dg.DagsterInstance, run_id: str) -> dict:
    key = dg.AssetKey(["raw", "prices"])
    events = instance.all_logs(run_id)
    latest = instance.get_latest_materialization_event(key)
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("mart"), "mart_has_rows")]
    )
    return {
        "materialized": sorted(instance.get_materialized_partitions(key)),
        "latest": (latest.dagster_event.partition, latest.run_id == run_id),
        "mart_latest": instance.get_latest_materialization_event(dg.AssetKey("mart")) is not None,
        "event_types": sorted(e.dagster_event_type.value for e in events if e.is_dagster_event),
        "planned": len(
            instance.get_event_records(
                dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, key)
            )
        ),
        "check_passed": [c.status.value for c in check.values()],
        "check_runs": [c.run_id == run_id for c in check.values()],
        "checks_planned": len(
            instance.get_event_records(
                dg.EventRecordsFilter(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
            )
        ),
        "tagged": len(
            instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=["2024-07-05"]), limit=5
            ).records
        ),
    }


@pytest.fixture
def project_instance(tmp_path, monkeypatch):
    home = tmp_path / "project"
    home.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "BatchingSqliteEventLogStorage"
        yield instance


def test_a_backfill_reads_back_as_with_dagsters_own_storage(project_instance, tmp_path):
    (tmp_path / "stock").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "stock")) as stock:
        expected = what_the_ui_reads(stock, run_backfill(stock))
    got = what_the_ui_reads(project_instance, run_backfill(project_instance))
    assert got == expected
    assert len(got["materialized"]) == SESSIONS
    assert got["latest"] == ("2024-09-30", True)
    assert got["planned"] == SESSIONS


def test_a_second_backfill_updates_the_latest_materialization(project_instance):
    run_backfill(project_instance)
    second = run_backfill(project_instance)
    latest = project_instance.get_latest_materialization_event(dg.AssetKey(["raw", "prices"]))
    assert latest.run_id == second
    assert len(project_instance.get_runs()) == 2


def test_a_runs_planned_materializations_and_checks_are_stored_as_one_batch(
    project_instance, monkeypatch
):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    one_by_one = []
    store_event = SqliteEventLogStorage.store_event

    def counted(self, event):
        one_by_one.append(event.dagster_event_type)
        return store_event(self, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", counted)
    run_id = run_backfill(project_instance)
    planned = (
        dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
    )
    assert not [kind for kind in one_by_one if kind in planned]
    assert what_the_ui_reads(project_instance, run_id)["checks_planned"] == 1
