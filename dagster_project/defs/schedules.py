"""The nightly cadence: a build after the US close on NYSE sessions, and the freshness it
promises for the key marts.

Why the calendar check lives in the evaluation function rather than in the cron: cron can
say "weekdays" but not "not Thanksgiving". The schedule ticks every weekday evening and
skips, with the reason, the days the exchange was shut.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from dagster_project.defs.resources import SourceResource
from dagster_project.lib.calendar import MARKET_TIMEZONE, closed_reason

NIGHTLY_SCHEDULE_NAME = "nightly_build"
NIGHTLY_CRON = "30 18 * * 1-5"
"""18:30 New York, Monday to Friday: 2.5 hours after the 16:00 close (Yahoo has the day's
closes by then; FRED's daily series lag a day and are re-read by the next run)."""

SESSION_TAG = "rotation/session"
TRIGGER_TAG = "rotation/trigger"
SOURCE_TAG = "rotation/source"

FRESHNESS_DEADLINE_CRON = "0 21 * * 1-5"
"""The marts are overdue when a weekday's 21:00 New York passes without a fresh build."""
FRESHNESS_LOWER_BOUND = dt.timedelta(hours=3)
"""A build counts for a deadline when it finished after 18:00 that day, i.e. the nightly
run (18:30) or a later manual one."""
NIGHTLY_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    lower_bound_delta=FRESHNESS_LOWER_BOUND,
    timezone=MARKET_TIMEZONE,
)
FRESH_MARTS = frozenset(
    dg.AssetKey(["marts", name])
    for name in ("fct_daily_prices", "relative_performance", "pe_discount", "fed_policy_daily")
)
"""The marts an analyst reads every morning: a missed night shows on them in the UI."""


def market_date(moment: dt.datetime | None) -> dt.date:
    """The New York calendar date of a tick (a naive time is taken as New York time).

    Why New York: a tick stands for the session that just closed there; its UTC date
    would name the next day for a late tick.
    """
    zone = ZoneInfo(MARKET_TIMEZONE)
    if moment is None:
        return dt.datetime.now(zone).date()
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zone).date()


def nightly_run_config(source: SourceResource, session: dt.date) -> dict:
    """Run config that ends the build's window at ``session``, with dbt incremental.

    It carries the source resource's whole configuration with only ``end`` replaced:
    Dagster replaces a resource's config wholesale when run config names it, so passing
    ``end`` alone would silently reset the source to the sample. The dbt step's
    ``full_refresh: false`` is spelled out so a re-execution from the Launchpad shows
    where to switch it on.
    """
    config = {**source.model_dump(), "end": session.isoformat()}
    return {"resources": {"source": {"config": config}}, **dbt_launch_config(full_refresh=False)}


def dbt_launch_config(full_refresh: bool) -> dict:
    """The dbt step's launch config: ``full_refresh`` rebuilds the incremental marts from
    all history instead of the new date window (``dbt build --full-refresh``)."""
    from dagster_project.defs.transform.dbt import rotation_dbt_models

    return {"ops": {rotation_dbt_models.op.name: {"config": {"full_refresh": full_refresh}}}}


def build_nightly_schedule(job_name: str, source: SourceResource) -> dg.ScheduleDefinition:
    """The nightly schedule for the build job, loading up to each NYSE session."""

    @dg.schedule(
        name=NIGHTLY_SCHEDULE_NAME,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=MARKET_TIMEZONE,
        job_name=job_name,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="After the US close on NYSE sessions: load up to the session, "
        "rebuild the marts and publish. Weekends and exchange holidays are skipped with the "
        "reason.",
    )
    def nightly_build(context: dg.ScheduleEvaluationContext):
        day = market_date(context.scheduled_execution_time)
        reason = closed_reason(day)
        if reason is not None:
            return dg.SkipReason(f"{day.isoformat()} is not an NYSE session ({reason})")
        return dg.RunRequest(
            run_key=day.isoformat(),
            run_config=nightly_run_config(source, day),
            tags={SESSION_TAG: day.isoformat(), TRIGGER_TAG: "nightly", SOURCE_TAG: source.spec},
        )

    return nightly_build


def with_nightly_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    """``spec`` with the nightly freshness policy when it is one of ``FRESH_MARTS``."""
    if spec.key not in FRESH_MARTS:
        return spec
    return spec.replace_attributes(freshness_policy=NIGHTLY_FRESHNESS)
