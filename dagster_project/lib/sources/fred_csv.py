"""FRED's graph CSV (``fredgraph.csv``): one date column and one column per series.

Both the live source (FRED's keyless download) and the files source (``rates/*.csv``)
read this format, so it is parsed in one place: ``observation_date`` (older exports say
``DATE``, hand-made files often ``date``), a value column named after the series, and
``.`` or an empty cell for a missing observation, which is skipped.
"""

from __future__ import annotations

import pandas as pd

from dagster_project.lib.sources import tabular
from dagster_project.lib.sources.tabular import Table
from dagster_project.lib.warehouse.schemas import RATES

DATE_COLUMNS = ("observation_date", "DATE", "date")


def fred_rows(table: Table, series_id: str) -> pd.DataFrame:
    """Payload rows of ``raw.rates`` for ``series_id`` from a FRED graph CSV table."""
    date_column = tabular.pick_column(table, DATE_COLUMNS, "date")
    value_column = tabular.pick_column(table, (series_id,), f"{series_id} value")
    days = tabular.dates(table, date_column)
    tabular.unique_dates(table, days, date_column)
    values = tabular.numbers(table, value_column)
    frame = pd.DataFrame({"series_id": series_id, "obs_date": days, "value": values})
    return frame[frame["value"].notna()].reset_index(drop=True)[list(RATES.payload)]


def parse_fred_csv(text: str, series_id: str, origin: str) -> pd.DataFrame:
    """Payload rows of ``raw.rates`` from the text of a FRED graph CSV (FRED's answer for a
    window without observations is a bare header: no rows, not an error)."""
    return fred_rows(tabular.read_csv_text(text, origin, allow_no_rows=True), series_id)
