"""Write the sample market a build would load to Parquet, once, for the floor and the peer.

The frames come from the very code path ``rotation build`` uses (``Settings`` ->
``build_source`` -> ``default_window``), so the Parquet files hold, row for row, what the
build's ingest assets write into ``raw.*``. Prices are written chunk by chunk, as the
source yields them, to keep this process small.

It also writes the sample's SEC EDGAR fact versions as EDGAR serves them
(``edgar/CIK##########.json`` and ``company_tickers.json``, ``benchmarks.edgar``): one
filer per stock, or ``--edgar-filers N`` (about 4,000-6,000 for an index-sized universe
with its delisted names).

Run as ``python -m benchmarks.data OUT_DIR --tickers N --years Y [--seed S]
[--edgar-filers N]``; it prints a JSON summary (row counts, span, the last session) on
stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.edgar import write_companyfacts
from dagster_project.lib.settings import Settings
from dagster_project.lib.sources import build_source, default_window
from dagster_project.lib.sources.base import Window, as_batch, frame_chunks

TABLES = ("prices", "fundamentals", "rates", "universe", "valuation_snapshots", "edgar_facts")


def sample_settings(tickers: int, years: int, seed: int = 42) -> Settings:
    """The settings ``rotation build --tickers N --years Y --seed S`` runs with."""
    return Settings(source="sample", sample_tickers=tickers, sample_years=years, sample_seed=seed)


def write_frame(frame: pd.DataFrame, path: Path) -> int:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return len(frame)


def write_prices(source, window: Window, path: Path) -> tuple[int, list[dt.date]]:
    """All prices of the window, one row group per chunk of tickers the source yields (as
    the build's writer inserts them); returns rows and the last two sessions."""
    writer, rows, days = None, 0, set()
    try:
        for frame in frame_chunks(as_batch(source.prices(window)).frame):
            if frame.empty:
                continue
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            rows += len(frame)
            days |= set(pd.to_datetime(frame["trade_date"]).dt.date.unique())
    finally:
        if writer is not None:
            writer.close()
    return rows, sorted(days)[-2:]


def generate(
    out_dir: Path, tickers: int, years: int, seed: int = 42, edgar_filers: int = 0
) -> dict:
    """Write ``<table>.parquet`` for every raw table into ``out_dir`` and the EDGAR
    companyfacts into ``out_dir/edgar`` (``edgar_filers`` 0: one per stock); return a
    summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = sample_settings(tickers, years, seed)
    source = build_source(settings)
    window = default_window(settings)
    prices, last_days = write_prices(source, window, out_dir / "prices.parquet")
    counts = {
        "prices": prices,
        "fundamentals": write_frame(source.fundamentals(window), out_dir / "fundamentals.parquet"),
        "rates": write_frame(source.rates(window), out_dir / "rates.parquet"),
        "universe": write_frame(source.universe(), out_dir / "universe.parquet"),
        "valuation_snapshots": write_frame(
            source.valuation_snapshots(window.end), out_dir / "valuation_snapshots.parquet"
        ),
    }
    universe = source.universe()
    stocks = sorted(universe.loc[universe["kind"] == "stock", "ticker"])
    # raw.edgar_facts as the build's ingest loads it (the universe's stocks), for the
    # floor and the peer; the companyfacts files below are the EDGAR-at-scale input
    edgar_facts = source.edgar_facts(stocks)
    counts["edgar_facts"] = write_frame(edgar_facts, out_dir / "edgar_facts.parquet")
    edgar = write_companyfacts(out_dir / "edgar", edgar_facts, edgar_filers)
    if len(last_days) < 2:
        raise RuntimeError(f"the sample {window} has fewer than two sessions")
    return {
        "tickers": tickers,
        "years": years,
        "seed": seed,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "first_session": _first_session(out_dir / "prices.parquet"),
        "penultimate_session": last_days[0].isoformat(),
        "last_session": last_days[1].isoformat(),
        "rows": counts,
        "edgar": edgar,
    }


def _first_session(path: Path) -> str:
    dates = pq.read_table(path, columns=["trade_date"]).column("trade_date")
    return pa.compute.min(dates).as_py().date().isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tickers", type=int, required=True)
    parser.add_argument("--years", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--edgar-filers", type=int, default=0, help="EDGAR filers to write (0: one per stock)"
    )
    args = parser.parse_args(argv)
    summary = generate(args.out_dir, args.tickers, args.years, args.seed, args.edgar_filers)
    json.dump(summary, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
