"""The build's progress lines: quiet by default, everything with --verbose, a heartbeat."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

from dagster_project import progress
from dagster_project.progress import DBT_STEP, DbtLogTail, ProgressPrinter


def entry(step: str, event_type: str) -> SimpleNamespace:
    """An event log entry as the printer reads it (the attributes of dg.EventLogEntry)."""
    event = SimpleNamespace(event_type_value=event_type)
    return SimpleNamespace(step_key=step, dagster_event=event, level=logging.DEBUG)


def log(step: str, message: str, level: int = logging.INFO) -> SimpleNamespace:
    """A user log line (``context.log``) as the printer reads it."""
    return SimpleNamespace(step_key=step, dagster_event=None, level=level, user_message=message)


def printed(verbose: bool, entries) -> list[str]:
    out = io.StringIO()
    printer = ProgressPrinter(out, verbose=verbose)
    for item in entries:
        printer.emit(item)
    return [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]


ENTRIES = [
    entry("raw__prices", "STEP_START"),
    log("raw__prices", "raw.prices: replaced 0 rows with 30 (1 ticker)"),
    entry("raw__prices", "STEP_SUCCESS"),
    log(DBT_STEP, "Copying partial_parse.msgpack to take advantage of partial parsing."),
    log(
        DBT_STEP, "Logging an `AssetObservation` instead of an `AssetCheckResult`", logging.WARNING
    ),
    log(DBT_STEP, "dbt build failed: a compile error", logging.ERROR),
]


def test_quiet_shows_steps_with_durations_what_our_steps_say_and_dbt_errors():
    lines = printed(False, ENTRIES)
    assert lines[0] == "▶ raw__prices"
    assert lines[1] == "  raw__prices: raw.prices: replaced 0 rows with 30 (1 ticker)"
    assert lines[2].startswith("✔ raw__prices (") and lines[2].endswith("s)")
    assert lines[3:] == [f"  {DBT_STEP}: dbt build failed: a compile error"]


def test_verbose_adds_dagster_dbts_own_messages():
    lines = printed(True, ENTRIES)
    assert any("partial_parse" in line for line in lines)
    assert any("AssetObservation" in line for line in lines)


def test_the_heartbeat_names_the_running_step_and_dbts_node_count(tmp_path, monkeypatch):
    clock = iter([0.0, 0.0, 5.0, 30.0, 30.0, 30.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    tail = DbtLogTail(tmp_path / "dbt.log")
    tail.write("12 of 280 OK created sql table model marts.fct_daily_prices [OK in 1s]\n")
    out = io.StringIO()
    printer = ProgressPrinter(out, dbt_log=tail)  # started at 0
    printer.emit(entry(DBT_STEP, "STEP_START"))  # 0, 0
    printer.heartbeat()  # at 5 s: too soon
    printer.heartbeat()  # at 30 s
    tail.close()
    assert (
        out.getvalue()
        .splitlines()[-1]
        .endswith(f"… {DBT_STEP} running for 30s (dbt: 12 of 280 nodes)")
    )
    assert (tmp_path / "dbt.log").read_text().startswith("12 of 280 OK")


def check(severity, passed: bool = False) -> SimpleNamespace:
    """A check evaluation as the printer reads it."""
    import dagster as dg

    data = SimpleNamespace(
        asset_key=dg.AssetKey(["raw", "prices"]),
        check_name="raw_prices_anomalies",
        passed=passed,
        severity=severity,
        description="1 ticker-day quarantined",
    )
    event = SimpleNamespace(event_type_value="ASSET_CHECK_EVALUATION", event_specific_data=data)
    return SimpleNamespace(step_key="raw_prices_gates", dagster_event=event, level=logging.DEBUG)


def test_a_warning_check_reads_as_a_warning_and_an_error_check_as_a_failure():
    import dagster as dg

    warned, failed = printed(
        False, [check(dg.AssetCheckSeverity.WARN), check(dg.AssetCheckSeverity.ERROR)]
    )
    assert warned == "  check raw/prices:raw_prices_anomalies warning: 1 ticker-day quarantined"
    assert failed == "  check raw/prices:raw_prices_anomalies FAILED: 1 ticker-day quarantined"
