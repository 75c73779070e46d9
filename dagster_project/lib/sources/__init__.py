"""Sources: where raw data comes from. One interface (``base.Source``), one factory."""

from __future__ import annotations

import datetime as dt
import functools
import gc
from pathlib import Path

from dagster_project.lib.settings import Settings
from dagster_project.lib.sources.base import Source, SourceError, Window

__all__ = ["Source", "SourceError", "Window", "build_source", "default_window"]

FILES_PREFIX = "files:"


def build_source(settings: Settings) -> Source:
    """The source a build reads, chosen by ``--source`` / ``ROTATION_SOURCE``."""
    spec = settings.source
    if spec == "sample":
        span = sample_span(settings)
        return _cached_sample(settings.sample_seed, settings.sample_tickers, span.start, span.end)
    if spec == "live":
        from dagster_project.lib.sources.live import LiveSource

        return LiveSource()
    if spec.startswith(FILES_PREFIX):
        folder = files_dir(spec)
        return _cached_files(folder, folder_signature(folder))
    raise SourceError(f"source {spec!r} is not a source: use sample, live or files:DIR")


@functools.lru_cache(maxsize=2)
def _cached_sample(seed: int, tickers: int | None, start: dt.date, end: dt.date) -> Source:
    # Cached so the assets of one run share one generated sample market. The live and
    # files sources are not: they must see today's market and today's files.
    from dagster_project.lib.sources.sample import SampleSource

    return SampleSource(seed=seed, tickers=tickers, start=start, end=end)


def release_cached_sources() -> None:
    """Drop the cached sample market (and parsed folders) once the raw loads are done.

    Why: the rest of a run (dbt, publish) never reads the source, and whatever a source
    keeps (the sample: factor paths, fundamentals and rates, tens of MB since its prices
    are simulated per load in chunks; a parsed folder: all its files) would otherwise sit
    in the Dagster process while dbt's own DuckDB works beside it. A later load rebuilds it.
    """
    _cached_sample.cache_clear()
    _cached_files.cache_clear()
    gc.collect()


@functools.lru_cache(maxsize=2)
def _cached_files(folder: Path, signature: tuple) -> Source:
    # Keyed by the files' names, sizes and times: the assets of one run (and the window)
    # parse a folder once, and any edited file is read afresh.
    from dagster_project.lib.sources.files import FilesSource

    return FilesSource(folder)


def folder_signature(folder: Path) -> tuple:
    """Name, size and modification time of every file under ``folder`` (empty if none)."""
    if not folder.is_dir():
        return ()
    return tuple(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )


def files_dir(spec: str) -> Path:
    """The absolute folder of a ``files:DIR`` spec (relative to the working directory)."""
    raw = spec[len(FILES_PREFIX) :].strip()
    if not raw:
        raise SourceError("--source files:DIR needs a folder, e.g. files:./my-data")
    return Path(raw).expanduser().resolve()


def sample_span(settings: Settings) -> Window:
    """The whole history the sample market simulates.

    It depends only on ``--years`` and on ``--end`` when that lies past the default end,
    never on the window being loaded: a narrower ``--start/--end`` re-load must see the very
    same prices as the full build it replaces a piece of. The start is ``--years`` before
    the default end even when ``--end`` goes past it: the simulation starts every path at
    its first session, so a start that moved with ``--end`` (a nightly after the default
    end) would shift every price and the new day would not continue the history held.
    """
    from dagster_project.lib.sources.sample.generator import (
        DEFAULT_END,
        DEFAULT_START,
        years_before,
    )

    end = max(settings.end or DEFAULT_END, DEFAULT_END)
    if settings.sample_years:
        return Window(years_before(DEFAULT_END, settings.sample_years), end)
    return Window(DEFAULT_START, end)


def default_window(settings: Settings) -> Window:
    """The date window a build loads: ``--start``/``--end`` where given, else the source's.

    sample: its whole simulated span. live: from 1990-01-02 to today (each ticker then
    loads only what the warehouse lacks). files: the span the files cover.
    """
    if settings.source == "live":
        from dagster_project.lib.calendar import HISTORY_START

        span = Window(HISTORY_START, max(dt.date.today(), HISTORY_START))
    elif settings.source.startswith(FILES_PREFIX):
        span = build_source(settings).span()
    else:
        span = sample_span(settings)
    start, end = settings.start or span.start, settings.end or span.end
    if end < start:
        raise SourceError(f"the window {start}..{end} is empty: --end is before --start")
    return Window(start, end)
