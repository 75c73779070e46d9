"""Strict patterns for ticker symbols and FRED series ids.

Symbols end up in URLs (Yahoo's chart path, FRED's query string) and in SQL literals of
downstream tools, so anything that is not plainly a symbol is refused before it gets
there, with the offending value named.
"""

from __future__ import annotations

import re

from dagster_project.lib.sources.base import SourceError

TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.=-]{0,14}$")
"""Yahoo symbols: ``SPY``, ``^RUT``, ``BRK-B``, ``BF.B``, ``CL=F``; uppercase, at most 16."""

SERIES_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,39}$")
"""FRED series ids: ``DFF``, ``T10Y2Y``, ``BAMLH0A0HYM2``; uppercase letters, digits, ``_``."""


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
