"""The nightly schedule: NYSE sessions only, each run loading up to its session."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dagster_project.defs.resources import SourceResource
from dagster_project.defs.schedules import (
    FRESH_MARTS,
    NIGHTLY_SCHEDULE_NAME,
    SESSION_TAG,
    build_nightly_schedule,
    dbt_launch_config,
    market_date,
    nightly_run_config,
)
from dagster_project.lib.calendar import closed_reason
from dagster_project.lib.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")


def tick(day: str) -> dt.datetime:
    """The schedule's 18:30 New York tick on ``day``."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(18, 30), NEW_YORK)


@pytest.fixture(scope="module")
def repository(dbt_manifest):
    """The definitions the schedule's partitioned run request is resolved against."""
    from dagster_project.definitions import build_definitions

    return build_definitions(Settings(source="live")).get_repository_def()


def evaluate(day: str, repository, source: SourceResource | None = None):
    schedule = build_nightly_schedule("build_all", source or SourceResource(spec="live"))
    with dg.build_schedule_context(
        scheduled_execution_time=tick(day), repository_def=repository
    ) as context:
        return schedule.evaluate_tick(context)


def test_a_weekday_session_requests_a_build_ending_that_day(repository):
    result = evaluate("2026-11-27", repository)  # the Friday after Thanksgiving: a half-day
    assert result.skip_message is None
    [request] = result.run_requests
    assert request.run_key == "2026-11-27"
    assert request.partition_key is None  # nothing is partitioned: the window is the config
    assert request.tags[SESSION_TAG] == "2026-11-27"
    assert request.tags["rotation/source"] == "live"
    config = request.run_config["resources"]["source"]["config"]
    assert config["end"] == "2026-11-27"
    assert config["spec"] == "live"  # the rest of the source's settings are kept
    assert request.run_config["ops"] == {"rotation_dbt_models": {"config": {"full_refresh": False}}}


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2026-11-28", "2026-11-28 is not an NYSE session (weekend)"),
        ("2026-11-26", "2026-11-26 is not an NYSE session (holiday: Thanksgiving)"),
    ],
    ids=["saturday", "thanksgiving"],
)
def test_weekends_and_holidays_are_skipped_with_the_reason(day, message, repository):
    result = evaluate(day, repository)
    assert result.run_requests == []
    assert result.skip_message == message


def test_closed_reason_follows_the_nyse_calendar():
    assert closed_reason(dt.date(2026, 11, 25)) is None
    assert closed_reason(dt.date(2026, 11, 29)) == "weekend"
    assert closed_reason(dt.date(2025, 12, 25)) == "holiday: Christmas"
    assert closed_reason(dt.date(2026, 4, 3)) == "holiday: Good Friday"


def test_the_market_date_is_new_yorks():
    late_tick_in_utc = dt.datetime(2026, 11, 28, 0, 30, tzinfo=dt.UTC)  # 19:30 on the 27th
    assert market_date(late_tick_in_utc) == dt.date(2026, 11, 27)
    assert market_date(dt.datetime(2026, 11, 27, 18, 30)) == dt.date(2026, 11, 27)


def test_the_nightly_run_config_is_valid_for_the_build_job(dbt_manifest):
    from dagster_project.definitions import BUILD_JOB_NAME, build_definitions

    settings = Settings(source="live", start=dt.date(2024, 1, 2))
    defs = build_definitions(settings)
    source = SourceResource.from_settings(settings)
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    config = nightly_run_config(source, dt.date(2026, 11, 27))
    assert dg.validate_run_config(job, config)["resources"]["source"]["config"] == {
        **source.model_dump(),
        "end": "2026-11-27",
    }
    full_refresh = dbt_launch_config(full_refresh=True)
    validated = dg.validate_run_config(job, full_refresh)
    assert validated["ops"]["rotation_dbt_models"]["config"] == {"full_refresh": True}
    assert defs.resolve_schedule_def(NIGHTLY_SCHEDULE_NAME).job_name == BUILD_JOB_NAME


def test_the_key_marts_carry_the_nightly_freshness_policy(dbt_manifest):
    from dagster_project.definitions import build_definitions

    graph = build_definitions(Settings()).resolve_asset_graph()
    for key in FRESH_MARTS:
        policy = graph.get(key).freshness_policy
        assert isinstance(policy, dg.FreshnessPolicy), key.to_user_string()
