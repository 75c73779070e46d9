"""Raw loads: one asset per raw table, each replacing its window through the one writer
(or, for versioned tables, appending the versions it does not hold yet: EDGAR's fact
versions, and the fundamentals and valuation snapshots, whose answers are first checked
against what is held so that a partial one changes nothing)."""

import dataclasses
import datetime as dt
from collections.abc import Callable

import dagster as dg

from dagster_project.defs.resources import SourceResource, WarehouseResource
from dagster_project.lib.sources import Source, Window
from dagster_project.lib.sources.base import (
    FAILURES_KEY,
    Batch,
    EdgarFacts,
    EtfHoldings,
    IncrementalPrices,
    NotConfigured,
    SourceError,
    SourceUnavailable,
    as_batch,
    as_frame,
    empty_frame,
)
from dagster_project.lib.sources.live.network import NoNetwork
from dagster_project.lib.sources.live.retry import is_network_error
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import (
    EDGAR_FACTS,
    ETF_HOLDINGS,
    FUNDAMENTALS,
    PRICES,
    RATES,
    UNIVERSE,
    VALUATION_SNAPSHOTS,
    RawTable,
)
from dagster_project.lib.warehouse.versions import partial_answers

INGEST_GROUP = "ingest"

INGEST_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3,
    delay=30,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)
"""A load that met an outage runs again after about 0.5, 1.5 and 3.5 minutes (Dagster's
exponential backoff, each wait ±30 s of jitter so parallel runs do not retry in lockstep).
The sources already retry each request within seconds; this covers an outage that
outlasts those, without keeping `rotation build` waiting much longer than 5 minutes."""

RATES_LOOKBACK = dt.timedelta(days=100)
"""How far before its window a ``raw/rates`` load re-reads. FRED publishes a day's yields
the next morning, a month's CPI and unemployment weeks later, and revises recent values;
re-reading the last 100 days lets a nightly load (``--end`` the session, from the start)
or a narrow ``--start/--end`` re-load pick up what earlier runs could not see yet (the rows
it rewrites are the same or newer figures)."""

Fetch = Callable[[Source, Window | None, WarehouseResource], object]
WindowOf = Callable[[dg.AssetExecutionContext, SourceResource], Window | None]


def _load(
    context: dg.AssetExecutionContext,
    table: RawTable,
    fetch: Fetch,
    window: Window | None,
    src: Source,
    warehouse: WarehouseResource,
    must_cover: bool,
    append: bool = False,
) -> dg.MaterializeResult:
    warehouse.assert_single_source(src.label)
    span = f" for {window.start}..{window.end}" if window else ""
    context.log.info(f"fetching {table.qualified_name} from source {src.label!r}{span}")
    try:
        batch: Batch = as_batch(fetch(src, window, warehouse))
    except NotConfigured as skipped:
        # A table the source could fill once configured: nothing is loaded, nothing held
        # changes, and the message (how to enable it) shows in the log and the UI.
        context.log.warning(f"{table.qualified_name}: skipped. {skipped}")
        return dg.MaterializeResult(
            metadata={"source": src.label, "skipped": str(skipped), "rows_loaded": 0}
        )
    if append:
        if table.name in wh.RESTATABLE_TABLES:
            batch = without_partial_answers(table, batch, warehouse)
        result = warehouse.append_new_versions(table, as_frame(batch.frame), src.label)
        context.log.info(
            f"{table.qualified_name}: appended {result.rows_inserted:,} new versions "
            f"({result.keys:,} {table.key[0]}s with new rows); every version held is kept"
        )
    else:
        result = warehouse.replace_window(table, batch.frame, src.label, window, batch.windows)
        if must_cover and result.rows_inserted == 0:
            # No rows replace nothing (the writer deletes only the scopes of incoming rows).
            raise SourceError(uncovered_window_message(table, src, window, batch))
        context.log.info(
            f"{table.qualified_name}: replaced {result.rows_deleted:,} rows with "
            f"{result.rows_inserted:,} ({result.keys:,} {table.key[0]}s)"
        )
    for key, reason in batch.failures.items():
        context.log.warning(f"{table.qualified_name}: no data for {key}: {reason}")
    if batch.skipped:
        counts = ", ".join(f"{n:,} {reason}" for reason, n in sorted(batch.skipped.items()))
        context.log.info(f"{table.qualified_name}: rows left out on purpose: {counts}")
    return dg.MaterializeResult(metadata=_metadata(table, src, window, batch, result, warehouse))


def without_partial_answers(table: RawTable, batch: Batch, warehouse: WarehouseResource) -> Batch:
    """The batch without the keys whose answer holds less than the warehouse, each listed
    among the failures with what it lacks (``versions.partial_answers``): a partial
    answer adds no version at all, so the latest held one stays the latest."""
    frame = as_frame(batch.frame)
    entity = table.key[0]
    if frame.empty:
        return batch
    with warehouse.connect(read_only=True) as con:
        held = wh.latest_versions(con, table, sorted(frame[entity].astype(str).unique()))
    partial = partial_answers(table, frame, held)
    if not partial:
        return batch
    return dataclasses.replace(
        batch,
        frame=frame[~frame[entity].isin(set(partial))].reset_index(drop=True),
        failures={**batch.failures, **partial},
    )


def _metadata(table, src, window, batch, result, warehouse) -> dict:
    metadata: dict = {
        "source": src.label,
        "synthetic": dg.MetadataValue.bool(src.synthetic),
        "rows_loaded": dg.MetadataValue.int(result.rows_inserted),
        "rows_replaced": dg.MetadataValue.int(result.rows_deleted),
        f"{table.key[0]}_count": dg.MetadataValue.int(result.keys),
        "dagster/table_name": f"{warehouse.file.stem}.{table.qualified_name}",
        "dagster/row_count": dg.MetadataValue.int(result.rows_inserted),
        FAILURES_KEY: dg.MetadataValue.json(dict(sorted(batch.failures.items()))),
        "failure_count": dg.MetadataValue.int(len(batch.failures)),
    }
    if batch.skipped:
        metadata["skipped_rows"] = dg.MetadataValue.json(dict(sorted(batch.skipped.items())))
    if window:
        metadata["window_start"] = window.start.isoformat()
        metadata["window_end"] = window.end.isoformat()
    if batch.windows:
        starts = sorted({w.start for w in batch.windows.values()})
        metadata["incremental_starts"] = dg.MetadataValue.json(
            {day.isoformat(): sum(w.start == day for w in batch.windows.values()) for day in starts}
        )
    if src.synthetic:
        metadata["note"] = "synthetic sample data, not market data"
    return metadata


def worth_retrying(error: BaseException) -> bool:
    """Whether a failed load may succeed when run again later: the source was unreachable.

    A refused mix of sources, a bad file or a rejected key fail the same way every time,
    so those stop the run at once. So does a warehouse file locked by a process outside
    Dagster (a notebook opened read-write): its message says which file and what to do,
    which beats minutes of silent retries in `rotation build`. No network at all (no host
    of the source resolves or accepts a connection) is not an outage to wait out either:
    the build stops within seconds, saying so.
    """
    if isinstance(error, NoNetwork):
        return False
    return isinstance(error, SourceUnavailable) or is_network_error(error)


def uncovered_window_message(table: RawTable, src: Source, window: Window, batch: Batch) -> str:
    """Why a load that got no rows for its window fails instead of succeeding empty: a
    run that "loaded" a window the source does not cover would look done and hold nothing."""
    failed = f"; {len(batch.failures)} keys failed" if batch.failures else ""
    return (
        f"{table.qualified_name}: source {src.label!r} has no rows for {window.start}..{window.end}"
        f"{failed}. Nothing was loaded and nothing held was changed; check --start/--end "
        "against the dates the source covers."
    )


def _raw_asset(
    table: RawTable,
    fetch: Fetch,
    window_of: WindowOf,
    must_cover: bool = False,
    append: bool = False,
) -> dg.AssetsDefinition:
    """The load asset of ``table``: unpartitioned, its window decided at run time.
    ``must_cover``: a load that gets no rows for its window fails (prices, rates).
    ``append``: rows are versions, appended when new and never replaced or deleted
    (``wh.append_new_versions``); a restatable table's partial answers are refused first."""

    @dg.asset(
        key=["raw", table.name],
        group_name=INGEST_GROUP,
        kinds={"duckdb", "python"},
        retry_policy=INGEST_RETRY_POLICY,
        description=table.description,
    )
    def _asset(
        context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        try:
            window = window_of(context, source)
            return _load(context, table, fetch, window, source.get(), warehouse, must_cover, append)
        except Exception as error:
            if worth_retrying(error):
                raise
            raise dg.Failure(description=str(error), allow_retries=False) from error

    return _asset


def fetch_prices(src: Source, window: Window, warehouse: WarehouseResource):
    """Prices, incrementally where the source can: it is told what the warehouse holds."""
    if isinstance(src, IncrementalPrices):
        return src.incremental_prices(window, warehouse.held_prices(src.held_depth))
    return src.prices(window)


def fetch_edgar_facts(src: Source, _window, _warehouse: WarehouseResource) -> Batch:
    """The EDGAR fact versions of the universe's stocks, where the source has any.

    A source without EDGAR loads none: the valuation marts then fall back to
    raw.fundamentals and say so per figure. Facts are not windowed: a filing of any date
    may carry news about any period (a restatement), and the writer keeps only new ones.
    """
    if not isinstance(src, EdgarFacts):
        return Batch(frame=empty_frame(EDGAR_FACTS))
    universe = src.universe()
    stocks = sorted(universe.loc[universe["kind"] == "stock", "ticker"])
    return as_batch(src.edgar_facts(stocks))


def fetch_etf_holdings(src: Source, _window, _warehouse: WarehouseResource) -> Batch:
    """The equity holdings of every ETF holdings file the source has (files only; none
    from the sample or live). Not windowed: each fund's rows replace all it held, since
    its files define it."""
    if not isinstance(src, EtfHoldings):
        return Batch(frame=empty_frame(ETF_HOLDINGS))
    return as_batch(src.etf_holdings())


def today(_context, _source: SourceResource) -> Window:
    """Valuation snapshots are stamped with the day they were taken: today."""
    day = dt.date.today()
    return Window(day, day)


def configured_window(_context, source: SourceResource) -> Window:
    """The build's window (``--start/--end``, else the source's whole span). Prices then
    load incrementally inside it where the source can (``fetch_prices``)."""
    return source.window()


def rates_window(context: dg.AssetExecutionContext, source: SourceResource) -> Window:
    window = configured_window(context, source)
    return Window(window.start - RATES_LOOKBACK, window.end)


raw_universe = _raw_asset(UNIVERSE, lambda src, _w, _wh: src.universe(), lambda _c, _s: None)
raw_prices = _raw_asset(PRICES, fetch_prices, configured_window, must_cover=True)
raw_fundamentals = _raw_asset(
    FUNDAMENTALS,
    lambda src, window, _wh: src.fundamentals(window),
    configured_window,
    append=True,
)
raw_rates = _raw_asset(
    RATES, lambda src, window, _wh: src.rates(window), rates_window, must_cover=True
)
raw_valuation_snapshots = _raw_asset(
    VALUATION_SNAPSHOTS,
    lambda src, window, _wh: src.valuation_snapshots(window.end),
    today,
    append=True,
)

raw_edgar_facts = _raw_asset(EDGAR_FACTS, fetch_edgar_facts, lambda _c, _s: None, append=True)
raw_etf_holdings = _raw_asset(ETF_HOLDINGS, fetch_etf_holdings, lambda _c, _s: None)

ingest_assets = [
    raw_universe,
    raw_prices,
    raw_fundamentals,
    raw_rates,
    raw_valuation_snapshots,
    raw_edgar_facts,
    raw_etf_holdings,
]
