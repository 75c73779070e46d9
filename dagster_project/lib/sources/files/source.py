"""``FilesSource``: bring-your-own CSV/Parquet files in one folder (``--source files:DIR``).

Layout (documented in the README):

    DIR/prices/<TICKER>.csv|.parquet  Yahoo export layout (Date, Close required)
    DIR/rates/<SERIES_ID>.csv         FRED graph CSV (observation_date, <SERIES_ID>)
    DIR/rates/series.csv              optional: series_id, units[, title] (FRED's units
                                      text: Percent, Index...; the gates' ranges)
    DIR/fundamentals/<TICKER>.csv     period_end, eps [, shares_outstanding, eps_estimate,
                                      report_date]
    DIR/universe.csv                  optional: ticker, name, kind, size, style, sector,
                                      is_magnificent_7

Every file is read and validated the first time any table is asked for, so one bad file
stops the build before a single row is written. ``prices/`` must hold at least one file;
``rates/`` and ``fundamentals/`` may be absent (those tables then stay empty), and there are
never valuation snapshots (no file kind holds them).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources.base import SourceError, Window, empty_frame
from dagster_project.lib.sources.files.readers import (
    SERIES_FILE,
    read_fundamentals,
    read_prices,
    read_rates,
    read_series_units,
)
from dagster_project.lib.sources.files.universe import derive_universe, read_universe_csv
from dagster_project.lib.sources.symbols import checked_series, checked_ticker
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, PRICES, RATES, VALUATION_SNAPSHOTS

PRICE_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class FolderData:
    """Everything a folder holds, parsed: one frame per raw table."""

    universe: pd.DataFrame
    prices: pd.DataFrame
    rates: pd.DataFrame
    fundamentals: pd.DataFrame


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
        return FolderData(
            universe=derive_universe(
                set(price_files) | set(fundamental_files), set(fundamental_files), listed
            ),
            prices=_concat([read_prices(p, t) for t, p in price_files.items()], PRICES),
            rates=_concat([read_rates(p, s) for s, p in rate_files.items()], RATES),
            fundamentals=_concat(
                [read_fundamentals(p, t) for t, p in fundamental_files.items()], FUNDAMENTALS
            ),
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
