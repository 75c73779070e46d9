"""A compact progress logger for the CLI: one line per step, materialization and check."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

_SHOWN_USER_LOGGERS = ("dagster_project",)


class ProgressHandler(logging.Handler):
    """Turns Dagster's event stream into short human lines with elapsed time."""

    def __init__(self, stream=None) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.partitions: dict[str, list[str]] = {}
        """Partitions materialized per asset by the running step: a backfill of years
        records one event per session, summarized in one line when the step ends."""

    def emit(self, record: logging.LogRecord) -> None:
        line = self.describe(record)
        if line:
            elapsed = time.monotonic() - self.started
            for part in line.splitlines():
                self.stream.write(f"[{elapsed:7.1f}s] {part}\n")
            self.stream.flush()

    def describe(self, record: logging.LogRecord) -> str | None:
        if not has_log_record_metadata(record):
            return None
        meta = get_log_record_metadata(record)
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            # User logs from our own assets (context.log.info) are progress too.
            return f"  {step}: {meta['orig_message']}" if record.levelno >= logging.INFO else None
        kind = event.event_type_value
        if kind == "STEP_START":
            return f"▶ {step}"
        if kind == "STEP_SUCCESS":
            return "\n".join([*self._partition_summary(), f"✔ {step}"])
        if kind == "STEP_FAILURE":
            return f"✘ {step} failed: {_first_line(event.event_specific_data.error.message)}"
        if kind == "STEP_UP_FOR_RETRY":  # a load that met an outage (INGEST_RETRY_POLICY)
            data = event.event_specific_data
            wait = f" in {data.seconds_to_wait:.0f}s" if data.seconds_to_wait else ""
            error = _first_line(data.error.message) if data.error else ""
            return f"↻ {step} will retry{wait}: {error}"
        if kind == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else "?"
            if event.partition:
                self.partitions.setdefault(key, []).append(event.partition)
                return None
            return f"  materialized {key}"
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            if data.passed:
                # dbt prints its own test results; our checks explain themselves.
                return f"  check {name} passed: {data.description}" if data.description else None
            return f"  check {name} FAILED ({data.severity.value}): {data.description or ''}"
        if kind in ("RUN_SUCCESS", "RUN_FAILURE"):
            return kind.replace("_", " ").lower()
        return None

    def _partition_summary(self) -> list[str]:
        lines = [
            f"  materialized {key}: {len(keys):,} partition{'s' if len(keys) > 1 else ''} "
            f"{keys[0]}{'..' + keys[-1] if len(keys) > 1 else ''}"
            for key, keys in self.partitions.items()
        ]
        self.partitions.clear()
        return lines


def _first_line(message: str) -> str:
    return (message or "").strip().splitlines()[0] if message else ""


@dg.logger(description="Compact progress lines for `rotation build` (one per step and check).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("rotation.progress")
    logger.setLevel(logging.DEBUG)
    logger.handlers = [ProgressHandler()]
    logger.propagate = False
    return logger
