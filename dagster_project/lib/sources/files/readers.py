"""One reader per kind of file in a ``files:DIR`` folder, each returning canonical rows.

Every value is parsed explicitly (``tabular``) so a bad file fails with its name and the
line of the first bad value, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.lib.sources import tabular
from dagster_project.lib.sources.fred_csv import fred_rows
from dagster_project.lib.sources.yahoo_layout import OPTIONAL_COLUMNS, as_traded
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS

PRICE_DATE_COLUMNS = ("Date",)
FUNDAMENTAL_NUMBERS = ("eps_estimate", "shares_outstanding")


def read_prices(path: Path, ticker: str) -> pd.DataFrame:
    """``prices/<TICKER>.csv|.parquet`` in Yahoo's export layout, as traded.

    ``Date`` and ``Close`` are required; ``Open, High, Low, Adj Close, Volume, Dividends,
    Stock Splits`` are optional. ``Close`` is read the way Yahoo writes it (adjusted for
    later splits): with a ``Stock Splits`` column the as-traded closes are restored, and a
    file with ``Close`` alone is stored as it is, with no corporate actions.
    """
    table = tabular.read_table_file(path, str(path))
    date_column = tabular.pick_column(table, PRICE_DATE_COLUMNS, "date")
    tabular.pick_column(table, ("Close",), "Close")
    days = tabular.dates(table, date_column)
    tabular.unique_dates(table, days, date_column)
    columns = {"Close": tabular.numbers(table, "Close", required=True)}
    for name in OPTIONAL_COLUMNS:
        if name in table.cells.columns:
            columns[name] = tabular.numbers(table, name)
    yahoo = pd.DataFrame({k: v.to_numpy() for k, v in columns.items()}, index=days.to_numpy())
    return as_traded(yahoo, ticker)


def read_rates(path: Path, series_id: str) -> pd.DataFrame:
    """``rates/<SERIES_ID>.csv`` in FRED's graph CSV layout; missing values are skipped."""
    return fred_rows(tabular.read_table_file(path, str(path)), series_id)


SERIES_FILE = "series.csv"
"""``rates/series.csv``: what each series is (``series_id, units[, title]``), not a series."""


def read_series_units(path: Path) -> dict[str, str]:
    """``rates/series.csv``: FRED's units text per series id (``Percent``, ``Index``)."""
    table = tabular.read_table_file(path, str(path))
    tabular.pick_column(table, ("series_id",), "series_id")
    tabular.pick_column(table, ("units",), "units")
    units: dict[str, str] = {}
    for position, (series_id, text) in enumerate(
        zip(table.cells["series_id"], table.cells["units"], strict=True)
    ):
        series = series_id.strip().upper()
        if not series:
            raise table.fail(position, "series_id is empty")
        if series in units:
            raise table.fail(position, f"{series} is listed twice")
        units[series] = text
    return units


def read_fundamentals(path: Path, ticker: str) -> pd.DataFrame:
    """``fundamentals/<TICKER>.csv``: quarterly ``period_end, eps``; optionally
    ``shares_outstanding, eps_estimate, report_date``."""
    table = tabular.read_table_file(path, str(path))
    tabular.pick_column(table, ("period_end",), "period_end")
    tabular.pick_column(table, ("eps",), "eps")
    period_end = tabular.dates(table, "period_end")
    tabular.unique_dates(table, period_end, "period_end")
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "period_end": period_end,
            "report_date": _optional_dates(table, "report_date"),
            "eps": tabular.numbers(table, "eps", required=True),
            **{
                name: tabular.numbers(table, name) if name in table.cells.columns else float("nan")
                for name in FUNDAMENTAL_NUMBERS
            },
        }
    )
    return frame[list(FUNDAMENTALS.payload)]


def _optional_dates(table: tabular.Table, column: str) -> pd.Series:
    """A date column that may be absent or have empty cells (NaT there)."""
    if column not in table.cells.columns:
        return pd.Series(pd.NaT, index=table.cells.index, dtype="datetime64[ns]")
    return tabular.dates(table, column, optional=True)
