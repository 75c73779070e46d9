"""``FilesSource``: bring-your-own CSV/Parquet files in one folder (``--source files:DIR``).

Layout (documented in the README):

    DIR/prices/<TICKER>.csv|.parquet  Yahoo export layout (Date, Close required)
    DIR/rates/<SERIES_ID>.csv         FRED graph CSV (observation_date, <SERIES_ID>)
    DIR/rates/series.csv              optional: series_id, units[, title] (FRED's units
                                      text: Percent, Index...; the gates' ranges)
    DIR/fundamentals/<TICKER>.csv     period_end, eps [, shares_outstanding, eps_estimate,
                                      report_date]
    DIR/fundamentals/edgar/           optional: SEC companyfacts CIK##########.json files
                                      and SEC's company_tickers.json (raw.edgar_facts;
                                      or a cik column in universe.csv)
    DIR/universe.csv                  optional: ticker, name, kind, size, style, sector,
                                      is_magnificent_7
    DIR/holdings/<FUND>[_*].csv       optional: ETF holdings files in iShares' holdings CSV
                                      layout, several dates per fund (raw.etf_holdings)

Every file is read and validated the first time any table is asked for, so one bad file
stops the build before a single row is written. ``prices/`` must hold at least one file;
``rates/`` and ``fundamentals/`` may be absent (those tables then stay empty), and there are
never valuation snapshots (no file kind holds them).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources import tabular
from dagster_project.lib.sources.base import Batch, SourceError, Window, empty_frame
from dagster_project.lib.sources.edgar.companyfacts import cik10
from dagster_project.lib.sources.edgar.files import read_edgar_dir, tickers_with_facts
from dagster_project.lib.sources.files.holdings import HoldingsFile, read_holdings_dir
from dagster_project.lib.sources.files.readers import (
    SERIES_FILE,
    read_fundamentals,
    read_prices,
    read_rates,
    read_series_units,
)
from dagster_project.lib.sources.files.universe import derive_universe, read_universe_csv
from dagster_project.lib.sources.symbols import checked_series, checked_ticker
from dagster_project.lib.warehouse.schemas import (
    EDGAR_FACTS,
    ETF_HOLDINGS,
    FUNDAMENTALS,
    PRICES,
    RATES,
    VALUATION_SNAPSHOTS,
)

PRICE_SUFFIXES = (".csv", ".parquet")
EDGAR_DIR = ("fundamentals", "edgar")
HOLDINGS_DIR = "holdings"


@dataclass(frozen=True)
class FolderData:
    """Everything a folder holds, parsed: one frame per raw table."""

    universe: pd.DataFrame
    prices: pd.DataFrame
    rates: pd.DataFrame
    fundamentals: pd.DataFrame
    holdings: tuple[HoldingsFile, ...] = ()


class FilesSource:
    """Prices, rates and fundamentals read from files in one folder."""

    synthetic = False

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.label = f"files:{self.folder}"

    def __repr__(self) -> str:
        return f"FilesSource({self.folder})"

    def universe(self) -> pd.DataFrame:
        return self._data.universe

    def prices(self, window: Window) -> pd.DataFrame:
        return _inside(self._data.prices, "trade_date", window)

    def rates(self, window: Window) -> pd.DataFrame:
        return _inside(self._data.rates, "obs_date", window)

    def fundamentals(self, window: Window) -> pd.DataFrame:
        return _inside(self._data.fundamentals, "period_end", window)

    def valuation_snapshots(self, as_of: dt.date) -> pd.DataFrame:
        """Always empty: files describe history, not today's quoted valuations."""
        return empty_frame(VALUATION_SNAPSHOTS)

    def etf_holdings(self) -> Batch:
        """Every fund's equity holdings from ``holdings/`` (none without that folder), with
        the rows left out (cash, futures...) counted by asset class."""
        files = self._data.holdings
        skipped = sum((f.dropped for f in files), Counter())
        frame = _concat([f.frame for f in files], ETF_HOLDINGS)
        return Batch(frame=frame, skipped=dict(skipped))

    def edgar_facts(self, tickers: list[str]) -> Batch:
        """Every fact version in ``fundamentals/edgar/`` for ``tickers``; none (and no
        error) without that folder. A ticker with no file there is listed as a failure."""
        folder = self.folder.joinpath(*EDGAR_DIR)
        if not folder.is_dir():
            return Batch(frame=empty_frame(EDGAR_FACTS))
        facts = read_edgar_dir(folder, tickers, self._universe_ciks(tickers))
        missing = sorted(set(tickers) - set(facts["ticker"]))
        reason = f"no companyfacts file for it in {folder}"
        return Batch(
            frame=facts[list(EDGAR_FACTS.payload)], failures=dict.fromkeys(missing, reason)
        )

    def _universe_ciks(self, tickers: list[str]) -> dict[str, str] | None:
        """CIK -> ticker from a ``cik`` column of ``universe.csv`` (for ``tickers``), or
        None to map through the folder's ``company_tickers.json``.

        Why: SEC's list maps today's tickers only; a universe that keeps a renamed or
        delisted company can name its CIK instead.
        """
        path = self.folder / "universe.csv"
        if not path.is_file():
            return None
        table = tabular.read_table_file(path, str(path))
        if "cik" not in table.cells.columns:
            return None
        wanted = set(tickers)
        rows = table.cells[
            table.cells["cik"].ne("") & table.cells["ticker"].str.upper().isin(wanted)
        ]
        return {
            cik10(cik): ticker.upper()
            for cik, ticker in zip(rows["cik"], rows["ticker"], strict=True)
        }

    def series_units(self) -> dict[str, str]:
        """Units per series from ``rates/series.csv``; empty without that file."""
        path = self.folder / "rates" / SERIES_FILE
        return read_series_units(path) if path.is_file() else {}

    def span(self) -> Window:
        """First to last date found in any file: the default window of a files build."""
        days = pd.concat(
            [
                self._data.prices["trade_date"],
                self._data.rates["obs_date"],
                self._data.fundamentals["period_end"],
            ]
        ).dropna()
        return Window(days.min().date(), days.max().date())

    @functools.cached_property
    def _data(self) -> FolderData:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder} is not a folder (from --source files:DIR)")
        price_files = _files(self.folder / "prices", PRICE_SUFFIXES, checked_ticker)
        if not price_files:
            raise SourceError(
                f"{self.folder / 'prices'} has no .csv or .parquet files: a files source needs "
                "at least one prices/<TICKER>.csv (see the README, 'Running on real data')"
            )
        fundamental_files = _files(self.folder / "fundamentals", (".csv",), checked_ticker)
        rate_files = _files(self.folder / "rates", (".csv",), checked_series)
        listed_file = self.folder / "universe.csv"
        listed = read_universe_csv(listed_file) if listed_file.exists() else {}
        with_facts = tickers_with_facts(self.folder.joinpath(*EDGAR_DIR), price_files)
        holdings_dir = self.folder / HOLDINGS_DIR
        holdings = read_holdings_dir(holdings_dir) if holdings_dir.is_dir() else []
        return FolderData(
            universe=derive_universe(
                set(price_files) | set(fundamental_files),
                set(fundamental_files) | with_facts,
                listed,
            ),
            prices=_concat([read_prices(p, t) for t, p in price_files.items()], PRICES),
            rates=_concat([read_rates(p, s) for s, p in rate_files.items()], RATES),
            fundamentals=_concat(
                [read_fundamentals(p, t) for t, p in fundamental_files.items()], FUNDAMENTALS
            ),
            holdings=tuple(holdings),
        )


def _files(folder: Path, suffixes: tuple[str, ...], check) -> dict[str, Path]:
    """Files in ``folder`` by the symbol their name spells (``^RUT.csv`` is ``^RUT``)."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if (
            path.suffix.lower() not in suffixes
            or path.name.startswith(".")
            or path.name.lower() == SERIES_FILE
        ):
            continue
        symbol = check(path.stem.upper(), str(path))
        if symbol in found:
            raise SourceError(f"{found[symbol]} and {path} both hold {symbol}: keep one")
        found[symbol] = path
    return found


def _concat(frames: list[pd.DataFrame], table) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_frame(table)
    return pd.concat(frames, ignore_index=True)[list(table.payload)]


def _inside(frame: pd.DataFrame, column: str, window: Window) -> pd.DataFrame:
    days = pd.to_datetime(frame[column])
    keep = (days >= pd.Timestamp(window.start)) & (days <= pd.Timestamp(window.end))
    return frame[keep].reset_index(drop=True)
