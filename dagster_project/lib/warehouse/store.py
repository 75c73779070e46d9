"""The one writer of raw data, and the published read-only copy.

DuckDB allows one writer or many readers per file, never both, so every write goes
through here: open, replace a window in one transaction, close. Readers use the
published copy, which is swapped in atomically after each successful build.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.lib.sources.base import FrameChunks, HeldPrices, Window, frame_chunks
from dagster_project.lib.warehouse.connection import (  # noqa: F401 - re-exported, one definition
    WarehouseError,
    WarehouseLockedError,
    connect,
    published_path,
)
from dagster_project.lib.warehouse.schemas import (
    AUDIT_TABLES,
    FUNDAMENTALS,
    QUALITY_WATERMARKS,
    QUARANTINE,
    RAW_TABLES,
    VALUATION_SNAPSHOTS,
    AuditTable,
    RawTable,
)


class MixedSourceError(WarehouseError):
    """A build would mix data from two sources in one warehouse."""


class SchemaMismatchError(WarehouseError):
    """A source returned a frame that does not match the canonical raw schema."""


@dataclass(frozen=True)
class WriteResult:
    table: str
    rows_deleted: int
    rows_inserted: int
    keys: int


LOCK_WAIT_REPORT_SECONDS = 30.0
"""How often a build waiting for another writer says again what it waits for."""


def lock_path(warehouse: Path) -> Path:
    return Path(warehouse).with_name(Path(warehouse).name + ".writer.lock")


@contextmanager
def writer_lock(
    warehouse: Path, holder: Mapping[str, str], on_wait: Callable[[str], None]
) -> Iterator[None]:
    """Hold the warehouse's writer lock (an OS ``flock`` on ``<file>.writer.lock``).

    Why an OS lock and not a Dagster pool slot: the kernel releases it the moment its
    process ends, however it ends (kill -9, a closed terminal, a laptop that slept), so a
    crashed build never blocks the next one; it is per warehouse file, not per instance;
    and it works the same on any Dagster instance. A build that has to wait is told who
    holds the lock and since when (the holder's description is written into the file),
    every ``LOCK_WAIT_REPORT_SECONDS``. Signals interrupt the wait (it polls).
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held until the block ends
    try:
        waited_since = reported = None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                waited_since = waited_since or now
                if reported is None or now - reported >= LOCK_WAIT_REPORT_SECONDS:
                    on_wait(_waiting_message(path, warehouse, now - waited_since))
                    reported = now
                time.sleep(0.2)
        if waited_since is not None:
            on_wait(f"{warehouse}: the other writer finished; going on")
        handle.seek(0)
        handle.truncate()
        record = {
            **holder,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        handle.write(json.dumps(record))
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _waiting_message(path: Path, warehouse: Path, waited: float) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    who = ", ".join(f"{k} {v}" for k, v in holder.items() if k not in ("since",)) or "unknown"
    since = holder.get("since", "an unknown time")
    return (
        f"waiting for the writer of {warehouse} ({who}; writing since {since}); "
        f"waited {waited:.0f}s so far. DuckDB allows one writer per file."
    )


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables if they are missing (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in (*RAW_TABLES.values(), *AUDIT_TABLES.values()):
        con.execute(table.ddl())
    for table in AUDIT_TABLES.values():
        add_missing_columns(con, table)


def add_missing_columns(con: duckdb.DuckDBPyConnection, table: AuditTable) -> None:
    """Add the columns a newer version of an audit table has (nullable, so the rows an
    older version wrote stay as they were)."""
    held = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ?",
            [table.name],
        ).fetchall()
    }
    for name, dtype in table.columns.items():
        if name not in held:
            plain = dtype.replace("NOT NULL", "").strip()
            con.execute(f"ALTER TABLE {table.qualified_name} ADD COLUMN {name} {plain}")


def foreign_sources(con: duckdb.DuckDBPyConnection, source_label: str) -> dict[str, list[str]]:
    """Which raw tables hold rows from a source other than ``source_label``."""
    found: dict[str, list[str]] = {}
    for table in RAW_TABLES.values():
        rows = con.execute(
            f"SELECT DISTINCT source FROM {table.qualified_name} WHERE source <> ? ORDER BY 1",
            [source_label],
        ).fetchall()
        if rows:
            found[table.qualified_name] = [r[0] for r in rows]
    return found


def assert_single_source(con: duckdb.DuckDBPyConnection, path: Path, source_label: str) -> None:
    """Refuse to feed a warehouse from a second source: mixed data would be silently wrong."""
    others = foreign_sources(con, source_label)
    if others:
        held = sorted({s for sources in others.values() for s in sources})
        raise MixedSourceError(
            f"{path} already holds data from source {', '.join(held)} "
            f"(in {', '.join(others)}); this build uses source {source_label!r}. "
            "Build into another file with --warehouse PATH, or delete this one to start over."
        )


def conform(frame: pd.DataFrame, table: RawTable, source_label: str) -> pd.DataFrame:
    """Check a source frame against the canonical schema and put its columns in order."""
    expected = list(table.payload)
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        raise SchemaMismatchError(
            f"source {source_label!r} returned {table.qualified_name} columns that do not match "
            f"the raw schema: missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    return frame[expected]


def replace_window(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    frame: pd.DataFrame | FrameChunks,
    source_label: str,
    window: Window | None,
    loaded_at: dt.datetime,
    key_windows: Mapping[str, Window] | None = None,
) -> WriteResult:
    """Replace exactly the window held for the frame's keys, in one transaction.

    Scope of the replacement: the rows whose first key column (ticker, series) appears in
    the frame and whose date lies inside that key's window: its entry in ``key_windows``
    (an incremental load replaces a different span per ticker) or else ``window``. A key
    the source could not fetch keeps its rows, and a re-run of the same window never
    duplicates anything. ``window=None`` without ``key_windows`` replaces all the rows of
    the frame's keys (tables without dates, like the universe).

    ``frame`` may be a ``FrameChunks``: each chunk is checked and inserted in turn, inside
    the same transaction, so the whole load never sits in memory at once and a failure in
    any chunk (or a crash) leaves the table as it was. A key's window is cleared when the
    key first appears, before any of its rows go in, so chunks may share keys.
    """
    seen: set = set()
    deleted = inserted = 0
    con.execute("BEGIN TRANSACTION")
    try:
        try:
            for chunk in frame_chunks(frame):
                chunk_deleted, chunk_inserted = _replace_chunk(
                    con, table, chunk, source_label, window, loaded_at, key_windows or {}, seen
                )
                deleted, inserted = deleted + chunk_deleted, inserted + chunk_inserted
                del chunk  # free it before the next chunk is made, not after
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        # After the transaction ends: DuckDB refuses even this inside an aborted one.
        con.unregister("incoming_keys")
        con.unregister("incoming_scopes")
    return WriteResult(table.qualified_name, deleted, inserted, len(seen))


def _replace_chunk(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    chunk: pd.DataFrame,
    source_label: str,
    window: Window | None,
    loaded_at: dt.datetime,
    key_windows: Mapping[str, Window],
    seen: set,
) -> tuple[int, int]:
    """Clear the scope of the chunk's keys not seen in earlier chunks, insert the chunk.

    Runs inside ``replace_window``'s transaction; adds the new keys to ``seen``. Returns
    (rows deleted, rows inserted).
    """
    chunk = conform(chunk, table, source_label)
    entity = table.key[0]
    keys = pd.Series(pd.unique(chunk[entity]), dtype="str")
    new_keys = keys[~keys.isin(seen)]
    scopes = key_scopes(keys, window, key_windows) if table.date_column else None
    if scopes is not None and len(chunk):
        check_inside_scopes(chunk, table, scopes, source_label)
    new_scopes = None if scopes is None else scopes[scopes["entity"].isin(set(new_keys))]
    # The small key frames are registered (and unregistered after the transaction); the
    # chunk is not: a view registered inside a transaction keeps its frame alive until
    # the transaction ends, even once replaced, which would hold the whole load in memory
    # until the commit. A relation over the chunk is freed with it.
    con.register("incoming_keys", pd.DataFrame({"entity": new_keys}))
    if new_scopes is not None:
        con.register("incoming_scopes", new_scopes)
    deleted = con.execute(*_delete_statement(table, new_scopes)).fetchone()[0]
    # Straight from the frame: a staging copy of a full history load would double the
    # peak memory of the largest step. (A relation's query takes no parameters.)
    con.from_df(chunk).query(
        "incoming_frame",
        f"INSERT INTO {table.qualified_name} BY NAME SELECT *, "
        f"{sql_string(source_label)}::VARCHAR AS source, "
        f"{sql_string(loaded_at.isoformat(sep=' '))}::TIMESTAMP AS loaded_at FROM incoming_frame",
    ).fetchall()
    seen.update(new_keys.dropna())
    return int(deleted), len(chunk)


def append_new_versions(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    frame: pd.DataFrame,
    source_label: str,
    loaded_at: dt.datetime,
) -> WriteResult:
    """Insert the rows that are new versions; never delete or update.

    Why append-only: a table of versions must keep every version it ever saw, so any past
    day can be replayed with what was public then. A later answer that is partial (a ticker
    that failed, a provider that dropped an old filing or quarter) must not erase what an
    earlier one delivered, and a re-run of the same answer adds nothing.

    What counts as new depends on the table. In ``raw.edgar_facts`` the key names the
    version itself (a filing's ``accn``): a row is new when its key is not held. In the
    tables of ``RESTATABLE_TABLES`` the key names a thing whose figures may change (a
    ticker's quarter, a day's valuation): a row is a new version when its key is not held
    or any payload column differs from the latest held version of its key (latest by
    ``loaded_at``, which is then the version's fetch time). Keys and payloads compare with
    ``IS NOT DISTINCT FROM`` (an instant fact's NULL ``period_start`` is part of its key, a
    NULL figure equals a NULL figure); duplicates inside the frame collapse to their first
    row. One transaction. ``WriteResult.keys`` counts the first-key values (tickers, CIKs)
    that got new rows.
    """
    frame = conform(frame, table, source_label).drop_duplicates(list(table.key), keep="first")
    typed = ", ".join(
        f"CAST({c} AS {dtype.replace('NOT NULL', '').strip()}) AS {c}"
        for c, dtype in table.payload.items()
    )
    compared = table.payload if table.name in RESTATABLE_TABLES else table.key
    matches = " AND ".join(f"held.{c} IS NOT DISTINCT FROM incoming.{c}" for c in compared)
    held = _latest_versions_sql(table) if table.name in RESTATABLE_TABLES else table.qualified_name
    new_rows = (
        f"FROM (SELECT {typed} FROM incoming_versions) AS incoming WHERE NOT EXISTS "
        f"(SELECT 1 FROM {held} AS held WHERE {matches})"
    )
    relation = con.from_df(frame)
    con.execute("BEGIN TRANSACTION")
    try:
        keys = relation.query(
            "incoming_versions", f"SELECT count(DISTINCT incoming.{table.key[0]}) {new_rows}"
        ).fetchall()[0][0]
        inserted = relation.query(
            "incoming_versions",
            f"INSERT INTO {table.qualified_name} BY NAME "
            f"SELECT incoming.*, {sql_string(source_label)}::VARCHAR AS source, "
            f"{sql_string(loaded_at.isoformat(sep=' '))}::TIMESTAMP AS loaded_at {new_rows}",
        ).fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return WriteResult(table.qualified_name, 0, int(inserted), int(keys))


RESTATABLE_TABLES = frozenset({FUNDAMENTALS.name, VALUATION_SNAPSHOTS.name})
"""Append-only tables whose key names a thing, not a version (``append_new_versions``):
a fetch adds a version of a key when its figures differ from the latest held one, and
``loaded_at`` (the load that fetched it) tells the versions apart and orders them."""


def _latest_versions_sql(table: RawTable, where: str = "") -> str:
    """A subquery: the latest held version (by ``loaded_at``) of every key of ``table``
    (of the rows ``where`` keeps)."""
    keys = ", ".join(table.key)
    return (
        f"(SELECT * FROM {table.qualified_name} {where} QUALIFY row_number() OVER "
        f"(PARTITION BY {keys} ORDER BY loaded_at DESC) = 1)"
    )


def latest_versions(
    con: duckdb.DuckDBPyConnection, table: RawTable, entities: list[str]
) -> pd.DataFrame:
    """The latest held version of every key of ``entities`` (tickers) in a restatable table:
    what a new answer is judged against (``lib.warehouse.versions.partial_answers``)."""
    latest = _latest_versions_sql(table, f"WHERE {table.key[0]} IN (SELECT unnest(?::VARCHAR[]))")
    columns = ", ".join([*table.payload, "loaded_at"])
    return con.execute(
        f"SELECT {columns} FROM {latest} AS latest ORDER BY {', '.join(table.key)}",
        [list(entities)],
    ).df()


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _delete_statement(table: RawTable, scopes: pd.DataFrame | None) -> tuple[str, list]:
    """The DELETE that clears what the incoming rows replace.

    The overall date bounds are repeated as a plain range so DuckDB can skip whole row
    groups by their min/max before joining the per-key windows (seconds to milliseconds
    on millions of rows).
    """
    name, entity, day = table.qualified_name, table.key[0], table.date_column
    if scopes is None:
        return (
            f"DELETE FROM {name} WHERE {entity} IN (SELECT entity FROM incoming_keys)",
            [],
        )
    if scopes.empty:
        return f"DELETE FROM {name} WHERE false", []
    return (
        f"DELETE FROM {name} USING incoming_scopes AS s "
        f"WHERE {name}.{day} BETWEEN ? AND ? AND s.entity = {name}.{entity} "
        f"AND {name}.{day} BETWEEN s.first_date AND s.last_date",
        [scopes["first_date"].min().date(), scopes["last_date"].max().date()],
    )


def key_scopes(
    keys: pd.Series, window: Window | None, key_windows: Mapping[str, Window]
) -> pd.DataFrame | None:
    """One row per key in the frame: the date span its rows replace.

    None when neither a window nor per-key windows bound the load: then every row of the
    frame's keys is replaced. A key without a window of its own takes ``window``; a key
    with neither is refused, because replacing "everything" for one ticker of an
    incremental load would silently drop its history.
    """
    if window is None and not key_windows:
        return None
    rows = []
    for key in pd.unique(keys):
        scope = key_windows.get(key, window)
        if scope is None:
            raise SchemaMismatchError(f"no window to replace for {key!r}")
        rows.append((key, scope.start, scope.end))
    return pd.DataFrame(rows, columns=["entity", "first_date", "last_date"]).astype(
        {"entity": "str", "first_date": "datetime64[ns]", "last_date": "datetime64[ns]"}
    )


def check_inside_scopes(
    frame: pd.DataFrame, table: RawTable, scopes: pd.DataFrame, source_label: str
) -> None:
    """Refuse rows dated outside their key's window: they would survive the next reload."""
    entity = table.key[0]
    bounds = scopes.set_index("entity")
    dates = pd.to_datetime(frame[table.date_column])
    if scopes["first_date"].nunique() == 1 and scopes["last_date"].nunique() == 1:
        # One window for every key (a full or nightly load): no per-row lookup needed,
        # which on 19M rows saves seconds of mapping ticker strings.
        first, last = scopes["first_date"].iloc[0], scopes["last_date"].iloc[0]
    else:
        first = frame[entity].map(bounds["first_date"])
        last = frame[entity].map(bounds["last_date"])
    outside = frame[(dates < first) | (dates > last)]
    if len(outside):
        row = outside.iloc[0]
        scope = bounds.loc[row[entity]]
        raise SchemaMismatchError(
            f"source {source_label!r} returned {len(outside)} {table.qualified_name} rows "
            f"outside the window {scope['first_date'].date()}..{scope['last_date'].date()}, "
            f"e.g. {row[entity]} on {row[table.date_column]}"
        )


HELD_PRICES_SQL = """
SELECT ticker, trade_date, close, dividends, splits
FROM raw.prices
QUALIFY row_number() OVER (PARTITION BY ticker ORDER BY trade_date DESC) <= ?
ORDER BY ticker, trade_date
"""


def held_prices(con: duckdb.DuckDBPyConnection, depth: int) -> HeldPrices:
    """The last ``depth`` rows of every ticker in ``raw.prices``, for incremental loads."""
    return HeldPrices(con.execute(HELD_PRICES_SQL, [depth]).df())


def replace_table(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    frame: pd.DataFrame,
    source_label: str,
    loaded_at: dt.datetime,
) -> int:
    """Replace a small reference table whole, in one transaction (e.g. the claims ledger).

    Unlike source data, such a table is defined entirely by one file, so a claim removed
    from the file must disappear from the table too.
    """
    frame = conform(frame, table, source_label)
    con.register("incoming_table", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM {table.qualified_name}")
            con.execute(
                f"INSERT INTO {table.qualified_name} BY NAME "
                "SELECT *, ?::VARCHAR AS source, ?::TIMESTAMP AS loaded_at FROM incoming_table",
                [source_label, loaded_at],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("incoming_table")
    return len(frame)


FINDING_COLUMNS = ["table_name", "key", "obs_date", "rule", "action", "value"]
"""What a quality gate reports per flagged row (``quality.anomalies``)."""


@dataclass(frozen=True)
class Reconciled:
    opened: int
    resolved: int
    open_quarantined: int
    """Rows of the table now kept out of the marts (open entries with action quarantine)."""


def reconcile_findings(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    findings: pd.DataFrame,
    scope_sql: str,
    scope_params: list,
    run_id: str,
    detected_at: dt.datetime,
) -> Reconciled:
    """Bring ``raw.quarantine`` in step with what a gate found in its scope, in one
    transaction.

    ``findings`` has FINDING_COLUMNS; ``scope_sql`` is a predicate over the entry columns
    (``q.obs_date``, ``q.rule``...) true for the entries the gate judged again this time.
    A finding without an open entry opens one; an open entry in scope that the gate no
    longer finds is resolved (the source corrected the row, or the next session showed
    the move stands), never deleted. ``as_of_load`` is the table's latest ``loaded_at``,
    which lets the incremental marts see that a ticker's quarantine changed.
    """
    table = table_name.removeprefix("raw.")
    as_of_load = con.execute(f"SELECT max(loaded_at) FROM raw.{table}").fetchall()[0][0]
    incoming = findings[FINDING_COLUMNS].astype({"obs_date": "datetime64[ns]"})
    con.register("incoming_findings", incoming)
    q = QUARANTINE.qualified_name
    same_entry = "q.key = f.key AND q.obs_date = f.obs_date::DATE AND q.rule = f.rule"
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            resolved = con.execute(
                f"UPDATE {q} AS q SET status = 'resolved', resolved_at = ?, as_of_load = ?, "
                "run_id = ? "
                f"WHERE q.table_name = ? AND q.status = 'open' AND ({scope_sql}) "
                f"AND NOT EXISTS (SELECT 1 FROM incoming_findings AS f WHERE {same_entry})",
                [detected_at, as_of_load, run_id, table_name, *scope_params],
            ).fetchall()[0][0]
            opened = con.execute(
                f"INSERT INTO {q} BY NAME "
                "SELECT f.table_name, f.key, f.obs_date::DATE AS obs_date, f.rule, f.action, "
                "f.value, 'open' AS status, ?::TIMESTAMP AS detected_at, "
                "?::TIMESTAMP AS as_of_load, ?::VARCHAR AS run_id "
                "FROM incoming_findings AS f "
                f"WHERE NOT EXISTS (SELECT 1 FROM {q} AS q WHERE q.table_name = ? "
                f"AND q.status = 'open' AND {same_entry})",
                [detected_at, as_of_load, run_id, table_name],
            ).fetchall()[0][0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("incoming_findings")
    open_quarantined = con.execute(
        f"SELECT count(*) FROM {q} WHERE table_name = ? AND status = 'open' "
        "AND action = 'quarantine'",
        [table_name],
    ).fetchall()[0][0]
    return Reconciled(int(opened), int(resolved), int(open_quarantined))


def open_quarantine(con: duckdb.DuckDBPyConnection, limit: int = 10) -> tuple[int, list[tuple]]:
    """How many raw rows are quarantined now, and the latest ``limit`` of them
    (table, key, date, rule, value): what a build's summary lists."""
    q = QUARANTINE.qualified_name
    where = "status = 'open' AND action = 'quarantine'"
    total = con.execute(f"SELECT count(*) FROM {q} WHERE {where}").fetchall()[0][0]
    rows = con.execute(
        f"SELECT table_name, key, obs_date, rule, value FROM {q} WHERE {where} "
        "ORDER BY obs_date DESC, key LIMIT ?",
        [limit],
    ).fetchall()
    return int(total), rows


def validated_through(con: duckdb.DuckDBPyConnection, table: str) -> dt.datetime | None:
    """The ``loaded_at`` up to which every row of ``table`` passed its quality gate."""
    return con.execute(
        f"SELECT max(validated_through) FROM {QUALITY_WATERMARKS.qualified_name} "
        "WHERE table_name = ?",
        [table],
    ).fetchall()[0][0]


def record_validated(
    con: duckdb.DuckDBPyConnection, table: str, rows_checked: int, run_id: str
) -> None:
    """Move ``table``'s watermark to its latest load, after a passed check (one row per
    table: the check history itself is in Dagster's event log)."""
    con.execute(f"DELETE FROM {QUALITY_WATERMARKS.qualified_name} WHERE table_name = ?", [table])
    con.execute(
        f"INSERT INTO {QUALITY_WATERMARKS.qualified_name} "
        f"SELECT ?, max(loaded_at), ?, now()::TIMESTAMP, ? FROM raw.{table} "
        "HAVING max(loaded_at) IS NOT NULL",
        [table, rows_checked, run_id],
    )


def publish(warehouse: Path, published: Path) -> Path:
    """Copy the warehouse to a read-only snapshot and swap it in atomically.

    Readers (``rotation sql``, notebooks, BI tools) open the snapshot, so they never wait on
    a build and a build never fails because a reader holds the file. The copy is written
    to a temporary file beside the target and renamed over it, so a reader sees either the
    old snapshot or the new one, never a half-written file.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    # A publish killed mid-copy leaves its temporary file (named after its process):
    # remove any, since the writer lock means no other publish is running now.
    for stale in published.parent.glob(f".{published.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    if not Path(warehouse).exists():
        raise WarehouseError(f"{warehouse} does not exist yet: nothing to publish")
    try:
        # A checkpoint folds the write-ahead log into the file; with no writer left (the
        # publish step holds the writer lock) the file alone is then the whole database,
        # and a plain file copy is several times faster than COPY FROM DATABASE.
        with connect(warehouse) as con:
            con.execute("CHECKPOINT")
        shutil.copyfile(warehouse, tmp)
        os.replace(tmp, published)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return published
