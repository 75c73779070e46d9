"""Dagster resources: the warehouse file and the source, both built from ``Settings``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from dagster_project.lib.settings import Settings
from dagster_project.lib.sources import Source, Window, build_source, default_window
from dagster_project.lib.sources.base import FrameChunks, HeldPrices
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import RawTable


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file and its published read-only copy.

    A step (or an in-process run: its resources live for the whole run) that uses this
    resource holds the warehouse's writer lock (``wh.writer_lock``) while it runs: DuckDB
    allows one writer per file, so side-by-side runs and parallel steps take turns.
    """

    path: str

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        holder = {"run": context.run_id or "?"}
        if context.dagster_run is not None:
            holder["job"] = context.dagster_run.job_name
        with wh.writer_lock(self.file, holder, context.log.warning):
            yield self

    @property
    def file(self) -> Path:
        return Path(self.path)

    @property
    def published_file(self) -> Path:
        return wh.published_path(self.file)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with wh.connect(self.file, read_only=read_only) as con:
            yield con

    def read_frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).df()

    def replace_window(
        self,
        table: RawTable,
        frame: pd.DataFrame | FrameChunks,
        source_label: str,
        window: Window | None,
        key_windows: Mapping[str, Window] | None = None,
    ) -> wh.WriteResult:
        """Replace the window of ``frame``'s keys in one transaction (``wh.replace_window``);
        a ``FrameChunks`` is written a chunk at a time, so it is never held whole."""
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.connect() as con:
            wh.ensure_raw_schema(con)
            wh.assert_single_source(con, self.file, source_label)
            return wh.replace_window(
                con, table, frame, source_label, window, loaded_at, key_windows
            )

    def append_new_versions(
        self, table: RawTable, frame: pd.DataFrame, source_label: str
    ) -> wh.WriteResult:
        """Insert only the rows whose key the table lacks (``wh.append_new_versions``):
        fact versions accumulate, and nothing held is ever deleted or changed."""
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.connect() as con:
            wh.ensure_raw_schema(con)
            wh.assert_single_source(con, self.file, source_label)
            return wh.append_new_versions(con, table, frame, source_label, loaded_at)

    def assert_single_source(self, source_label: str) -> None:
        """Stop now if the warehouse holds another source's rows: a load checks this before
        it fetches, so a wrong ``--source`` costs no time on the network."""
        with self.connect() as con:
            wh.ensure_raw_schema(con)
            wh.assert_single_source(con, self.file, source_label)

    def held_prices(self, depth: int) -> HeldPrices:
        """What ``raw.prices`` holds (last ``depth`` rows per ticker), for an incremental load."""
        with self.connect() as con:
            wh.ensure_raw_schema(con)
            return wh.held_prices(con, depth)


class ClaimsResource(dg.ConfigurableResource):
    """Where the claims ledger's file is (``--file`` / ``ROTATION_CLAIMS``)."""

    path: str

    @property
    def file(self) -> Path:
        return Path(self.path)


class SourceResource(dg.ConfigurableResource):
    """Which source feeds the warehouse, and the date window a build loads."""

    spec: str = "sample"
    start: str | None = None
    end: str | None = None
    sample_tickers: int | None = None
    sample_years: int | None = None
    sample_seed: int = 42

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceResource:
        return cls(
            spec=settings.source,
            start=settings.start.isoformat() if settings.start else None,
            end=settings.end.isoformat() if settings.end else None,
            sample_tickers=settings.sample_tickers,
            sample_years=settings.sample_years,
            sample_seed=settings.sample_seed,
        )

    def settings(self) -> Settings:
        return Settings(
            source=self.spec,
            start=dt.date.fromisoformat(self.start) if self.start else None,
            end=dt.date.fromisoformat(self.end) if self.end else None,
            sample_tickers=self.sample_tickers,
            sample_years=self.sample_years,
            sample_seed=self.sample_seed,
        )

    def get(self) -> Source:
        return build_source(self.settings())

    def window(self) -> Window:
        return default_window(self.settings())
