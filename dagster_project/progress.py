"""Compact progress for `rotation build`: a line per step, what our steps say, and a heartbeat.

Read from the run's own event log while the run executes (``DagsterInstance
.get_records_for_run``, public on every instance: SQLite, Postgres, in-memory), so the
lines are the same events the UI shows and no private logging hook is needed.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import dagster as dg

POLL_SECONDS = 0.5
"""How often the run's new events are read: often enough to feel live, rarely enough to
cost nothing beside a build that takes tens of seconds."""

HEARTBEAT_SECONDS = 10.0
"""After this long without a line, say which steps are still running and for how long: a
silent terminal for 20 s looks like a hang."""

DBT_STEP = "rotation_dbt_models"
"""dagster-dbt's own log lines (selection, partial parse, check observations) come from
this step: shown with ``--verbose`` only, except errors."""

DBT_NODE = re.compile(r"\b(\d+) of (\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP|START)")
"""dbt's per-node result line (``12 of 280 OK created sql table model ...``)."""


class DbtLogTail(io.TextIOBase):
    """A file-like sink for dbt's console output (dagster-dbt writes it to stdout): keeps it
    in a log file and remembers the last "K of N" it saw, for the heartbeat."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = path.open("w", encoding="utf-8")
        self.done: tuple[int, int] | None = None

    def write(self, text: str) -> int:
        self.file.write(text)
        for match in DBT_NODE.finditer(text):
            self.done = (int(match.group(1)), int(match.group(2)))
        return len(text)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
            self.file.close()


class ProgressPrinter:
    """Turns a run's event log entries into short human lines with elapsed time.

    Quiet (the default): a line when a step starts and ends (with its duration), what our
    own steps say (rows loaded, checks), warnings and failures. ``verbose`` adds every
    materialization and dagster-dbt's own messages.
    """

    def __init__(self, stream=None, verbose: bool = False, dbt_log: DbtLogTail | None = None):
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.dbt_log = dbt_log
        self.started = time.monotonic()
        self.last_line = self.started
        self.running: dict[str, float] = {}

    def emit(self, entry: dg.EventLogEntry) -> None:
        self._track(entry)
        line = self.describe(entry)
        if line:
            self.write(line)

    def write(self, line: str) -> None:
        now = time.monotonic()
        for part in line.splitlines():
            self.stream.write(f"[{now - self.started:7.1f}s] {part}\n")
        self.stream.flush()
        self.last_line = now

    def heartbeat(self) -> None:
        """If nothing was printed for HEARTBEAT_SECONDS, say what is still running."""
        now = time.monotonic()
        if not self.running or now - self.last_line < HEARTBEAT_SECONDS:
            return
        parts = []
        for step, since in self.running.items():
            part = f"{step} running for {now - since:.0f}s"
            if step == DBT_STEP and self.dbt_log is not None and self.dbt_log.done:
                part += " (dbt: {} of {} nodes)".format(*self.dbt_log.done)
            parts.append(part)
        self.write("  … " + "; ".join(parts))

    def _track(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.event_type_value == "STEP_START":
            self.running[entry.step_key or ""] = time.monotonic()

    def _finished(self, step: str) -> str:
        since = self.running.pop(step, None)
        return f" ({time.monotonic() - since:.1f}s)" if since is not None else ""

    def describe(self, entry: dg.EventLogEntry) -> str | None:
        event = entry.dagster_event
        step = entry.step_key or ""
        if event is None:
            # User logs from our own assets (context.log.info) are progress too.
            if entry.level < logging.INFO:
                return None
            # dagster-dbt's chatter (selection, partial parse, and a WARNING per raw source
            # test it logs as an observation) only with --verbose; its errors always
            if step == DBT_STEP and entry.level < logging.ERROR and not self.verbose:
                return None
            return f"  {step}: {entry.user_message}"
        kind = event.event_type_value
        if kind == "STEP_START":
            return f"▶ {step}"
        if kind == "STEP_SUCCESS":
            return f"✔ {step}{self._finished(step)}"
        if kind == "STEP_FAILURE":
            error = _first_line(event.event_specific_data.error.message)
            return f"✘ {step} failed{self._finished(step)}: {error}"
        if kind == "STEP_UP_FOR_RETRY":  # a load that met an outage (INGEST_RETRY_POLICY)
            data = event.event_specific_data
            wait = f" in {data.seconds_to_wait:.0f}s" if data.seconds_to_wait else ""
            error = _first_line(data.error.message) if data.error else ""
            return f"↻ {step} will retry{wait}: {error}"
        if kind == "ASSET_MATERIALIZATION":
            if not self.verbose:
                return None
            key = event.asset_key.to_user_string() if event.asset_key else "?"
            return f"  materialized {key}"
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            if data.passed:
                # dbt prints its own test results; our checks explain themselves.
                return f"  check {name} passed: {data.description}" if data.description else None
            if data.severity == dg.AssetCheckSeverity.WARN:  # reported, never a failure
                return f"  check {name} warning: {data.description or ''}"
            return f"  check {name} FAILED: {data.description or ''}"
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
            self.printer.heartbeat()

    def read_new(self) -> None:
        """Print the events recorded since the last read (none before the run exists)."""
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=1000)
            for record in page.records:
                self.printer.emit(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return
