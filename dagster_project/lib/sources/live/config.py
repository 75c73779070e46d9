"""What the live source loads and how far back: the FRED series list and fixed knobs."""

from __future__ import annotations

from pathlib import Path

import yaml

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.symbols import checked_series

FRED_SERIES_FILE = Path(__file__).resolve().parents[1] / "fred_series.yaml"

OVERLAP_SESSIONS = 5
"""An incremental price load re-fetches this many of the latest sessions already held, so
Yahoo's late revisions (a corrected close, a dividend booked a day late) are picked up."""

DOWNLOAD_THREADS = 4
"""Chart requests one ``yf.download`` runs at once. yfinance's ``threads=True`` means
twice the CPU count (dozens on a server), a burst Yahoo answers with 429s; a few parallel
requests fetch a universe of hundreds in minutes and stay under its throttling."""

ENV_FRED_API_KEY = "FRED_API_KEY"
"""Read from the environment only, never from a config file, and never stored or logged."""


def load_fred_series(path: Path = FRED_SERIES_FILE) -> tuple[str, ...]:
    """The FRED series ids to load, validated; a missing or empty list is an error."""
    document = yaml.safe_load(Path(path).read_text()) or {}
    entries = document.get("series") or []
    if not entries:
        raise SourceError(f"{path}: expected a non-empty 'series:' list")
    ids = tuple(
        checked_series(e.get("id") if isinstance(e, dict) else e, str(path)) for e in entries
    )
    if len(set(ids)) != len(ids):
        raise SourceError(f"{path}: a series is listed twice")
    return ids
