"""Run the whole build in-process through Dagster and summarize what happened.

The CLI and the integration tests both call ``run_build``, so what a user runs is what the
tests exercise: the same job, the same checks, the same failure reporting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import dagster as dg
import psutil

from dagster_project.lib.settings import Settings
from dagster_project.progress import ProgressPrinter, RunProgress


@dataclass(frozen=True)
class BuildOutcome:
    run_id: str
    success: bool
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Failed non-blocking (WARN) checks: worth reading, not a failed build."""

    @property
    def ok(self) -> bool:
        return self.success and not self.failed_checks

    def failure_report(self) -> str:
        lines = [f"Build FAILED (Dagster run {self.run_id}):"]
        lines += [f"  blocking check {c}" for c in self.failed_checks]
        lines += [f"  step {s}" for s in self.failed_steps]
        if self.skipped_steps:
            lines.append(f"  not run because of the failures: {', '.join(self.skipped_steps)}")
        lines.append(
            "Marts downstream of a failure were not rebuilt; the published copy is unchanged."
        )
        return "\n".join(lines)


PID_TAG = "rotation/pid"
HOST_TAG = "rotation/host"
"""Which process runs an in-process build: a later build reclaims the run if it is gone."""
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

T = TypeVar("T")

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
FULL_REFRESH = {"ops": {"rotation_dbt_models": {"config": {"full_refresh": True}}}}


def build_run_config(show_progress: bool, full_refresh: bool) -> dict | None:
    """The build's run config: Dagster's console log off when our progress lines replace
    it, and the dbt step's full refresh (every incremental mart rebuilt from all history,
    as after a change of definitions) when asked for; None when neither."""
    config = {**(QUIET_CONSOLE if show_progress else {}), **(FULL_REFRESH if full_refresh else {})}
    return config or None


def run_build(
    settings: Settings,
    instance: dg.DagsterInstance,
    show_progress: bool = True,
    job_name: str | None = None,
    printer: ProgressPrinter | None = None,
    full_refresh: bool = False,
) -> BuildOutcome:
    """Materialize every asset and check of a job (default: the whole build) for ``settings``."""
    from dagster_project.definitions import BUILD_JOB_NAME, build_definitions

    job = build_definitions(settings).resolve_job_def(job_name or BUILD_JOB_NAME)
    tags = {
        "rotation/source": settings.source,
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
    }
    run_id = str(uuid.uuid4())
    progress = RunProgress(instance, run_id, printer) if show_progress else contextlib.nullcontext()
    with progress:
        result = _execute_stoppably(
            lambda: job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags=tags,
                run_id=run_id,
                # the progress lines replace Dagster's console log (the UI keeps every event)
                run_config=build_run_config(show_progress, full_refresh),
            ),
            instance,
            run_id,
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
    )


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


class BuildStopped(KeyboardInterrupt):
    """The build was stopped by a signal (SIGTERM, SIGINT); its run is marked canceled."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
JOIN_SECONDS = 0.2


def _execute_stoppably(execute: Callable[[], T], instance: dg.DagsterInstance, run_id: str) -> T:
    """Run ``execute`` (the in-process run) in a worker thread, the main thread waiting.

    Why: SIGTERM (systemd, Docker, Kubernetes, ``timeout``) and SIGINT (Ctrl-C) must stop a
    build within seconds wherever it is. Inside the run they reach Dagster's interrupt
    handling, which defers them to step boundaries, and code that swallows the exception
    (a bare ``except``) can lose them. In a worker thread Dagster installs no handler, and
    the main thread, which only waits, gets the signal at once: it marks the run canceled,
    stops the run's child processes (dbt) and raises ``BuildStopped``. The worker is a
    daemon thread: the process then ends without waiting for it, and the kernel frees the
    warehouse's writer lock; a load that had not committed is rolled back by DuckDB.
    """
    if threading.current_thread() is not threading.main_thread():
        return execute()  # only the main thread receives signals: nothing to arrange
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = execute()
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error

    def stop(signum, _frame) -> None:
        raise BuildStopped(signum)

    worker = threading.Thread(target=work, name="rotation-build-run", daemon=True)
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        worker.start()
        while worker.is_alive():
            worker.join(JOIN_SECONDS)
    except BuildStopped as stopped:
        stop_child_processes()
        _cancel(instance, run_id, f"stopped by {stopped.signal_name}")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _cancel(instance: dg.DagsterInstance, run_id: str, message: str) -> None:
    run = instance.get_run_by_id(run_id)
    if run is not None and run.status in UNFINISHED:
        instance.report_run_canceled(run, message=message)


def stop_child_processes(grace_seconds: float = 5.0) -> None:
    """Interrupt the dbt processes this process started (SIGINT is what makes dbt cancel
    its queries and exit), killing any still alive after ``grace_seconds``: an orphaned
    dbt would go on writing the warehouse. Dagster's own helpers (log capture, resource
    tracker) end by themselves with this process."""
    dbt = [child for child in psutil.Process().children(recursive=True) if _is_dbt(child)]
    for child in dbt:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.send_signal(signal.SIGINT)
    _, alive = psutil.wait_procs(dbt, timeout=grace_seconds)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def _is_dbt(process: psutil.Process) -> bool:
    try:
        return any(Path(arg).name == "dbt" for arg in process.cmdline()[:2])
    except psutil.Error:  # gone or not ours to read
        return False


def reclaim_dead_runs(
    instance: dg.DagsterInstance, is_alive: Callable[[int], bool] | None = None
) -> list[str]:
    """Mark failed the unfinished in-process builds of this host whose process is gone.

    Why: a build killed with kill -9 (or whose terminal closed, or whose laptop slept and
    was shut) never records its end, and would show as running forever; its writer lock
    went with its process. Returns one line per reclaimed run, for the build to print.
    """
    is_alive = is_alive or psutil.pid_exists
    host = socket.gethostname()
    reclaimed = []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: host}))
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if not pid or pid == os.getpid() or is_alive(pid):
            continue
        message = (
            f"process {pid} that ran this build no longer exists (killed or crashed); "
            "reclaimed by a later build"
        )
        instance.report_run_failed(run, message=message)
        reclaimed.append(f"run {run.run_id} (pid {pid}, started by {run.job_name}): {message}")
    return reclaimed
