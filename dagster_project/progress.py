"""Compact progress for `rotation build`: one line per step, materialization and check.

Read from the run's own event log while the run executes (``DagsterInstance
.get_records_for_run``, public on every instance: SQLite, Postgres, in-memory), so the
lines are the same events the UI shows and no private logging hook is needed.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import TracebackType

import dagster as dg

POLL_SECONDS = 0.5
"""How often the run's new events are read: often enough to feel live, rarely enough to
cost nothing beside a build that takes tens of seconds."""


class ProgressPrinter:
    """Turns a run's event log entries into short human lines with elapsed time."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def emit(self, entry: dg.EventLogEntry) -> None:
        line = self.describe(entry)
        if line:
            elapsed = time.monotonic() - self.started
            for part in line.splitlines():
                self.stream.write(f"[{elapsed:7.1f}s] {part}\n")
            self.stream.flush()

    def describe(self, entry: dg.EventLogEntry) -> str | None:
        event = entry.dagster_event
        step = entry.step_key or ""
        if event is None:
            # User logs from our own assets (context.log.info) are progress too.
            return f"  {step}: {entry.user_message}" if entry.level >= logging.INFO else None
        kind = event.event_type_value
        if kind == "STEP_START":
            return f"▶ {step}"
        if kind == "STEP_SUCCESS":
            return f"✔ {step}"
        if kind == "STEP_FAILURE":
            return f"✘ {step} failed: {_first_line(event.event_specific_data.error.message)}"
        if kind == "STEP_UP_FOR_RETRY":  # a load that met an outage (INGEST_RETRY_POLICY)
            data = event.event_specific_data
            wait = f" in {data.seconds_to_wait:.0f}s" if data.seconds_to_wait else ""
            error = _first_line(data.error.message) if data.error else ""
            return f"↻ {step} will retry{wait}: {error}"
        if kind == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else "?"
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


def _first_line(message: str) -> str:
    return (message or "").strip().splitlines()[0] if message else ""


class RunProgress:
    """While the block runs, print the new events of run ``run_id`` every POLL_SECONDS
    (from a background thread), and whatever is left when it ends."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, printer: ProgressPrinter | None = None
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.printer = printer or ProgressPrinter()
        self.cursor: str | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="rotation-progress", daemon=True)

    def __enter__(self) -> RunProgress:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join()
        self.read_new()

    def _watch(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            self.read_new()

    def read_new(self) -> None:
        """Print the events recorded since the last read (none before the run exists)."""
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=1000)
            for record in page.records:
                self.printer.emit(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return
