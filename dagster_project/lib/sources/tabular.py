"""Reading small tables (CSV text, CSV and Parquet files) with errors that point at a line.

The files source and FRED's keyless CSV both hand us tables written by someone else, so
every value is parsed explicitly and the first bad one is reported with where it is:
``prices/SPY.csv line 14: Close 'n/a' is not a number``. Nothing is coerced silently.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources.base import SourceError

ISO_DAY = r"^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$"

MISSING = ("", ".", "nan", "NaN", "null", "NULL")
"""Cells that mean "no value": FRED writes ``.`` or nothing; pandas writes ``nan``."""


class TableError(SourceError):
    """A table cannot be read; the message names the file (or URL) and the line."""


@dataclass(frozen=True)
class Table:
    """Cells as text, as the file had them, and how to name a row of it in an error."""

    cells: pd.DataFrame
    origin: str
    first_line: int
    """Line (CSV) or row (Parquet) number of the first data row: 2 under a CSV header."""
    unit: str = "line"

    def where(self, position: int) -> str:
        return f"{self.origin} {self.unit} {self.first_line + position}"

    def fail(self, position: int, message: str) -> TableError:
        return TableError(f"{self.where(position)}: {message}")


def read_csv_text(text: str, origin: str, allow_no_rows: bool = False) -> Table:
    """A CSV document as text cells; an empty document is an error, not an empty table,
    and so is a header without rows unless ``allow_no_rows`` (an answer for an empty
    window, not a file someone wrote)."""
    if not text.strip():
        raise TableError(f"{origin} is empty")
    try:
        cells = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TableError(f"{origin} is not a readable CSV file: {exc}") from exc
    cells.columns = [str(c).strip() for c in cells.columns]
    if cells.empty and not allow_no_rows:
        raise TableError(f"{origin} has a header but no rows")
    return Table(cells.map(str.strip), origin, first_line=2)


def read_table_file(path: Path, origin: str) -> Table:
    """A ``.csv`` or ``.parquet`` file as text cells (Parquet rows are counted from 1)."""
    if path.suffix.lower() == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise TableError(f"{origin} is not a readable Parquet file: {exc}") from exc
        if frame.empty:
            raise TableError(f"{origin} has no rows")
        if isinstance(frame.index, pd.DatetimeIndex) or frame.index.name:
            frame = frame.reset_index()
        cells = frame.astype(object).where(frame.notna(), "").map(_as_text)
        cells.columns = [str(c).strip() for c in cells.columns]
        return Table(cells, origin, first_line=1, unit="row")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"{origin} is not UTF-8 text: {exc}") from exc
    return read_csv_text(text, origin)


def _as_text(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def pick_column(table: Table, candidates: tuple[str, ...], what: str) -> str:
    """The first of ``candidates`` the table has; else an error listing what it has."""
    for name in candidates:
        if name in table.cells.columns:
            return name
    raise TableError(
        f"{table.origin} has no {what} column (expected {' or '.join(candidates)}; "
        f"found {', '.join(table.cells.columns) or 'none'})"
    )


def dates(table: Table, column: str, optional: bool = False) -> pd.Series:
    """A column of ISO-like dates (``2024-01-02``, optionally with a time) as timestamps.

    Times and time zones are dropped: a row is one trading day or one observation date.
    With ``optional``, missing cells (``MISSING``) are NaT instead of an error.
    """
    values = table.cells[column]
    missing = values.isin(MISSING) if optional else pd.Series(False, index=values.index)
    # "2024-01-02 00:00:00-05:00" is the 2nd wherever it was written: keep the local date.
    local_day = values.str.extract(ISO_DAY, expand=False).fillna(values)
    parsed = pd.to_datetime(local_day.where(~missing), errors="coerce", format="mixed")
    bad = parsed.isna() & ~missing
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        raise table.fail(position, f"{column} {values.iloc[position]!r} is not a date")
    return parsed.dt.normalize()


def numbers(table: Table, column: str, required: bool = False) -> pd.Series:
    """A numeric column; missing cells (``MISSING``) are NaN unless ``required``."""
    values = table.cells[column]
    missing = values.isin(MISSING)
    parsed = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = parsed.isna() & ~missing
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        raise table.fail(position, f"{column} {values.iloc[position]!r} is not a number")
    if required and missing.any():
        position = int(missing.to_numpy().nonzero()[0][0])
        raise table.fail(position, f"{column} is empty")
    return parsed.astype(float)


def unique_dates(table: Table, days: pd.Series, column: str) -> None:
    """Refuse a second row for the same date: which of the two is right is unknowable."""
    repeated = days.duplicated(keep="first")
    if repeated.any():
        position = int(repeated.to_numpy().nonzero()[0][0])
        first = int((days == days.iloc[position]).to_numpy().nonzero()[0][0])
        raise table.fail(
            position,
            f"duplicate {column} {days.iloc[position].date()} (first at {table.where(first)})",
        )
