"""Dagster's SQLite event log, with cheap writes: batches in one transaction, one engine
per database, no disk flush per event of a run's own log.

Why: every event of a run (step starts, logs, each dbt test's check result, and one
planned and one materialized event per partition) is stored by Dagster's stock SQLite
storage through a new engine, a new connection, a commit and a close, and in WAL mode
the commit and the checkpoint on close each wait for the disk. That cost 20-37 ms per
event here: a 25-year backfill (13,000 partition events) spent 216 s on bookkeeping,
and a small `rotation build` (~4,000 events) about 60 s, as long as its data work.

What is stored is exactly what the stock storage stores (same files, tables and rows, in
the same order); what changes:
- ``store_event_batch`` (Dagster batches per-partition events, and the planned
  materializations and checks of a run's start, when ``DAGSTER_EVENT_BATCH_SIZE`` is set,
  as this module does) writes a batch with one ``executemany`` per database in one
  transaction, and updates each asset's summary row once per batch instead of once per
  event;
- engines are kept per database (a few, least recently used first out) instead of
  rebuilt for every statement; they pool nothing: connections still close after each
  use, so the checkpoint on close keeps the ``.db`` file current for the UI's log
  watcher, and a deleted run's file is never held open;
- a run's own log database does not flush to disk at each commit
  (``synchronous=OFF``): a killed process loses nothing (the OS has the data), a power
  cut may lose or damage that run's log, never the warehouse. The cross-run index (what
  the UI shows per asset) keeps WAL's ``synchronous=NORMAL``: no corruption on power loss.

``dagster_home/dagster.yaml`` selects this storage, so ``dagster dev``, its daemon, run
workers and ``rotation build`` all use it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import NullPool

EVENT_BATCH_SIZE = "10000"
"""Largest batch Dagster buffers before writing; a batch always ends with its last event,
so a small run writes as soon as a step's events are complete."""

os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
# Set on import: every process that opens the instance (the CLI, the webserver, the
# daemon, each run worker) imports this module first, and Dagster reads the variable
# each time it stores an event.

CACHED_ENGINES = 8
"""Databases whose engine is kept: the index and the runs being written or watched."""


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` under ``<dagster_home>/history/runs`` (Dagster's default
    place), with the cheaper writes described in the module docstring."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._known_tables: set[str] = set()
        super().__init__(base_dir=base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"dagster_home": Field(StringSource)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value
    ) -> BatchingSqliteEventLogStorage:
        base_dir = Path(config_value["dagster_home"]) / "history" / "runs"
        return cls(base_dir=str(base_dir), inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> sa.Engine:
        engine = self._engines.pop(shard, None) or _sqlite_engine(
            self.conn_string_for_shard(shard),
            synchronous="NORMAL" if shard == INDEX_SHARD_NAME else "OFF",
        )
        self._engines[shard] = engine
        while len(self._engines) > CACHED_ENGINES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def has_table(self, table_name: str) -> bool:
        # Asked before every write of asset event tags; a table, once there, stays.
        if table_name not in self._known_tables and super().has_table(table_name):
            self._known_tables.add(table_name)
        return table_name in self._known_tables

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {event.run_id for event in events}
        if len(run_ids) != 1 or not all(_is_batchable(event) for event in events):
            super().store_event_batch(events)  # one by one, as Dagster would
            return
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(run_ids.pop()) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)

        # Mirror them into the cross-run index, as ``store_event`` does for asset events and
        # planned checks.
        insert = SqlEventLogStorageTable.insert().returning(
            SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
        )
        with self.index_transaction() as conn:
            event_ids = [row[0] for row in conn.execute(insert, rows)]
            stored = list(zip(events, event_ids, strict=True))
            assets = [(event, event_id) for event, event_id in stored if _is_asset_event(event)]
            self._store_asset_event_tags(
                conn, [event for event, _ in assets], [event_id for _, event_id in assets]
            )
            # The asset summary row keeps only the latest event of each kind, so writing the
            # last one per asset and kind leaves it as writing each in turn would.
            latest = {
                (event.dagster_event.asset_key, event.dagster_event_type): (event, event_id)
                for event, event_id in assets
            }
            for event, event_id in latest.values():
                self._store_asset_event(conn, event, event_id)
        # A run plans its checks in the same batch as its materializations: Dagster's own
        # writer adds each one's execution row (a small insert; the event rows are above).
        for event, event_id in stored:
            if not _is_asset_event(event):
                self.store_asset_check_event(event, event_id)


def _sqlite_engine(conn_string: str, synchronous: str) -> sa.Engine:
    """An engine like Dagster's (no pooling, its busy timeout) that sets ``synchronous``
    on each new connection."""
    engine = sa.create_engine(
        conn_string, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    )

    @sa.event.listens_for(engine, "connect")
    def _set_synchronous(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    return engine


def _is_batchable(event: EventLogEntry) -> bool:
    """Asset events, and the planned asset checks Dagster sends in the same batch when a
    run starts (one per dbt test)."""
    return _is_asset_event(event) or (
        event.is_dagster_event
        and event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    )


def _is_asset_event(event: EventLogEntry) -> bool:
    """Materializations, observations and planned materializations: the events Dagster
    batches per partition, all stored the same way."""
    return (
        event.is_dagster_event
        and event.dagster_event_type in ASSET_EVENTS
        and event.dagster_event.asset_key is not None
    )
