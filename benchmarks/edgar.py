"""SEC EDGAR at benchmark scale: companyfacts files, their load, the models on top.

The sample source already loads its own quarters as EDGAR fact versions in every build
(one filer per stock). What a real universe adds is scale: SEC's bulk companyfacts.zip
holds every filer, and an index-sized universe with its delisted names means about
4,000-6,000 of them over 25 years. This module

- writes the sample's fact versions as EDGAR serves them (``CIK##########.json`` and
  ``company_tickers.json``, the files source's ``fundamentals/edgar/`` layout), one
  filer per stock, or ``filers`` filers: the stocks' facts cloned under further CIKs
  and tickers (same shape and history, so the load scales linearly, as real filers do);
- ``load``s such a folder into ``raw.edgar_facts`` of a warehouse through the one
  writer (``store.append_new_versions``), the files source's reader doing the parsing:
  what ``rotation build --source files:DIR`` does for that table.

``python -m benchmarks.edgar load WAREHOUSE FOLDER [--label L]`` prints a JSON summary.
The harness (``run.py``) runs it on a copy of the built warehouse, measured, then times
dbt on the EDGAR models and ``stock_valuation_daily`` over the loaded facts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources.edgar.companyfacts import cik10
from dagster_project.lib.sources.edgar.files import (
    COMPANY_TICKERS_FILE,
    companyfacts_file_name,
    read_edgar_dir,
)
from dagster_project.lib.warehouse.connection import connect
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS
from dagster_project.lib.warehouse.store import append_new_versions, ensure_raw_schema

EXTRA_CIK_BASE = 6_000_000_000
"""CIKs of the cloned filers start here: above the sample's own and any real one."""

MODELS = (
    "stg_edgar__facts",
    "int_edgar_companies",
    "int_edgar_net_income_quarterly",
    "int_edgar_shares_outstanding",
    "int_edgar_ttm_earnings",
    "stock_valuation_daily",
)
"""What the EDGAR facts feed: the staging view, the EDGAR intermediate models (views,
computed inside the table that reads them) and the per-stock valuation mart."""

ENTRY_FIELDS = ("start", "end", "val", "accn", "fy", "fp", "form", "filed", "frame")


def companyfacts_document(cik: str, name: str, facts: pd.DataFrame) -> dict:
    """One company's fact versions (``raw.edgar_facts`` payload rows) as EDGAR's
    companyfacts JSON: ``facts > taxonomy > concept > units > unit > [entries]``."""
    entries = pd.DataFrame(
        {
            "start": facts["period_start"].dt.strftime("%Y-%m-%d"),
            "end": facts["period_end"].dt.strftime("%Y-%m-%d"),
            "val": facts["value"],
            "accn": facts["accn"],
            "fy": facts["fy"],
            "fp": facts["fp"],
            "form": facts["form"],
            "filed": facts["filed"].dt.strftime("%Y-%m-%d"),
            "frame": facts["frame"],
        }
    )
    document: dict = {"cik": int(cik), "entityName": name, "facts": {}}
    keys = facts[["taxonomy", "concept", "unit"]]
    for (taxonomy, concept, unit), rows in entries.groupby(
        [keys["taxonomy"], keys["concept"], keys["unit"]], sort=True
    ):
        listed = [
            {k: v for k, v in record.items() if v is not None and not pd.isna(v)}
            for record in rows.astype(object).to_dict("records")
        ]
        for record in listed:
            if isinstance(record["val"], float) and record["val"].is_integer():
                record["val"] = int(record["val"])  # EDGAR writes whole dollars as integers
            if "fy" in record:
                record["fy"] = int(record["fy"])
        units = document["facts"].setdefault(taxonomy, {}).setdefault(concept, {"units": {}})
        units["label"] = concept
        units["units"][unit] = listed
    return document


def filer_facts(facts: pd.DataFrame, filers: int) -> list[tuple[str, str, pd.DataFrame]]:
    """``(cik, ticker, facts)`` per filer: each stock's own, then (up to ``filers``) clones
    of the stocks' facts in turn under new CIKs and tickers (``F000001``...)."""
    own = [(cik, rows["ticker"].iloc[0], rows) for cik, rows in facts.groupby("cik", sort=True)]
    out = list(own)
    for number in range(len(own), max(filers, len(own))):
        cik, _ticker, rows = own[number % len(own)]
        new_cik = cik10(EXTRA_CIK_BASE + number)
        clone = rows.assign(
            cik=new_cik,
            ticker=f"F{number:06d}",
            accn=rows["accn"].str.replace(cik, new_cik, regex=False),
        )
        out.append((new_cik, f"F{number:06d}", clone))
    return out


def write_companyfacts(folder: Path, facts: pd.DataFrame, filers: int = 0) -> dict:
    """``folder/CIK##########.json`` per filer and SEC's ``company_tickers.json``; returns
    counts (filers, fact versions, bytes). ``filers`` 0: one per stock in ``facts``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    listing, versions, size = {}, 0, 0
    for position, (cik, ticker, rows) in enumerate(filer_facts(facts, filers)):
        path = folder / companyfacts_file_name(cik)
        path.write_text(json.dumps(companyfacts_document(cik, f"{ticker} (sample)", rows)))
        listing[str(position)] = {"cik_str": int(cik), "ticker": ticker, "title": ticker}
        versions += len(rows)
        size += path.stat().st_size
    (folder / COMPANY_TICKERS_FILE).write_text(json.dumps(listing))
    return {"filers": len(listing), "fact_versions": versions, "bytes": size}


def load(warehouse: Path, folder: Path, label: str) -> dict:
    """Every companyfacts file of ``folder`` appended to ``raw.edgar_facts`` (emptied
    first, so this is a first load at that scale) through the one writer."""
    started = dt.datetime.now()
    facts = read_edgar_dir(folder)
    read_seconds = (dt.datetime.now() - started).total_seconds()
    with connect(warehouse) as con:
        ensure_raw_schema(con)
        con.execute(f"DELETE FROM {EDGAR_FACTS.qualified_name}")
        result = append_new_versions(
            con, EDGAR_FACTS, facts[list(EDGAR_FACTS.payload)], label, dt.datetime.now()
        )
    return {
        "rows_read": len(facts),
        "rows_inserted": result.rows_inserted,
        "filers": int(facts["cik"].nunique()),
        "read_seconds": round(read_seconds, 2),
        "write_seconds": round((dt.datetime.now() - started).total_seconds() - read_seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.edgar", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load", help="load a companyfacts folder into raw.edgar_facts")
    loading.add_argument("warehouse", type=Path)
    loading.add_argument("folder", type=Path)
    loading.add_argument("--label", default="sample", help="the warehouse's source label")
    args = parser.parse_args(argv)
    json.dump(load(args.warehouse, args.folder, args.label), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
