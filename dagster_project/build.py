"""Run the whole build in-process through Dagster and summarize what happened.

The CLI and the integration tests both call ``run_build``, so what a user runs is what the
tests exercise: the same job, the same checks, the same failure reporting.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field

import dagster as dg

from dagster_project.progress import RunProgress
from dagster_project.settings import Settings
from dagster_project.sources.base import SourceError

PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
"""The tags by which Dagster runs a range of partitions in one run (as its single-run
backfills do)."""


@dataclass(frozen=True)
class BuildOutcome:
    run_id: str | None
    """None when the build stopped before its Dagster run (its window could not be read)."""
    success: bool
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Failed non-blocking (WARN) checks: worth reading, not a failed build."""
    partition_range: tuple[str, str] | None = None
    """The first and last NYSE-session partition the run loaded (None: unpartitioned job)."""

    @property
    def ok(self) -> bool:
        return self.success and not self.failed_checks

    def failure_report(self) -> str:
        run = f"Dagster run {self.run_id}" if self.run_id else "before its Dagster run started"
        lines = [f"Build FAILED ({run}):"]
        lines += [f"  blocking check {c}" for c in self.failed_checks]
        lines += [f"  step {s}" for s in self.failed_steps]
        if self.skipped_steps:
            lines.append(f"  not run because of the failures: {', '.join(self.skipped_steps)}")
        lines.append(
            "Marts downstream of a failure were not rebuilt; the published copy is unchanged."
        )
        return "\n".join(lines)


QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_build(
    settings: Settings,
    instance: dg.DagsterInstance,
    show_progress: bool = True,
    job_name: str | None = None,
) -> BuildOutcome:
    """Materialize every asset and check of a job (default: the whole build) for ``settings``."""
    from dagster_project.definitions import BUILD_JOB_NAME, build_definitions

    job = build_definitions(settings).resolve_job_def(job_name or BUILD_JOB_NAME)
    tags = {"rotation/source": settings.source}
    if job.partitions_def is not None:
        try:
            tags |= partition_range_tags(settings)
        except SourceError as error:  # e.g. a bad file in the source's folder
            return BuildOutcome(run_id=None, success=False, failed_steps=[f"window: {error}"])
    run_id = str(uuid.uuid4())
    progress = RunProgress(instance, run_id) if show_progress else contextlib.nullcontext()
    with progress:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags=tags,
            run_id=run_id,
            # the progress lines replace Dagster's console log (the UI keeps every event)
            run_config=QUIET_CONSOLE if show_progress else None,
        )
    failed_checks, failed_steps, materialized, warnings = [], [], [], []
    started = set()
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "STEP_START":
            started.add(event.step_key)
        if kind == "ASSET_CHECK_EVALUATION" and not event.asset_check_evaluation_data.passed:
            data = event.asset_check_evaluation_data
            line = f"{data.asset_key.to_user_string()}:{data.check_name}: {data.description}"
            # A WARN check (e.g. one ticker not fetched) is reported, never a failed build.
            is_warning = data.severity == dg.AssetCheckSeverity.WARN
            (warnings if is_warning else failed_checks).append(line)
        elif kind == "STEP_FAILURE":
            failed_steps.append(f"{event.step_key}: {root_cause(event.step_failure_data.error)}")
        elif kind == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string()
            if key not in materialized:  # a partitioned asset records one per session
                materialized.append(key)
    # A step whose upstream failed never starts (Dagster logs no skip event for it).
    skipped = sorted(node.name for node in job.graph.nodes if node.name not in started)
    return BuildOutcome(
        run_id=result.run_id,
        success=result.success,
        failed_checks=failed_checks,
        failed_steps=failed_steps,
        skipped_steps=skipped,
        materialized=materialized,
        warnings=warnings,
        partition_range=(
            (tags[PARTITION_RANGE_START_TAG], tags[PARTITION_RANGE_END_TAG])
            if PARTITION_RANGE_START_TAG in tags
            else None
        ),
    )


def partition_range_tags(settings: Settings) -> dict[str, str]:
    """Run tags that make the build one run over the session partitions of its window
    (``--start/--end``, else the source's span): a single-run backfill, as the UI launches."""
    from dagster_project.partitions import partition_range
    from dagster_project.sources import default_window

    keys = partition_range(default_window(settings))
    return {
        PARTITION_RANGE_START_TAG: keys.start,
        PARTITION_RANGE_END_TAG: keys.end,
    }


def root_cause(error) -> str:
    """The message of the user's own error (Dagster wraps it in "Error occurred while
    executing op ..." and, for a load that must not be retried, in a ``Failure``).

    It stops at the first error that is not Dagster's: the project's errors (a locked or
    damaged warehouse, a bad file) put DuckDB's or pandas' words into plain ones, and the
    error they were raised from would only repeat the technical half. A step that used up
    its retries says so after the error of its last attempt.
    """
    if error is None:
        return "unknown error"
    retries = ""
    while error.cause is not None and _is_dagster_wrapper(error.cls_name):
        if error.cls_name.startswith("RetryRequested"):  # "Exceeded max_retries of 3"
            retries = f" [{error.message.strip()}]"
        error = error.cause
    return error.message.strip() + retries


def _is_dagster_wrapper(cls_name: str | None) -> bool:
    return bool(cls_name) and (
        cls_name.startswith(("Dagster", "RetryRequested")) or cls_name == "Failure"
    )
