"""A build is one run over the NYSE-session partitions of its window."""

import dagster as dg

from dagster_project.build import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from dagster_project.partitions import SESSION_PARTITIONS

PARTITIONED = (dg.AssetKey(["raw", "prices"]), dg.AssetKey(["raw", "rates"]))
SAMPLE_SESSIONS = ("2023-01-03", "2025-12-31")
"""The sessions of the small test sample (3 years to 2025-12-31)."""


def sessions(first: str, last: str) -> list[str]:
    return SESSION_PARTITIONS.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))


def test_the_build_loads_every_session_of_its_window_in_one_run(built_sample):
    instance, run_id = built_sample.instance, built_sample.outcome.run_id
    run = instance.get_run_by_id(run_id)
    assert run.tags[PARTITION_RANGE_START_TAG] == SAMPLE_SESSIONS[0]
    assert run.tags[PARTITION_RANGE_END_TAG] == SAMPLE_SESSIONS[1]
    expected = set(sessions(*SAMPLE_SESSIONS))
    assert len(expected) == 752
    for key in PARTITIONED:
        assert instance.get_materialized_partitions(key) == expected, key.to_user_string()
        latest = instance.get_latest_materialization_event(key)
        assert latest.run_id == run_id
    assert built_sample.outcome.materialized.count("raw/prices") == 1


def test_a_one_day_build_materializes_that_sessions_partition(build):
    full = build(end=_date("2025-12-30"))
    assert full.ok, full.failure_report()
    nightly = build(start=_date("2025-12-31"), end=_date("2025-12-31"))
    assert nightly.ok, nightly.failure_report()
    assert full.partition_range == ("2023-01-03", "2025-12-30")
    assert nightly.partition_range == ("2025-12-31", "2025-12-31")
    assert {"raw/prices", "raw/rates", "marts/fct_daily_prices"} <= set(nightly.materialized)


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)
