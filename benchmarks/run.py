"""The benchmark harness: the project's build against the floor and the peer, one run.

    uv run python -m benchmarks.run --tickers 3000 --years 25 [--compare-history]

1. writes the sample market at that scale to Parquet in a scratch folder (once);
2. runs ``rotation build`` from an empty warehouse (through the day before the sample's
   last session), then the nightly: ``rotation build --start D --end D`` adding that last
   session; each as a subprocess, wall time and peak RSS of the whole process tree;
3. runs the floor (``floor.sql`` in one DuckDB process) and the peer (``peer_pandas.py``)
   on the Parquet files, measured the same way;
4. checks that the floor's and the peer's marts agree with the published warehouse's;
5. times the README's example queries on the published copy;
6. SEC EDGAR at scale (unless ``--no-edgar``): loads the companyfacts files of step 1
   (one filer per stock, or ``--edgar-filers N``) into ``raw.edgar_facts`` of a copy of
   the built warehouse, then runs dbt on the EDGAR models and ``stock_valuation_daily``;
   each measured (wall time, peak RSS);
7. with ``--compare-history``, repeats the full build and the nightly at half the years;
8. writes ``results/<N>x<Y>y.json`` and the tables in ``RESULTS.md``, and prints the
   ratios last. Exits 1 when a contestant failed or the agreement check did not pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import edgar, report
from benchmarks.agreement import check_agreement, check_inputs
from benchmarks.buildlog import parse_build_log
from benchmarks.measure import Measurement, run_measured
from benchmarks.queries import readme_queries, time_queries
from dagster_project.lib.settings import DBT_PROJECT_DIR, DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from dagster_project.lib.warehouse.store import sql_string

BENCH_DIR = Path(__file__).resolve().parent
CLAIMS_FILE = PROJECT_ROOT / "claims.yaml"
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def clean_env(dagster_home: Path) -> dict[str, str]:
    """The environment every contestant runs in: ours, minus any ROTATION_* setting (the
    flags say everything), with a scratch Dagster instance configured like the project's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATION_")}
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", dagster_home / "dagster.yaml")
    env["DAGSTER_HOME"] = str(dagster_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def build_command(args, warehouse: Path, years: int, start: str | None, end: str) -> list[str]:
    # --verbose: the profile reads dbt's per-node timings from its console output
    command = [PYTHON, "-m", "dagster_project.cli", "build", "--verbose", "--source", "sample"]
    command += ["--tickers", str(args.tickers), "--years", str(years), "--seed", str(args.seed)]
    command += ["--warehouse", str(warehouse)]
    if start:
        command += ["--start", start]
    return command + ["--end", end]


def measured(name: str, command: list[str], scratch: Path, env: dict) -> dict:
    log(f"{name}: {' '.join(command[1:])}")
    # cwd: ``python -m benchmarks.*`` resolves this folder from the project root
    log_path = scratch / "logs" / f"{name}.log"
    result: Measurement = run_measured(command, log_path, env=env, cwd=PROJECT_ROOT)
    figure = result.as_dict()
    status = "ok" if result.ok else f"FAILED (exit {result.returncode}, see {result.log})"
    log(
        f"{name}: {result.seconds:.1f} s ({result.cpu_seconds:.1f} s CPU), "
        f"peak RSS {figure['peak_rss_mb']:,.0f} MiB, {status}"
    )
    return figure


def profile(figure: dict) -> dict:
    return parse_build_log([figure["log"], figure["log"] + ".out"], figure["seconds"])


def build_pair(args, scratch: Path, env: dict, years: int, sessions: dict, tag: str) -> dict:
    """Full build from an empty warehouse, then the nightly that adds the last session."""
    warehouse = scratch / f"warehouse-{years}y" / "warehouse.duckdb"
    out = {"warehouse": str(warehouse)}
    full_cmd = build_command(args, warehouse, years, None, sessions["penultimate_session"])
    out["full_build"] = measured(f"full_build{tag}", full_cmd, scratch, env)
    out["full_build"]["profile"] = profile(out["full_build"])
    if out["full_build"]["returncode"] != 0:
        return out
    day = sessions["last_session"]
    out["nightly"] = measured(
        f"nightly{tag}", build_command(args, warehouse, years, day, day), scratch, env
    )
    out["nightly"]["profile"] = profile(out["nightly"])
    return out


def edgar_at_scale(scratch: Path, env: dict, built: Path, data_dir: Path) -> dict:
    """The EDGAR load and the models over it, each measured, on a copy of the built
    warehouse: ``edgar_load`` appends every companyfacts file of ``data_dir/edgar`` to an
    emptied ``raw.edgar_facts`` through the one writer (a first load at that scale);
    ``edgar_models`` is ``dbt run`` of ``edgar.MODELS``, its per-model seconds parsed
    from dbt's output. The copy keeps the published marts the agreement check read as
    they were."""
    warehouse = scratch / "edgar" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, warehouse)
    out = {
        "edgar_load": measured(
            "edgar_load",
            [PYTHON, "-m", "benchmarks.edgar", "load", str(warehouse), str(data_dir / "edgar")],
            scratch,
            env,
        )
    }
    if out["edgar_load"]["returncode"] != 0:
        return out
    dbt_env = {**env, "ROTATION_WAREHOUSE": str(warehouse)}
    command = [str(Path(PYTHON).with_name("dbt")), "run", "--select", *edgar.MODELS]
    command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(scratch / "edgar" / "target")]
    command += ["--log-path", str(scratch / "edgar" / "logs"), "--no-use-colors"]
    figure = measured("edgar_models", command, scratch, dbt_env)
    figure["profile"] = profile(figure)
    out["edgar_models"] = figure
    return out


INSTANCES = ("project_instance", "stock_instance", "postgres_instance")


def with_installed_driver(url: str) -> str:
    """``postgresql://...`` (what ``.ci/start-postgres`` and most tools print) as
    ``postgresql+psycopg2://...``: SQLAlchemy reads a bare scheme as psycopg 3, which is
    not installed; dagster-postgres installs psycopg2."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if sep and scheme == "postgresql" else url


def instance_comparison(args, scratch: Path) -> dict:
    """The default sample build (`rotation build`, nothing else) under the project's
    instance, under an empty DAGSTER_HOME (Dagster's stock SQLite storage) and, with
    ``--postgres-url``, under ``dagster_home/postgres/dagster.yaml``: the build's time must
    not depend on which instance runs it."""
    out: dict = {}
    for name in INSTANCES:
        if name == "postgres_instance" and not args.postgres_url:
            continue
        home = scratch / name
        env = clean_env(home)
        if name == "stock_instance":
            (home / "dagster.yaml").unlink()
        elif name == "postgres_instance":
            shutil.copy(DEFAULT_DAGSTER_HOME / "postgres" / "dagster.yaml", home / "dagster.yaml")
            env["DAGSTER_PG_URL"] = with_installed_driver(args.postgres_url)
        warehouse = scratch / name / "warehouse.duckdb"
        command = [PYTHON, "-m", "dagster_project.cli", "build", "--warehouse", str(warehouse)]
        if args.instance_sample:
            tickers, years = args.instance_sample.split("x")
            command += ["--tickers", tickers, "--years", years]
        out[name] = measured(f"sample_build_{name}", command, scratch, env)
    return out


def run(args) -> dict:
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="rotation-bench-")).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    log(f"scratch folder {scratch}")
    env = clean_env(scratch / "dagster_home")
    result: dict = {
        "scale": {"tickers": args.tickers, "years": args.years, "seed": args.seed},
        "machine": report.machine(),
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "scratch": str(scratch),
        "figures": {},
    }
    figures = result["figures"]

    # dbt's manifest is parsed once here, as any earlier build would have: the timed
    # builds then measure building, not a one-off parse after someone edited a model.
    measured(
        "prepare_manifest",
        [
            PYTHON,
            "-c",
            "from dagster_project.defs.transform.project import ensure_manifest as m; m()",
        ],
        scratch,
        env,
    )
    data_dir = scratch / "data"
    generation = measured(
        "generate",
        [
            PYTHON,
            "-m",
            "benchmarks.data",
            str(data_dir),
            "--tickers",
            str(args.tickers),
            "--years",
            str(args.years),
            "--seed",
            str(args.seed),
            "--edgar-filers",
            str(args.edgar_filers),
        ],
        scratch,
        env,
    )
    result["data_generation"] = generation
    sessions = generation["output"]
    if generation["returncode"] != 0 or not sessions:
        raise SystemExit(f"could not generate the sample data: see {generation['log']}")
    result["scale"]["price_rows"] = sessions["rows"]["prices"]
    result["scale"]["edgar"] = sessions.get("edgar")
    result["scale"]["window"] = [sessions["window_start"], sessions["last_session"]]
    result["nightly_day"] = sessions["last_session"]

    builds = build_pair(args, scratch, env, args.years, sessions, "")
    figures["full_build"] = builds["full_build"]
    if "nightly" in builds:
        figures["nightly"] = builds["nightly"]

    published = Path(builds["warehouse"]).parent / "published" / "warehouse.duckdb"
    held_out = write_held_out(published, scratch / "gates" / "held_out.parquet")
    floor_db = scratch / "floor" / "floor.duckdb"
    floor_db.parent.mkdir(parents=True, exist_ok=True)
    figures["floor"] = measured(
        "floor",
        [PYTHON, "-m", "benchmarks.floor", str(data_dir), str(floor_db), str(held_out)],
        scratch,
        env,
    )
    peer_dir = scratch / "peer"
    figures["peer"] = measured(
        "peer",
        [PYTHON, "-m", "benchmarks.peer_pandas", str(data_dir), str(peer_dir), str(held_out)],
        scratch,
        env,
    )

    if figures.get("nightly", {}).get("returncode") == 0 and published.exists():
        log("checking the floor and the peer against the published marts")
        agreement = check_agreement(
            published,
            floor_db if figures["floor"]["returncode"] == 0 else None,
            peer_dir if figures["peer"]["returncode"] == 0 else None,
        )
        agreement["inputs"] = check_inputs(published, data_dir)
        agreement["ok"] = agreement["ok"] and agreement["inputs"]["ok"]
        result["agreement"] = agreement
        log(f"agreement {'passed' if agreement['ok'] else 'FAILED'}")
        log(f"timing the README queries ({args.repeats} runs each)")
        figures["queries"] = time_queries(published, readme_queries(), args.repeats)
        # an analyst checking an article's claims: one CLI process, no Dagster run
        figures["claims_cli"] = measured(
            "claims_cli",
            [PYTHON, "-m", "dagster_project.cli", "claims", "--file", str(CLAIMS_FILE)]
            + ["--warehouse", builds["warehouse"], "--format", "json"],
            scratch,
            env,
        )
    else:
        result["agreement"] = {"ok": False, "reason": "the builds did not both succeed"}

    if args.edgar and figures.get("full_build", {}).get("returncode") == 0:
        figures.update(edgar_at_scale(scratch, env, Path(builds["warehouse"]), data_dir))

    if args.compare_history:
        half = max(1, args.years // 2)
        history = build_pair(args, scratch, env, half, sessions, f"_{half}y")
        history["years"] = half
        result["history_comparison"] = history

    if args.instances:
        result["instance_comparison"] = instance_comparison(args, scratch)
        figures.update(result["instance_comparison"])

    result["ratios"] = report.ratios(figures, result.get("history_comparison"))
    result["targets"] = report.targets(result["ratios"])
    result["ratios_cpu"] = report.ratios(
        figures, result.get("history_comparison"), clock="cpu_seconds"
    )
    result["finished_at"] = dt.datetime.now().isoformat(timespec="seconds")
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
        result["scratch"] = None
    return result


HELD_OUT = (
    "SELECT key AS ticker, obs_date AS trade_date FROM built.raw.quarantine "
    "WHERE table_name = 'raw.prices' AND action = 'quarantine' AND status = 'open'"
)
NONE_HELD_OUT = "SELECT NULL::VARCHAR AS ticker, NULL::DATE AS trade_date WHERE false"


def write_held_out(published: Path, path: Path) -> Path:
    """The ticker-days the build's quality gates keep out of the marts, as Parquet (none
    when the build published nothing): the floor and the peer take them as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        query = NONE_HELD_OUT
        if published.exists():
            con.execute(f"ATTACH {sql_string(str(published))} AS built (READ_ONLY)")
            query = HELD_OUT
        con.execute(f"COPY ({query}) TO {sql_string(str(path))} (FORMAT parquet)")
    return path


def failed(result: dict) -> list[str]:
    """What went wrong in a run (empty when every contestant ran and the marts agree)."""
    problems = []
    contestants = dict(result["figures"])
    history = result.get("history_comparison") or {}
    for key in ("full_build", "nightly"):
        if key in history:
            contestants[f"{key} at {history['years']}y"] = history[key]
    for name, figure in contestants.items():
        if figure.get("returncode", 0) != 0:
            problems.append(f"{name} failed (exit {figure['returncode']}): see {figure['log']}")
    for key in ("full_build", "nightly", "floor", "peer", "queries"):
        if key not in result["figures"]:
            problems.append(f"{key} was not measured")
    if not result.get("agreement", {}).get("ok"):
        problems.append("the floor/peer agreement check did not pass")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark the build against a hand-written DuckDB floor and a pandas peer.",
    )
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--compare-history",
        action="store_true",
        help="also run the full build and the nightly at half the years",
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per README query")
    parser.add_argument(
        "--no-instances",
        dest="instances",
        action="store_false",
        help="skip the default sample build under the project's and a stock instance",
    )
    parser.add_argument(
        "--instance-sample",
        help="TICKERSxYEARS of the instance comparison's sample build (default: the default "
        "sample, as `rotation build` builds it)",
    )
    parser.add_argument(
        "--postgres-url",
        help="also build the default sample on a Postgres-backed instance (DAGSTER_PG_URL): "
        "a database the role may create tables in (PostgreSQL 15+: one it owns)",
    )
    parser.add_argument(
        "--no-edgar",
        dest="edgar",
        action="store_false",
        help="skip the EDGAR load and models at scale (step 6)",
    )
    parser.add_argument(
        "--edgar-filers",
        type=int,
        default=0,
        help="EDGAR filers to load (0, the default: one per stock ticker; about 4,000-6,000 "
        "for an index-sized universe with its delisted names)",
    )
    parser.add_argument("--scratch", help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--out",
        default=str(BENCH_DIR),
        help="where results/<scale>.json and RESULTS.md go (default: benchmarks/)",
    )
    args = parser.parse_args(argv)

    result = run(args)
    out = Path(args.out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    path = out / "results" / f"{args.tickers}x{args.years}y.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    report.write_results_md(out / "RESULTS.md", out / "results")
    log(f"wrote {path} and {out / 'RESULTS.md'}")
    problems = failed(result)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"\nRatios at {args.tickers:,} tickers x {args.years} years:")
    for line in report.ratio_lines(result):
        print("  " + line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
