"""The universe of a ``files:DIR`` folder: ``universe.csv`` where given, else derived.

Derived: a ticker listed in ``universe.yaml`` keeps its metadata there (size, style,
sector, Magnificent 7), so a folder of Yahoo exports of the usual tickers gets the usual
baskets; any other ticker is a ``stock`` when it has fundamentals, else an ``etf``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources import tabular
from dagster_project.lib.sources.sample.universe import (
    Instrument,
    instrument_from_entry,
    load_universe,
    universe_frame,
)
from dagster_project.lib.sources.symbols import checked_ticker

UNIVERSE_COLUMNS = ("ticker", "name", "kind", "size", "style", "sector", "is_magnificent_7")
TRUE, FALSE = ("true", "1", "yes", "y", "t"), ("false", "0", "no", "n", "f", "")


def read_universe_csv(path: Path) -> dict[str, Instrument]:
    """``universe.csv`` (``UNIVERSE_COLUMNS``; only ``ticker`` and ``kind`` required),
    validated like ``universe.yaml``: the same kinds, sizes, styles and sectors."""
    table = tabular.read_table_file(path, str(path))
    for required in ("ticker", "kind"):
        tabular.pick_column(table, (required,), required)
    instruments: dict[str, Instrument] = {}
    for position, row in enumerate(table.cells.to_dict("records")):
        entry = {k: (row.get(k) or None) for k in UNIVERSE_COLUMNS}
        flag = (row.get("is_magnificent_7") or "").strip().lower()
        if flag not in TRUE + FALSE:
            raise table.fail(position, f"is_magnificent_7 {flag!r} is not true or false")
        entry["magnificent_7"] = flag in TRUE
        try:
            ticker = checked_ticker(entry["ticker"], table.where(position))
            instrument = instrument_from_entry(entry, position, path)
        except ValueError as exc:
            raise table.fail(position, str(exc)) from exc
        if ticker in instruments:
            raise table.fail(position, f"ticker {ticker} is listed twice")
        instruments[ticker] = instrument
    return instruments


def derive_universe(
    tickers: Iterable[str], with_fundamentals: set[str], listed: dict[str, Instrument]
) -> pd.DataFrame:
    """``raw.universe`` rows for ``tickers``: listed metadata first, then the yaml's, else
    stock-or-etf by whether the ticker has fundamentals."""
    known = {i.ticker: i for i in load_universe()}
    instruments = []
    for slot, ticker in enumerate(sorted(tickers)):
        instrument = listed.get(ticker) or known.get(ticker)
        if instrument is None:
            kind = "stock" if ticker in with_fundamentals else "etf"
            instrument = Instrument(ticker=ticker, name=ticker, kind=kind, slot=slot)
        instruments.append(instrument)
    return universe_frame(instruments)
