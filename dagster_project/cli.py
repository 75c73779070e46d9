"""The ``rotation`` command: build the warehouse through Dagster, query its published copy."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from dagster_project.lib import settings as cfg
from dagster_project.lib.warehouse.results import (
    FORMATS,
    MAX_CELL_WIDTH,
    format_result,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _set_env(name: str, value) -> None:
    if value is not None:
        os.environ[name] = str(value)


FLAG_VARIABLES = (
    ("source", cfg.ENV_SOURCE),
    ("start", cfg.ENV_START),
    ("end", cfg.ENV_END),
    ("tickers", cfg.ENV_SAMPLE_TICKERS),
    ("years", cfg.ENV_SAMPLE_YEARS),
    ("seed", cfg.ENV_SAMPLE_SEED),
)
"""Each flag (its argparse name) and the environment variable it is written into."""


def setting_name(args: argparse.Namespace, variable: str) -> str:
    """What the user set ``variable`` with: its flag when they typed it (``--tickers``),
    else the environment variable itself. Errors name it, so nobody is told about a
    ROTATION_SAMPLE_TICKERS they never set."""
    for attr, env in (("warehouse", cfg.ENV_WAREHOUSE), *FLAG_VARIABLES):
        if env == variable and getattr(args, attr, None) is not None:
            return "--" + attr
    return variable


def _apply_common(args: argparse.Namespace) -> cfg.Settings:
    """Write the flags into the environment, so every path reads one set of settings."""
    _set_env(
        cfg.ENV_WAREHOUSE, Path(args.warehouse).expanduser().resolve() if args.warehouse else None
    )
    for attr, env in FLAG_VARIABLES:
        _set_env(env, getattr(args, attr, None))
    try:
        return cfg.Settings.from_env()
    except cfg.SettingsError as exc:
        name = setting_name(args, exc.variable) if exc.variable else None
        if name and name != exc.variable:
            raise cfg.SettingsError(exc.for_flag(name), variable=exc.variable) from exc
        raise


def check_build_settings(settings: cfg.Settings, name: Callable[[str], str]) -> None:
    """Refuse, before any run starts, settings a build would only fail on steps later: a
    window that ends before it starts or starts after the source's last day, a sample
    smaller than the instruments it always keeps. ``name`` says how the user set a
    variable (``setting_name``: the flag, or the environment variable)."""

    def said(variable: str, value) -> str:
        shown = name(variable)
        return f"{shown} {value}" if shown.startswith("--") else f"{shown}={value}"

    start, end = settings.start, settings.end
    if start and end and end < start:
        raise cfg.SettingsError(
            f"{said(cfg.ENV_END, end)} is before {said(cfg.ENV_START, start)}: the window is empty"
        )
    last = _last_source_date(settings) if start and not end else None
    if last and start > last[0]:
        last_date, what, advice = last
        raise cfg.SettingsError(
            f"{said(cfg.ENV_START, start)} is after {what} ({last_date}): nothing to load"
            + (f"; {advice}" if advice else "")
        )
    tickers = settings.sample_tickers if settings.source == "sample" else None
    minimum = sample_minimum_tickers() if tickers else 0
    if tickers and tickers < minimum:
        raise cfg.SettingsError(
            f"{said(cfg.ENV_SAMPLE_TICKERS, settings.sample_tickers)} is too few: the sample "
            f"always keeps its {minimum} index proxies, sector funds and megacaps; "
            f"use {minimum} or more"
        )


def _last_source_date(settings: cfg.Settings) -> tuple[dt.date, str, str] | None:
    """The last day the source has data for (the end of its default window), how to say
    it and what to do instead; None when only the run can tell (a folder that does not
    parse)."""
    from dagster_project.lib.sources import SourceError, default_window

    if settings.source == "live":
        return dt.date.today(), "today", ""
    try:
        last = default_window(dataclasses.replace(settings, start=None)).end
    except (SourceError, OSError, ValueError):
        return None
    if settings.source == "sample":
        return last, "the last day of the sample market", "give --end too to extend it"
    return last, "the last date in the files", ""


def sample_minimum_tickers() -> int:
    """The fewest tickers the sample scales to: ``universe.scale_universe`` always keeps
    the instruments outside the baskets (index proxies, sector funds, megacaps)."""
    from dagster_project.lib.sources.sample.universe import always_kept, load_universe

    return len(always_kept(load_universe()))


def warehouse_flag(warehouse: Path) -> str:
    """`` --warehouse PATH`` for a hint, empty for the default warehouse: a hint without it
    would send the user of their own file to the default one."""
    path = Path(warehouse).expanduser().resolve()
    if path == cfg.DEFAULT_WAREHOUSE.resolve():
        return ""
    with contextlib.suppress(ValueError):  # inside the working directory: as typed, likely
        path = path.relative_to(Path.cwd())
    return f" --warehouse {shlex.quote(str(path))}"


def rotation_command(arguments: str, warehouse: Path) -> str:
    """The command a hint suggests, ``uv run rotation ARGUMENTS``, on the user's warehouse."""
    return f"uv run rotation {arguments}{warehouse_flag(warehouse)}"


_SUGGESTED_COMMAND = re.compile(r"`((?:uv run )?rotation (?:build|sql|claims|report|docs)[^`]*)`")


def carry_warehouse(message: str, warehouse: Path) -> str:
    """Add the user's ``--warehouse`` to the commands a message from ``lib/`` suggests
    (``run `rotation build` first``): lib/ is handed a file, not the flag that named it."""
    flag = warehouse_flag(warehouse)
    return _SUGGESTED_COMMAND.sub(lambda m: f"`{m.group(1)}{flag}`", message) if flag else message


def cmd_build(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
    check_build_settings(settings, lambda variable: setting_name(args, variable))
    home = cfg.ensure_dagster_home()
    print(
        f"rotation build: source={settings.source} warehouse={settings.warehouse}\n"
        f"  Dagster instance: {home} (runs show in `uv run dagster dev`)",
        file=sys.stderr,
    )
    from dagster_project.defs.transform.project import ensure_manifest

    ensure_manifest()
    import dagster as dg

    from dagster_project.build import BuildStopped, reclaim_dead_runs, run_build
    from dagster_project.lib.warehouse.store import published_path
    from dagster_project.progress import DbtLogTail, ProgressPrinter

    verbose = getattr(args, "verbose", False)
    dbt_log = None if verbose else DbtLogTail(cfg.dbt_log_path(settings.warehouse))
    printer = ProgressPrinter(verbose=verbose, dbt_log=dbt_log)
    try:
        # quiet: dbt's console output (dagster-dbt writes it to stdout) goes to its log file
        with (
            contextlib.redirect_stdout(dbt_log) if dbt_log else contextlib.nullcontext(),
            dg.DagsterInstance.get() as instance,
        ):
            for line in reclaim_dead_runs(instance):
                print(f"reclaimed a dead build: {line}", file=sys.stderr)
            outcome = run_build(settings, instance, printer=printer, full_refresh=args.full_refresh)
    except BuildStopped as stop:
        print(
            f"\nrotation build: stopped by {stop.signal_name}; its Dagster run is marked "
            "canceled. What a load had not committed is rolled back; run the build again "
            "to finish.",
            file=sys.stderr,
        )
        raise
    finally:
        if dbt_log is not None:
            dbt_log.close()
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print_quarantine(settings.warehouse)
    dbt_log_line = f"dbt's log: {dbt_log.path}\n" if dbt_log is not None else ""
    if outcome.ok:
        query = '"select * from marts.relative_performance limit 5"'
        print(
            f"\nBuilt {settings.warehouse}\n"
            f"Published read-only copy: {published_path(settings.warehouse)}\n"
            + "".join(f"{line}\n" for line in build_summary(settings.warehouse))
            + f"{len(outcome.warnings)} warning(s)\n"
            + dbt_log_line
            + f"Query it: {rotation_command(f'sql {query}', settings.warehouse)}",
            file=sys.stderr,
        )
        return EXIT_OK
    print("\n" + outcome.failure_report(), file=sys.stderr)
    if dbt_log_line:
        print(dbt_log_line.rstrip(), file=sys.stderr)
    return EXIT_FAILED


def build_summary(warehouse: Path) -> list[str]:
    """The closing lines after a good build: the report, the claims verdicts, whether the
    data is the synthetic sample. Read from the published copy; a missing piece is left
    out, never an error (the build itself succeeded)."""
    import duckdb

    from dagster_project.lib.warehouse.connection import (
        connect,
        holds_synthetic_data,
        published_path,
    )

    lines = []
    report = cfg.reports_dir(warehouse) / "rotation_report.html"
    if report.exists():
        lines.append(f"Report: {report}")
    try:
        with connect(published_path(warehouse), read_only=True) as con:
            verdicts = dict(
                con.execute("SELECT verdict, count(*) FROM marts.claims GROUP BY 1").fetchall()
            )
            synthetic = holds_synthetic_data(con)
    except (duckdb.Error, OSError, ValueError):
        return lines
    counts = ", ".join(
        f"{verdicts.get(v, 0)} {v}" for v in ("supported", "contradicted", "no_data")
    )
    lines.append(f"Claims: {counts} (uv run rotation claims{warehouse_flag(warehouse)})")
    if synthetic:
        lines.append(SYNTHETIC_NOTE)
    return lines


def _print_quarantine(warehouse: Path) -> None:
    """List what the quality gates keep out of the marts, with the query for all of it."""
    import duckdb

    from dagster_project.lib.warehouse.store import WarehouseError, connect, open_quarantine

    try:
        with connect(warehouse, read_only=True) as con:
            total, rows = open_quarantine(con)
    except (WarehouseError, duckdb.Error):  # no warehouse or no raw schema yet
        return
    if not total:
        return
    print(
        f"\nQuarantined (kept in raw, kept out of the marts): {total:,} rows",
        file=sys.stderr,
    )
    for table, key, day, rule, value in rows:
        print(f"  {table} {key} {day}: {rule} {value}", file=sys.stderr)
    query = "\"select * from raw.quarantine where status = 'open' order by obs_date\""
    print(f"  all findings: {rotation_command(f'sql {query}', warehouse)}", file=sys.stderr)


LEDGER_COLUMNS = (
    "claim_id, verdict, claimed_value AS claimed, measured_value AS measured, difference, "
    "subject, measured_from, measured_to, claim_text, verdict_reason AS reason"
)


def cmd_claims(args: argparse.Namespace) -> int:
    """Print the ledger: the nightly one (``marts.claims``), or ``--file F`` measured now.

    Both read the published read-only copy and nothing else: ``--file`` runs the ledger's
    own measuring query (``lib/claims_measure.py``) on the copy in memory, without a
    Dagster run, so it answers in about a second on any warehouse, whatever its source.
    """
    settings = _apply_common(args)
    from dagster_project.lib.warehouse.connection import WarehouseError, connect, published_path

    published = published_path(settings.warehouse)
    columns = "*" if args.format != "table" else LEDGER_COLUMNS
    if args.file:
        from dagster_project.lib.claims import ClaimsFileError
        from dagster_project.lib.claims_measure import MeasureError, measure_claims_file

        claims_file = Path(args.file).expanduser().resolve()
        print(f"measuring claims in {claims_file} on {published}", file=sys.stderr)
        try:
            names, rows = measure_claims_file(published, claims_file, columns)
        except (ClaimsFileError, MeasureError) as exc:
            print(f"rotation claims: {exc}", file=sys.stderr)
            return EXIT_FAILED
    else:
        try:
            with connect(published, read_only=True) as con:
                result = con.execute(f"SELECT {columns} FROM marts.claims ORDER BY claim_position")
                names, rows = [column[0] for column in result.description], result.fetchall()
        except WarehouseError as exc:
            print(f"rotation claims: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as exc:
            print(
                f"rotation claims: the published warehouse has no ledger yet ({exc}); "
                "run `rotation build`",
                file=sys.stderr,
            )
            return EXIT_FAILED
    print(format_result(names, rows, args.format))
    verdicts = [row[names.index("verdict")] for row in rows]
    print(
        ", ".join(f"{verdicts.count(v)} {v}" for v in ("supported", "contradicted", "no_data")),
        file=sys.stderr,
    )
    if _published_is_synthetic(published):  # stderr: stdout stays machine-readable
        print(SYNTHETIC_NOTE, file=sys.stderr)
    return EXIT_OK


def _published_is_synthetic(published: Path) -> bool:
    """Whether a published copy holds the sample market (False when it cannot tell)."""
    from dagster_project.lib.warehouse.connection import (
        WarehouseError,
        connect,
        holds_synthetic_data,
    )

    try:
        with connect(published, read_only=True) as con:
            return holds_synthetic_data(con)
    except WarehouseError:
        return False


def cmd_report(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
    from dagster_project.lib.report.writer import ReportError, write_report
    from dagster_project.lib.warehouse.store import published_path

    try:
        result = write_report(
            published_path(settings.warehouse), cfg.reports_dir(settings.warehouse)
        )
    except ReportError as exc:
        print(f"rotation report: {carry_warehouse(str(exc), settings.warehouse)}", file=sys.stderr)
        return EXIT_FAILED
    label = " (synthetic sample data)" if result.synthetic else ""
    print(
        f"report for source {', '.join(result.sources)}{label}, data to {result.as_of}:",
        file=sys.stderr,
    )
    print(result.html_path)
    for path in result.png_paths:
        print(path)
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
    from dagster_project.lib.report.docs import DocsError, build_docs
    from dagster_project.lib.warehouse.store import published_path

    try:
        result = build_docs(published_path(settings.warehouse), cfg.docs_dir(settings.warehouse))
    except DocsError as exc:
        print(f"rotation docs: {carry_warehouse(str(exc), settings.warehouse)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"dbt docs: {result.dbt_index}")
    print(f"GX Data Docs: {result.gx_index}")
    return EXIT_OK


SYNTHETIC_NOTE = "(synthetic sample data: not market figures)"
EMPTY_QUERY = "rotation sql: the query is empty"


def cmd_sql(args: argparse.Namespace) -> int:
    """Run one query on the published copy. Imports only DuckDB, the settings and the
    formatter (no pandas, no Dagster), so an answer takes well under a second."""
    settings = _apply_common(args)
    if not args.query.strip():
        print(EMPTY_QUERY, file=sys.stderr)
        return EXIT_USAGE
    from dagster_project.lib.warehouse.connection import (
        WarehouseError,
        connect,
        holds_synthetic_data,
        published_path,
    )

    target = published_path(settings.warehouse)
    try:
        with connect(target, read_only=True) as con:
            result = con.execute(args.query)
            if result is None:  # nothing but comments: DuckDB runs no statement
                print(f"{EMPTY_QUERY} (nothing but comments)", file=sys.stderr)
                return EXIT_USAGE
            columns = [column[0] for column in result.description]
            rows = result.fetchall()
            synthetic = holds_synthetic_data(con)
    except WarehouseError as exc:
        print(f"rotation sql: {carry_warehouse(str(exc), settings.warehouse)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # DuckDB parser/binder/catalog errors: show them plainly.
        message = carry_warehouse(describe_sql_error(exc, target), settings.warehouse)
        print(f"rotation sql: {message}", file=sys.stderr)
        return EXIT_FAILED
    print(format_result(columns, rows, args.format))
    if synthetic:  # stderr: CSV and JSON on stdout stay machine-readable
        print(SYNTHETIC_NOTE, file=sys.stderr)
    return EXIT_OK


def describe_sql_error(exc: Exception, target: Path) -> str:
    """DuckDB's error, plus why a write was refused: "attached in read-only mode" alone
    does not say that ad hoc SQL runs on a copy, nor where changes are made instead."""
    message = f"{type(exc).__name__}: {exc}"
    if "read-only" not in str(exc):
        return message
    return (
        f"{target} is the published read-only copy; ad hoc SQL cannot change the warehouse "
        f"(data changes go through `rotation build`). {message}"
    )


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        help=f"DuckDB warehouse file (default {cfg.DEFAULT_WAREHOUSE}; env {cfg.ENV_WAREHOUSE})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rotation",
        description="Small-cap vs large-cap rotation warehouse (Dagster + dbt + DuckDB).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="Materialize every asset and check through Dagster.")
    build.add_argument(
        "--source", help="sample (default), live, or files:DIR (env ROTATION_SOURCE)"
    )
    build.add_argument("--start", help="first date to load, YYYY-MM-DD")
    build.add_argument("--end", help="last date to load, YYYY-MM-DD")
    _add_warehouse(build)
    build.add_argument("--tickers", type=int, help="sample source: number of tickers")
    build.add_argument("--years", type=int, help="sample source: years of history")
    build.add_argument("--seed", type=int, help="sample source: random seed (default 42)")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental mart from all history (after an upgrade that changes "
        "a definition, or a change of the universe's sizes or sectors)",
    )
    build.add_argument(
        "--verbose",
        action="store_true",
        help="also print every materialization, dagster-dbt's messages and dbt's own log "
        "(by default dbt's log goes to logs/ beside the warehouse)",
    )
    build.set_defaults(func=cmd_build)

    sql = sub.add_parser("sql", help="Run SQL on the published read-only copy.")
    sql.add_argument("query", help='e.g. "select * from marts.fct_daily_prices limit 5"')
    sql.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help=f"table (cells cut at {MAX_CELL_WIDTH} characters), csv or json (both complete)",
    )
    _add_warehouse(sql)
    sql.set_defaults(func=cmd_sql)

    claims = sub.add_parser("claims", help="Print the claims ledger (marts.claims).")
    claims.add_argument(
        "--file",
        help="measure this claims file now, on the published copy, with the ledger's own "
        "SQL (default: the ledger of the last build)",
    )
    claims.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _add_warehouse(claims)
    claims.set_defaults(func=cmd_claims)

    report = sub.add_parser(
        "report", help="Write the HTML report and its charts (PNG) from the published copy."
    )
    _add_warehouse(report)
    report.set_defaults(func=cmd_report)

    docs = sub.add_parser(
        "docs", help="Build the dbt docs and GX Data Docs sites from the published copy."
    )
    _add_warehouse(docs)
    docs.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except cfg.SettingsError as exc:
        print(f"rotation: {exc}", file=sys.stderr)
        return EXIT_USAGE


def run() -> None:
    """The console script. A build stopped by a signal ends the way the signal would have
    ended it (exit status 128 + N to the shell), once its run is canceled and its child
    processes are stopped: the convention that lets callers (shells, ``timeout``,
    supervisors) tell a stop from a failure."""
    try:
        code = main()
    except KeyboardInterrupt as stopped:
        # Only a build raises BuildStopped, so its module is loaded by then; importing it
        # up front would cost every command (``rotation sql`` too) seconds of Dagster.
        build = sys.modules.get("dagster_project.build")
        if build is None or not isinstance(stopped, build.BuildStopped):
            raise
        sys.stderr.flush()
        signal.signal(stopped.signum, signal.SIG_DFL)
        os.kill(os.getpid(), stopped.signum)
        code = 128 + stopped.signum  # not reached: the default action ends the process
    sys.exit(code)


if __name__ == "__main__":
    run()
