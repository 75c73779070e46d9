"""ETF holdings files in iShares' holdings CSV layout: ``holdings/<FUND>[_<anything>].csv``.

An iShares holdings download (``IWM_holdings.csv``) is not a plain CSV: a preamble of
about nine lines (the fund's name, ``Fund Holdings as of,"Jun 28, 2024"``, inception
date, shares outstanding, ``Stock,"-"``...), then the header row ``Ticker,Name,Sector,
Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,Location,Exchange,
Currency,FX Rate,Market Currency,Accrual Date``, the holdings, and after a blank line a
legal footer. Files are read as the site serves them, so a user can drop downloads in.

The fund is the file name up to its first ``_`` (``IWM.csv``, ``IWM_holdings.csv``,
``IWM_2024-06-28.csv`` all hold IWM); the date is the file's own "as of" line, never the
name. Only equity rows are kept: cash, money-market, futures and other derivative rows
are dropped and counted, as are equity rows without a ticker.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.symbols import checked_ticker
from dagster_project.lib.warehouse.schemas import ETF_HOLDINGS

AS_OF_LABEL = "fund holdings as of"
HEADER_FIRST_CELL = "ticker"
EQUITY = "equity"
REQUIRED_COLUMNS = ("Ticker", "Asset Class", "Weight (%)")
SHARES_COLUMNS = ("Quantity", "Shares")
NO_VALUE = ("", "-", "--", "n/a", "N/A")
"""Cells iShares writes for "no value" (an unpriced line, an accrual date of a stock)."""
AS_OF_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%d-%b-%Y", "%m/%d/%Y")
NO_TICKER = "Equity without a ticker"


class HoldingsFileError(SourceError):
    """A holdings file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class HoldingsFile:
    """One file's equity holdings (``ETF_HOLDINGS`` payload) and what was left out."""

    path: Path
    fund: str
    as_of_date: dt.date
    frame: pd.DataFrame
    dropped: Counter = field(default_factory=Counter)
    """Rows left out, by reason: the asset class (``Cash``, ``Futures``...) or
    ``NO_TICKER``."""


def fund_of(path: Path) -> str:
    """The fund a file holds: its name up to the first ``_`` (``IWM_holdings.csv``: IWM)."""
    return checked_ticker(path.stem.split("_", 1)[0].strip().upper(), str(path))


def holdings_ticker(value: str) -> str:
    """iShares' ticker in Yahoo's spelling, the one ``raw.prices`` uses: ``BRK.B`` and
    ``BRK/B`` become ``BRK-B``, so a holding joins its prices."""
    return re.sub(r"[./ ]+", "-", value.strip().upper())


def read_holdings(path: Path) -> HoldingsFile:
    """A holdings file: the preamble's date, the rows under the ``Ticker`` header down to
    the first blank (or one-cell) line, equity rows only.

    Errors name the file and the line: no "Fund Holdings as of" line (or no date on it),
    no ``Ticker`` header, a header without ``Asset Class`` or ``Weight (%)``, a row with
    the wrong number of cells, a weight, market value or quantity that is not a number,
    a ticker that is not a symbol.
    """
    path = Path(path)
    fund = fund_of(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HoldingsFileError(f"{path} is not UTF-8 text: {exc}") from None
    lines = list(csv.reader(text.splitlines()))
    header_at = _header_line(path, lines)
    as_of = _as_of_date(path, lines[:header_at])
    header = [cell.strip() for cell in lines[header_at]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise HoldingsFileError(
            f"{path} line {header_at + 1}: the header has no {', '.join(missing)} column "
            f"(found {', '.join(header)})"
        )
    column = {name: header.index(name) for name in header}
    shares_column = next((c for c in SHARES_COLUMNS if c in column), None)
    rows, dropped = [], Counter()
    for number, cells in enumerate(lines[header_at + 1 :], start=header_at + 2):
        cells = [cell.strip().replace("\xa0", "") for cell in cells]
        if len(cells) <= 1:
            break  # a blank line or the one-cell legal footer: the holdings have ended
        if len(cells) != len(header):
            raise HoldingsFileError(
                f"{path} line {number}: {len(cells)} cells under a header of {len(header)}"
            )
        where = f"{path} line {number}"
        asset_class = cells[column["Asset Class"]]
        ticker = cells[column["Ticker"]]
        if asset_class.lower() != EQUITY:
            dropped[asset_class or "(no asset class)"] += 1
            continue
        if ticker in NO_VALUE:
            dropped[NO_TICKER] += 1
            continue
        rows.append(
            {
                "ticker": _ticker(ticker, where),
                "name": _text(cells, column.get("Name")),
                "sector": _text(cells, column.get("Sector")),
                "asset_class": asset_class,
                "weight": _number(cells[column["Weight (%)"]], "Weight (%)", where, True) / 100,
                "market_value": _number(
                    _cell(cells, column.get("Market Value")), "Market Value", where
                ),
                "shares": _number(_cell(cells, column.get(shares_column)), shares_column, where),
            }
        )
    return HoldingsFile(path, fund, as_of, _frame(rows, fund, as_of), dropped)


def _header_line(path: Path, lines: list[list[str]]) -> int:
    for position, cells in enumerate(lines):
        if cells and cells[0].strip().lower() == HEADER_FIRST_CELL:
            return position
    raise HoldingsFileError(
        f"{path}: no header row starting with Ticker (iShares' layout: "
        "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),...)"
    )


def _as_of_date(path: Path, preamble: list[list[str]]) -> dt.date:
    for position, cells in enumerate(preamble):
        if cells and cells[0].strip().lower() == AS_OF_LABEL:
            value = cells[1].strip() if len(cells) > 1 else ""
            for form in AS_OF_FORMATS:
                try:
                    return dt.datetime.strptime(value, form).date()
                except ValueError:
                    continue
            raise HoldingsFileError(
                f"{path} line {position + 1}: Fund Holdings as of {value!r} is not a date "
                '(expected e.g. "Jun 28, 2024")'
            )
    raise HoldingsFileError(
        f"{path}: no 'Fund Holdings as of' line above the header: the holdings' date is "
        "unknown (iShares' preamble has it on line 2)"
    )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None else ""


def _text(cells: list[str], index: int | None) -> str | None:
    value = _cell(cells, index)
    return None if value in NO_VALUE else value


def _number(value: str, name: str | None, where: str, required: bool = False) -> float:
    """``1,234.50`` as a number; iShares' ``-`` is missing (NaN), an error if required."""
    if value in NO_VALUE:
        if required:
            raise HoldingsFileError(f"{where}: {name} is empty")
        return float("nan")
    try:
        return float(value.replace(",", "").replace("$", "").rstrip("%"))
    except ValueError:
        raise HoldingsFileError(f"{where}: {name} {value!r} is not a number") from None


def _ticker(value: str, where: str) -> str:
    try:
        return checked_ticker(holdings_ticker(value), where)
    except SourceError as exc:
        raise HoldingsFileError(str(exc)) from None


def _frame(rows: list[dict], fund: str, as_of: dt.date) -> pd.DataFrame:
    """The rows as ``ETF_HOLDINGS`` payload; a ticker listed on several lines (a stock
    held in two lots) is one holding, its weight, value and shares summed."""
    columns = [c for c in ETF_HOLDINGS.payload if c not in ("fund", "as_of_date")]
    frame = pd.DataFrame(rows, columns=columns)
    if frame["ticker"].duplicated().any():
        frame = frame.groupby("ticker", as_index=False, sort=False).agg(
            name=("name", "first"),
            sector=("sector", "first"),
            asset_class=("asset_class", "first"),
            weight=("weight", "sum"),
            market_value=("market_value", lambda s: s.sum(min_count=1)),
            shares=("shares", lambda s: s.sum(min_count=1)),
        )
    frame.insert(0, "as_of_date", pd.Timestamp(as_of))
    frame.insert(0, "fund", fund)
    return frame.astype({"weight": float, "market_value": float, "shares": float})[
        list(ETF_HOLDINGS.payload)
    ]


def read_holdings_dir(folder: Path) -> list[HoldingsFile]:
    """Every ``.csv`` in ``holdings/``; two files of one fund with the same date are refused
    (which one is right is unknowable), naming both."""
    files = []
    seen: dict[tuple[str, dt.date], Path] = {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() != ".csv" or path.name.startswith("."):
            continue
        held = read_holdings(path)
        key = (held.fund, held.as_of_date)
        if key in seen:
            raise HoldingsFileError(
                f"{seen[key]} and {path} both hold {held.fund} as of {held.as_of_date}: keep one"
            )
        seen[key] = path
        files.append(held)
    return files
