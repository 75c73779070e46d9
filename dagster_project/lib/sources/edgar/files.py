"""EDGAR companyfacts from a folder: ``fundamentals/edgar/`` of the files source.

The folder holds ``CIK##########.json`` files exactly as EDGAR serves them (the members of
SEC's bulk ``companyfacts.zip``) and SEC's ``company_tickers.json`` beside them, which
maps CIKs to tickers. Nothing is renamed or reshaped by hand, so a user can drop SEC's
own downloads in and a test can replay what the live client fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.edgar.companyfacts import FACT_COLUMNS, cik10, parse_companyfacts

COMPANY_TICKERS_FILE = "company_tickers.json"
COMPANYFACTS_FILE = re.compile(r"^CIK(\d{10})\.json$")
TICKER_FACT_COLUMNS = ("ticker", *FACT_COLUMNS)
"""The fact versions with the ticker they load under (the payload of ``raw.edgar_facts``)."""


def companyfacts_file_name(cik: int | str) -> str:
    """``CIK##########.json``: SEC's name for a company's facts, in the bulk zip and the API."""
    return f"CIK{cik10(cik)}.json"


def parse_company_tickers(document: Any, origin: str = COMPANY_TICKERS_FILE) -> pd.DataFrame:
    """SEC's ``company_tickers.json`` (``{"0": {"cik_str", "ticker", "title"}, ...}``) as
    rows ``cik, ticker, title`` in SEC's order.

    A company may list several tickers (share classes: ``BRK-B`` and ``BRK-A``); SEC puts
    the most traded first, and that order is kept.
    """
    if not isinstance(document, Mapping):
        raise SourceError(f"{origin}: not SEC's company_tickers.json (expected an object)")
    rows = []
    for position in sorted(document, key=lambda k: int(k) if str(k).isdigit() else -1):
        entry = document[position]
        if not isinstance(entry, Mapping) or not {"cik_str", "ticker"} <= set(entry):
            raise SourceError(f"{origin}: entry {position!r} lacks cik_str or ticker")
        rows.append((cik10(entry["cik_str"]), str(entry["ticker"]).upper(), entry.get("title")))
    return pd.DataFrame(rows, columns=["cik", "ticker", "title"])


def ticker_by_cik(
    company_tickers: pd.DataFrame, tickers: Iterable[str] | None = None
) -> dict[str, str]:
    """One ticker per CIK: the first SEC lists, among ``tickers`` when given.

    Why one: the facts are the company's, not a share class's, and the raw table's grain is
    per CIK; a universe holding ``GOOG`` but not ``GOOGL`` still gets Alphabet's facts under
    the ticker it knows.
    """
    rows = company_tickers
    if tickers is not None:
        wanted = {t.upper() for t in tickers}
        rows = rows[rows["ticker"].isin(wanted)]
    first = rows.drop_duplicates("cik", keep="first")
    return dict(zip(first["cik"], first["ticker"], strict=True))


def read_json(path: Path) -> Any:
    """A JSON file, or a ``SourceError`` naming the file and what is wrong with it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise SourceError(f"{path}: not valid JSON ({exc})") from None


def read_edgar_dir(
    path: Path | str,
    tickers: Iterable[str] | None = None,
    cik_tickers: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Every fact version in a folder of companyfacts files, with its ticker
    (``TICKER_FACT_COLUMNS``).

    Tickers come from ``cik_tickers`` (CIK -> ticker, e.g. a ``cik`` column of
    ``universe.csv``) when given, else from the folder's ``company_tickers.json``
    (restricted to ``tickers`` when given; see ``ticker_by_cik``). Files of companies with
    no ticker here are skipped: the bulk zip holds every filer, a universe a few hundred.
    A file whose ``cik`` is not the one in its name, or that is not companyfacts JSON, stops
    the read with its path; so does a folder with no file for any ticker.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise SourceError(f"{folder}: no such folder of EDGAR companyfacts files")
    if cik_tickers is None:
        listing = folder / COMPANY_TICKERS_FILE
        if not listing.exists():
            raise SourceError(
                f"{folder}: {COMPANY_TICKERS_FILE} (SEC's ticker list, "
                "https://www.sec.gov/files/company_tickers.json) is missing; it maps each "
                "CIK##########.json to its ticker"
            )
        names = ticker_by_cik(parse_company_tickers(read_json(listing), str(listing)), tickers)
    else:
        names = {cik10(cik): ticker.upper() for cik, ticker in cik_tickers.items()}
    frames = []
    for file in sorted(folder.glob("CIK*.json")):
        match = COMPANYFACTS_FILE.match(file.name)
        if match is None or match.group(1) not in names:
            continue
        document = read_json(file)
        facts = parse_companyfacts(document, origin=str(file))
        if cik10(document["cik"]) != match.group(1):
            raise SourceError(f"{file}: holds the facts of CIK {document['cik']}, not its own")
        frames.append(facts.assign(ticker=names[match.group(1)]))
    if not frames:
        listed = sorted(names.values())
        shown = ", ".join(listed[:5]) + (", ..." if len(listed) > 5 else "")
        raise SourceError(
            f"{folder}: no CIK##########.json file for any of {len(listed)} tickers ({shown})"
        )
    return pd.concat(frames, ignore_index=True)[list(TICKER_FACT_COLUMNS)]


def tickers_with_facts(path: Path | str, tickers: Iterable[str]) -> set[str]:
    """Which of ``tickers`` have a companyfacts file in the folder (through its
    ``company_tickers.json``); empty when the folder or the listing is missing.

    Why: a files source calls a ticker with facts a stock, as it does one with a
    ``fundamentals/<TICKER>.csv``, so a folder of prices plus SEC's files needs no universe.
    """
    folder = Path(path)
    listing = folder / COMPANY_TICKERS_FILE
    if not listing.is_file():
        return set()
    names = ticker_by_cik(parse_company_tickers(read_json(listing), str(listing)), tickers)
    return {t for cik, t in names.items() if (folder / companyfacts_file_name(cik)).is_file()}
