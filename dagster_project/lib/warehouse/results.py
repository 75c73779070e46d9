"""Query results as text: an aligned table for people, CSV and JSON for programs.

Formats DuckDB's own Python values (``cursor.description`` and ``fetchall()``), not a
pandas frame: ``rotation sql`` then imports only DuckDB, and no value goes through
pandas' float dtype, which turns NULL into NaN and large or small numbers into
scientific notation.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import numbers
from collections.abc import Iterable, Sequence

FORMATS = ("table", "csv", "json")

MAX_CELL_WIDTH = 40
"""Widest a table column gets; longer cells end in an ellipsis. Why: one long value (a
column list in ``show all tables``, a claim's text) would otherwise pad every row of the
table to its width, thousands of characters. CSV and JSON are never cut."""

SIGNIFICANT_DECIMALS = 6
"""Decimals a table shows of a float: 6 after the point, and for a number below 1 six
significant digits (0.0000123457), so a small return does not round to 0."""

NULL_TEXT = "NULL"
ELLIPSIS = "…"


def format_result(columns: Sequence[str], rows: Iterable[Sequence], fmt: str = "table") -> str:
    """Render a result (column names, rows of Python values) as ``table``, ``csv`` or ``json``.

    NULL is ``NULL`` in a table, an empty field in CSV and ``null`` in JSON; numbers are
    fixed-point (full precision in CSV and JSON); dates and times are ISO strings.
    """
    rows = [tuple(row) for row in rows]
    if fmt == "csv":
        return _csv(columns, rows)
    if fmt == "json":
        return _json(columns, rows)
    if fmt == "table":
        return _table(columns, rows)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def _table(columns: Sequence[str], rows: list[tuple]) -> str:
    if not rows:
        return "(no rows)"
    cells = [[_cut(_table_text(value)) for value in row] for row in rows]
    header = [_cut(str(name)) for name in columns]
    numeric = [
        all(_is_number(row[i]) for row in rows if row[i] is not None) for i in range(len(header))
    ]
    widths = [max(len(header[i]), *(len(row[i]) for row in cells)) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in cells)])


def _csv(columns: Sequence[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_plain_text(value) for value in row] for row in rows)
    return out.getvalue().rstrip("\n")


def _json(columns: Sequence[str], rows: list[tuple]) -> str:
    """Records, one per line. Written by hand rather than by ``json.dumps`` so that floats
    stay fixed-point (``json`` writes 1e-05) and slashes stay as they are (pandas wrote
    ``IWD\\/IWF``)."""
    if not rows:
        return "[]"
    names = [str(name) for name in columns]
    records = [_json_object(zip(names, row, strict=True)) for row in rows]
    return "[\n  " + ",\n  ".join(records) + "\n]"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _table_text(value) -> str:
    if value is None:
        return NULL_TEXT
    if isinstance(value, float):
        return table_number(value)
    return _plain_text(value).replace("\r", "\\r").replace("\n", "\\n")


def _plain_text(value) -> str:
    """A value as CSV (and a table) shows it: full precision, ISO dates, NULL as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return plain_number(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, bytes):
        return repr(value)[2:-1]
    if isinstance(value, (list, tuple, dict)):
        return _json_value(value)
    return str(value)


def _json_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return plain_number(value) if math.isfinite(value) else "null"
    if isinstance(value, (int, decimal.Decimal)):
        return _plain_text(value)
    if isinstance(value, dict):
        return _json_object(value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_json_value(v) for v in value) + "]"
    if isinstance(value, dt.datetime):
        return json.dumps(value.isoformat())
    return json.dumps(value if isinstance(value, str) else _plain_text(value), ensure_ascii=False)


def _json_object(pairs: Iterable[tuple]) -> str:
    """An object from (key, value) pairs, all of them: a query may name two columns alike."""
    return "{" + ", ".join(f"{_json_value(str(k))}: {_json_value(v)}" for k, v in pairs) + "}"


def plain_number(value: float) -> str:
    """A float in fixed-point at full precision: the shortest digits that read back as the
    same float (Python's repr), without an exponent. 1e-05 -> 0.00001, 1.5e+20 ->
    150000000000000000000.0; NaN and infinities as Python spells them."""
    if not math.isfinite(value):
        return str(value)
    text = format(decimal.Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def table_number(value: float) -> str:
    """A float for people: fixed-point, ``SIGNIFICANT_DECIMALS`` decimals (or significant
    digits below 1), trailing zeros dropped."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = SIGNIFICANT_DECIMALS if magnitude >= 0 else SIGNIFICANT_DECIMALS - 1 - magnitude
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cut(text: str, width: int = MAX_CELL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - len(ELLIPSIS)] + ELLIPSIS
