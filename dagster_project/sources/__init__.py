"""Sources: where raw data comes from. One interface (``base.Source``), one factory."""

from __future__ import annotations

import datetime as dt
import functools

from dagster_project.settings import SAMPLE_END, SAMPLE_START, Settings
from dagster_project.sources.base import Source, SourceError, Window

__all__ = ["Source", "SourceError", "Window", "build_source", "default_window"]


def build_source(settings: Settings) -> Source:
    """The source a build reads, chosen by ``--source`` / ``ROTATION_SOURCE``."""
    span = sample_span(settings)
    return _cached_source(
        settings.source, settings.sample_seed, settings.sample_tickers, span.start, span.end
    )


@functools.lru_cache(maxsize=2)
def _cached_source(
    spec: str, seed: int, tickers: int | None, start: dt.date, end: dt.date
) -> Source:
    # Cached so the assets of one run share one generated sample market.
    if spec == "sample":
        from dagster_project.sources.sample import SampleSource

        return SampleSource(seed=seed, tickers=tickers, start=start, end=end)
    raise SourceError(f"source {spec!r} is not available yet: use --source sample")


def sample_span(settings: Settings) -> Window:
    """The whole history the sample market simulates.

    It depends only on ``--years`` and on ``--end`` when that lies past the default end,
    never on the window being loaded: a narrower ``--start/--end`` re-load must see the very
    same prices as the full build it replaces a piece of.
    """
    end = max(settings.end or SAMPLE_END, SAMPLE_END)
    if settings.sample_years:
        return Window(_years_before(end, settings.sample_years), end)
    return Window(SAMPLE_START, end)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def default_window(settings: Settings) -> Window:
    """The date window a build loads: ``--start``/``--end`` where given, else the whole span."""
    span = sample_span(settings)
    return Window(settings.start or span.start, settings.end or span.end)
