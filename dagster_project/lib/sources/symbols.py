"""Strict patterns for ticker symbols and FRED series ids.

Symbols end up in URLs (Yahoo's chart path, FRED's query string) and in SQL literals of
downstream tools, so anything that is not plainly a symbol is refused before it gets
there, with the offending value named.
"""

from __future__ import annotations

import re

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.symbol_patterns import SERIES_PATTERN, TICKER_PATTERN

__all__ = ["SERIES_PATTERN", "TICKER_PATTERN", "checked_series", "checked_ticker"]


def checked_ticker(value: object, where: str = "") -> str:
    """The ticker, if it matches ``TICKER_PATTERN``; else a SourceError naming it."""
    return _checked(value, TICKER_PATTERN, "ticker symbol", where)


def checked_series(value: object, where: str = "") -> str:
    """The series id, if it matches ``SERIES_PATTERN``; else a SourceError naming it."""
    return _checked(value, SERIES_PATTERN, "FRED series id", where)


def _checked(value: object, pattern: re.Pattern, what: str, where: str) -> str:
    text = value if isinstance(value, str) else ""
    if not pattern.match(text):
        origin = f" ({where})" if where else ""
        raise SourceError(f"{value!r} is not a valid {what}{origin}: expected {pattern.pattern}")
    return text
