"""A build killed, stopped or made to wait: real processes, real signals.

Each case runs `rotation build` as a child process with its own Dagster instance (the
project's dagster.yaml in a temporary DAGSTER_HOME), into conftest's ``warehouse_path``
(a fresh file whose path dbt has seen, so it parses incrementally), and watches its
progress lines, so every step the test waits for is an event; the time limits only guard
against a hang.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.build import reclaim_dead_runs
from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from dagster_project.lib.warehouse import store as wh
from tests.integration.conftest import SMALL

GUARD_SECONDS = 600
"""A guard against a hung child, never a timing assertion."""
ARGS = ["--tickers", str(SMALL["sample_tickers"]), "--years", str(SMALL["sample_years"])]


class Build:
    """A `rotation build` child whose stderr lines are collected as they come."""

    def __init__(self, home: Path, warehouse: Path) -> None:
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.cli", "build", *ARGS],
            cwd=PROJECT_ROOT,
            env={**env, "ROTATION_WAREHOUSE": str(warehouse)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + GUARD_SECONDS
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r}:\n{self.output}")
            time.sleep(0.05)

    def finish(self) -> int:
        try:
            code = self.process.wait(timeout=GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self._reader.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def home(tmp_path) -> Path:
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", folder / "dagster.yaml")
    return folder


def runs(home: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.get_runs())


def raw_rows(warehouse: Path, table: str) -> set[tuple]:
    """A raw table's rows without their load stamp (two builds load at different times)."""
    with wh.connect(warehouse, read_only=True) as con:
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if name != "loaded_at"
        ]
        return set(con.execute(f"SELECT {', '.join(columns)} FROM raw.{table}").fetchall())


def test_a_build_killed_mid_load_is_finished_by_the_next_one(home, warehouse_path, built_sample):
    warehouse = warehouse_path
    killed = Build(home, warehouse)
    killed.wait_for("raw.prices: replaced")  # the price load has written its rows
    killed.process.send_signal(signal.SIGKILL)
    assert killed.finish() == -signal.SIGKILL

    again = Build(home, warehouse)
    assert again.finish() == 0, again.output
    assert "reclaimed a dead build" in again.output
    statuses = [run.status for run in reversed(runs(home))]
    assert statuses == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
    for table in ("prices", "rates", "universe", "fundamentals"):
        assert raw_rows(warehouse, table) == raw_rows(built_sample.warehouse, table), table


@pytest.mark.parametrize(
    ("stop", "during"),
    [(signal.SIGTERM, "▶ rotation_dbt_models"), (signal.SIGINT, "▶ raw__prices")],
    ids=["sigterm-in-dbt", "sigint-in-a-load"],
)
def test_a_signal_stops_the_build_cancels_its_run_and_frees_the_warehouse(
    home, warehouse_path, stop, during
):
    warehouse = warehouse_path
    build = Build(home, warehouse)
    build.wait_for(during)
    build.process.send_signal(stop)
    assert build.finish() == -stop, build.output
    assert f"stopped by {stop.name}" in build.output
    [run] = runs(home)
    assert run.status == dg.DagsterRunStatus.CANCELED
    with wh.writer_lock(warehouse, {"by": "test"}, on_wait=pytest.fail):
        pass  # free at once: the stopped build holds nothing
    with wh.connect(warehouse) as con:  # and no dbt left writing the file
        con.execute("SELECT 1").fetchall()


def test_a_build_waits_for_a_live_writer_says_for_whom_and_stops_on_sigterm(home, warehouse_path):
    warehouse = warehouse_path
    with wh.writer_lock(warehouse, {"run": "held-by-the-test"}, on_wait=pytest.fail):
        build = Build(home, warehouse)
        build.wait_for("waiting for the writer of")
        assert "held-by-the-test" in build.output
        assert f"pid {os.getpid()}" in build.output
        build.process.send_signal(signal.SIGTERM)
        assert build.finish() == -signal.SIGTERM, build.output
    [run] = runs(home)
    assert run.status == dg.DagsterRunStatus.CANCELED


def test_only_runs_whose_process_is_gone_are_reclaimed(tmp_path):
    @dg.op
    def noop() -> None:
        pass

    @dg.job
    def some_build():
        noop()

    with dg.DagsterInstance.ephemeral() as instance:
        for pid in (111, 222):
            run = instance.create_run_for_job(
                some_build, tags={"rotation/pid": str(pid), "rotation/host": _host()}
            )
            instance.handle_run_event(
                run.run_id,
                dg.DagsterEvent(
                    event_type_value=dg.DagsterEventType.RUN_START.value,
                    job_name=run.job_name,
                ),
            )
        lines = reclaim_dead_runs(instance, is_alive=lambda pid: pid == 222)
        assert len(lines) == 1 and "pid 111" in lines[0]
        by_pid = {run.tags["rotation/pid"]: run.status for run in instance.get_runs()}
        assert by_pid == {"111": dg.DagsterRunStatus.FAILURE, "222": dg.DagsterRunStatus.STARTED}


def _host() -> str:
    import socket

    return socket.gethostname()
