"""What range a rate series' values may take, from what the series is (its units).

A rate may be negative (real yields, some foreign policy rates) and reached 20% in 1980;
an index level (VIX, CPI) is positive and not a rate at all. The units come from FRED's
own wording: ``fred_series.yaml`` for the series the project knows, and a files folder's
optional ``rates/series.csv`` for the user's own. A series of unknown units gets bounds no
real series breaks, so it is judged only for absurd values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import yaml

from dagster_project.lib.sources.live.config import FRED_SERIES_FILE


@dataclass(frozen=True)
class SeriesKind:
    name: str
    min_value: float
    max_value: float


RATE = SeriesKind("rate", -20.0, 100.0)
"""Percent: fed funds peaked at 22% (1981), real yields bottomed near -4%; 420 (a rate in
basis points) or -50 is a unit error."""
CHANGE = SeriesKind("percent change", -100.0, 1_000.0)
BASIS_POINTS = SeriesKind("basis points", -2_000.0, 10_000.0)
LEVEL = SeriesKind("index level", 1e-9, 1e7)
INDICATOR = SeriesKind("indicator", 0.0, 1.0)
UNKNOWN = SeriesKind("unknown units", -1e12, 1e12)


def kind_of(units: str | None) -> SeriesKind:
    """The kind of a series from FRED's units text (``Percent``, ``Index 1982-1984=100``...)."""
    text = (units or "").strip().lower()
    if not text:
        return UNKNOWN
    if "change" in text:
        return CHANGE
    if text.startswith("basis point"):
        return BASIS_POINTS
    if text.startswith(("percent", "percentage point")):
        return RATE
    if text.startswith("index") or text == "level":
        return LEVEL
    if text in ("+1 or 0", "binary", "indicator"):
        return INDICATOR
    return UNKNOWN


@functools.cache
def catalog_units() -> dict[str, str]:
    """Units of the series ``fred_series.yaml`` lists or knows."""
    document = yaml.safe_load(FRED_SERIES_FILE.read_text()) or {}
    units = {
        str(e["id"]).upper(): str(e["units"])
        for e in document.get("series") or []
        if isinstance(e, dict) and e.get("units")
    }
    others = document.get("other_known_units") or {}
    units.update({str(k).upper(): str(v) for k, v in others.items()})
    return units


def range_table(series: list[str], units: dict[str, str]) -> pd.DataFrame:
    """One row per series: its units, kind and allowed range (``units`` over the catalog)."""
    known = {**catalog_units(), **units}
    rows = []
    for series_id in series:
        kind = kind_of(known.get(series_id))
        rows.append((series_id, known.get(series_id), kind.name, kind.min_value, kind.max_value))
    return pd.DataFrame(rows, columns=["series_id", "units", "kind", "min_value", "max_value"])
