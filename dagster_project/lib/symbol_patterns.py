"""The patterns a ticker symbol and a FRED series id must match, in a module that imports
nothing heavy: the sources check symbols with them (``lib/sources/symbols.py``) and so
does ``rotation claims --file``, which must answer in about a second without pandas."""

import re

TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.=-]{0,14}$")
"""Yahoo symbols: ``SPY``, ``^RUT``, ``BRK-B``, ``BF.B``, ``CL=F``; uppercase, at most 16."""

SERIES_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,39}$")
"""FRED series ids: ``DFF``, ``T10Y2Y``, ``BAMLH0A0HYM2``; uppercase letters, digits, ``_``."""
