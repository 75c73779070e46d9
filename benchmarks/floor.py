"""Run the floor: ``floor.sql`` in one DuckDB connection, nothing else.

``python -m benchmarks.floor DATA_DIR DB_PATH`` loads the raw Parquet files in DATA_DIR,
computes ``fct_daily_prices``, ``relative_performance`` and ``pe_discount`` into the
DuckDB file DB_PATH (persisted, as the warehouse persists its marts) and prints a JSON
summary (row counts, seconds) on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

from dagster_project.lib.settings import DBT_PROJECT_DIR

FLOOR_SQL = Path(__file__).with_name("floor.sql")
MARTS = ("fct_daily_prices", "relative_performance", "pe_discount")


def floor_script(data_dir: Path, held_out: Path) -> str:
    """floor.sql with its inputs filled in: the data folder, the seeds, and the ticker-days
    the build's gates quarantined (``held_out``, a Parquet file of ticker, trade_date)."""
    return (
        FLOOR_SQL.read_text()
        .replace("{data}", _sql_path(data_dir))
        .replace("{seeds}", _sql_path(DBT_PROJECT_DIR / "seeds"))
        .replace("{held_out}", _sql_path(held_out))
    )


def run_floor(data_dir: Path, db_path: Path, held_out: Path) -> dict:
    db_path = Path(db_path)
    db_path.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    steps = {}
    try:
        # one statement at a time only to report where the time goes
        script = floor_script(Path(data_dir).resolve(), Path(held_out).resolve())
        for statement in con.extract_statements(script):
            began = time.perf_counter()
            con.execute(statement)
            name = _statement_name(str(statement.query))
            steps[name] = round(time.perf_counter() - began, 3)
        rows = {m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in MARTS}
        con.execute("checkpoint")
    finally:
        con.close()
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "statements_seconds": steps,
        "database": str(db_path),
    }


def _statement_name(sql: str) -> str:
    """``create or replace [temp] table NAME``: the words up to the table's name, so each
    statement's time is reported under its own key."""
    words = sql.split()
    end = words.index("table") + 2 if "table" in words[:5] else 5
    return " ".join(words[:end])


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("db_path", type=Path)
    parser.add_argument("held_out", type=Path, help="Parquet: ticker-days the gates held out")
    args = parser.parse_args(argv)
    json.dump(run_floor(args.data_dir, args.db_path, args.held_out), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
