"""Opening a warehouse file, and what a reader needs to know about it.

Kept apart from ``store.py`` (which imports pandas and the sources) so that reading the
published copy costs only the DuckDB import: ``rotation sql`` answers in a fraction of a
second instead of the seconds pandas and Dagster take to import. ``store.py`` re-exports
everything here, so each of these has one definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from dagster_project.lib.settings import DuckDBSettings

SAMPLE_SOURCE_LABEL = "sample"
"""The ``source`` the sample market writes (``SampleSource.label``, which a unit test
holds equal): spelled out here because importing the sample market costs pandas."""


class WarehouseError(RuntimeError):
    """The warehouse file cannot be used; the message says which file and why."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file (DuckDB: one writer or many readers)."""


def published_path(warehouse: Path) -> Path:
    """Where the read-only copy of a warehouse lives: ``published/`` beside it."""
    return Path(warehouse).parent / "published" / Path(warehouse).name


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, translating DuckDB's lock and corruption errors into plain words."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"{path} does not exist yet: run `rotation build` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(
            str(path), read_only=read_only, config=DuckDBSettings.from_env().config(path)
        )
    except duckdb.IOException as exc:
        message = str(exc)
        # DuckDB's own wording: matching bare "lock" would also match a path like /locks/.
        if "could not set lock" in message.lower():
            raise WarehouseLockedError(
                f"{path} is locked by another process (DuckDB allows one writer or many "
                "readers, not both). Wait for it to finish; to read while a build runs, query "
                f"the published copy with `rotation sql`. DuckDB: {message}"
            ) from exc
        if "not a valid duckdb database file" in message.lower():
            raise WarehouseError(
                f"{path} is not a usable DuckDB file (damaged, or not a database): restore "
                f"it, or build into a new file with --warehouse. DuckDB: {message}"
            ) from exc
        raise WarehouseError(f"{path} cannot be opened: {message}") from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"{path} is not a usable DuckDB file: {exc}") from exc
    try:
        yield con
    finally:
        con.close()


def read_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ``source`` labels of the raw prices: one, since a warehouse holds one source."""
    return [
        r[0] for r in con.execute("SELECT DISTINCT source FROM raw.prices ORDER BY 1").fetchall()
    ]


def is_synthetic(sources: list[str]) -> bool:
    """True when the data is the generated sample market, which must be labelled as such."""
    return SAMPLE_SOURCE_LABEL in sources


def holds_synthetic_data(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a warehouse holds the sample market, for a label beside ad hoc query results.

    A file without ``raw.prices`` (not a built warehouse) holds no sample data: the label
    is a courtesy, so it never turns a query that worked into an error.
    """
    try:
        return is_synthetic(read_sources(con))
    except duckdb.Error:
        return False
