"""The ``rotation`` command: build the warehouse through Dagster, query its published copy."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

from dagster_project.lib import settings as cfg

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _set_env(name: str, value) -> None:
    if value is not None:
        os.environ[name] = str(value)


def _apply_common(args: argparse.Namespace) -> cfg.Settings:
    """Write the flags into the environment, so every path reads one set of settings."""
    _set_env(
        cfg.ENV_WAREHOUSE, Path(args.warehouse).expanduser().resolve() if args.warehouse else None
    )
    for attr, env in (
        ("source", cfg.ENV_SOURCE),
        ("start", cfg.ENV_START),
        ("end", cfg.ENV_END),
        ("tickers", cfg.ENV_SAMPLE_TICKERS),
        ("years", cfg.ENV_SAMPLE_YEARS),
        ("seed", cfg.ENV_SAMPLE_SEED),
    ):
        _set_env(env, getattr(args, attr, None))
    return cfg.Settings.from_env()


def cmd_build(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
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

    try:
        with dg.DagsterInstance.get() as instance:
            for line in reclaim_dead_runs(instance):
                print(f"reclaimed a dead build: {line}", file=sys.stderr)
            outcome = run_build(settings, instance)
    except BuildStopped as stop:
        print(
            f"\nrotation build: stopped by {stop.signal_name}; its Dagster run is marked "
            "canceled. What a load had not committed is rolled back; run the build again "
            "to finish.",
            file=sys.stderr,
        )
        raise
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print_quarantine(settings.warehouse)
    if outcome.ok:
        print(
            f"\nBuilt {settings.warehouse}\n"
            f"Published read-only copy: {published_path(settings.warehouse)}\n"
            'Query it: uv run rotation sql "select * from marts.relative_performance limit 5"',
            file=sys.stderr,
        )
        return EXIT_OK
    print("\n" + outcome.failure_report(), file=sys.stderr)
    return EXIT_FAILED


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
    query = "select * from raw.quarantine where status = 'open' order by obs_date"
    print(f'  all findings: uv run rotation sql "{query}" --warehouse {warehouse}', file=sys.stderr)


LEDGER_COLUMNS = (
    "claim_id, verdict, claimed_value AS claimed, measured_value AS measured, difference, "
    "subject, measured_from, measured_to, claim_text, no_data_reason"
)


def cmd_claims(args: argparse.Namespace) -> int:
    if args.file:
        _set_env(cfg.ENV_CLAIMS, Path(args.file).expanduser().resolve())
    settings = _apply_common(args)
    if args.file:
        import dagster as dg

        from dagster_project.build import run_build
        from dagster_project.definitions import CLAIMS_JOB_NAME
        from dagster_project.defs.transform.project import ensure_manifest

        cfg.ensure_dagster_home()
        ensure_manifest()
        print(f"measuring claims in {settings.claims_file}", file=sys.stderr)
        # Keep stdout for the ledger itself (csv/json stay machine-readable).
        with contextlib.redirect_stdout(sys.stderr), dg.DagsterInstance.get() as instance:
            outcome = run_build(settings, instance, show_progress=False, job_name=CLAIMS_JOB_NAME)
        if not outcome.ok:
            print(outcome.failure_report(), file=sys.stderr)
            return EXIT_FAILED
    from dagster_project.lib.warehouse.store import WarehouseError, connect, published_path

    columns = "*" if args.format != "table" else LEDGER_COLUMNS
    try:
        with connect(published_path(settings.warehouse), read_only=True) as con:
            frame = con.execute(f"SELECT {columns} FROM marts.claims ORDER BY claim_position").df()
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
    print(format_frame(frame, args.format))
    counts = frame["verdict"].value_counts().to_dict()
    print(
        ", ".join(f"{counts.get(v, 0)} {v}" for v in ("supported", "contradicted", "no_data")),
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
    from dagster_project.lib.report.writer import ReportError, write_report
    from dagster_project.lib.warehouse.store import published_path

    try:
        result = write_report(
            published_path(settings.warehouse), cfg.reports_dir(settings.warehouse)
        )
    except ReportError as exc:
        print(f"rotation report: {exc}", file=sys.stderr)
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
        print(f"rotation docs: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"dbt docs: {result.dbt_index}")
    print(f"GX Data Docs: {result.gx_index}")
    return EXIT_OK


def cmd_sql(args: argparse.Namespace) -> int:
    settings = _apply_common(args)
    from dagster_project.lib.warehouse.store import WarehouseError, connect, published_path

    target = published_path(settings.warehouse)
    try:
        with connect(target, read_only=True) as con:
            frame = con.execute(args.query).df()
    except WarehouseError as exc:
        print(f"rotation sql: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # DuckDB parser/binder/catalog errors: show them plainly.
        print(f"rotation sql: {describe_sql_error(exc, target)}", file=sys.stderr)
        return EXIT_FAILED
    print(format_frame(frame, args.format))
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


def format_frame(frame, fmt: str) -> str:
    """Render a result as an aligned table, CSV or JSON records (dates as ISO strings)."""
    frame = _dates_as_text(frame)
    if fmt == "csv":
        return frame.to_csv(index=False).rstrip("\n")
    if fmt == "json":
        return frame.to_json(orient="records", date_format="iso", indent=1)
    if frame.empty:
        return "(no rows)"
    return frame.to_string(index=False, max_rows=None)


def _dates_as_text(frame):
    """DuckDB DATEs arrive as midnight timestamps; print them as plain ``YYYY-MM-DD``."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if not str(values.dtype).startswith("datetime64"):
            continue
        present = values.dropna()
        if (present.dt.normalize() == present).all():
            frame[column] = values.dt.strftime("%Y-%m-%d").fillna("")
    return frame


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
    build.set_defaults(func=cmd_build)

    sql = sub.add_parser("sql", help="Run SQL on the published read-only copy.")
    sql.add_argument("query", help='e.g. "select * from marts.fct_daily_prices limit 5"')
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _add_warehouse(sql)
    sql.set_defaults(func=cmd_sql)

    claims = sub.add_parser("claims", help="Print the claims ledger (marts.claims).")
    claims.add_argument(
        "--file", help="measure this claims file first (default: the ledger of the last build)"
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
    from dagster_project.build import BuildStopped

    try:
        code = main()
    except BuildStopped as stopped:
        sys.stderr.flush()
        signal.signal(stopped.signum, signal.SIG_DFL)
        os.kill(os.getpid(), stopped.signum)
        code = 128 + stopped.signum  # not reached: the default action ends the process
    sys.exit(code)


if __name__ == "__main__":
    run()
