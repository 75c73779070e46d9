"""Raw loads: one asset per raw table, each replacing its window through the one writer."""

import dagster as dg
import pandas as pd

from dagster_project.resources import WAREHOUSE_POOL, SourceResource, WarehouseResource
from dagster_project.schemas import FUNDAMENTALS, PRICES, RATES, UNIVERSE, RawTable
from dagster_project.sources import Source, Window

INGEST_GROUP = "ingest"


def _load(
    context: dg.AssetExecutionContext,
    table: RawTable,
    fetch,
    source: SourceResource,
    warehouse: WarehouseResource,
    windowed: bool = True,
) -> dg.MaterializeResult:
    src: Source = source.get()
    window: Window | None = source.window() if windowed else None
    span = f" for {window.start}..{window.end}" if window else ""
    context.log.info(f"fetching {table.qualified_name} from source {src.label!r}{span}")
    frame: pd.DataFrame = fetch(src, window) if windowed else fetch(src)
    result = warehouse.replace_window(table, frame, src.label, window)
    context.log.info(
        f"{table.qualified_name}: replaced {result.rows_deleted:,} rows with "
        f"{result.rows_inserted:,} ({result.keys:,} {table.key[0]}s)"
    )
    metadata: dict = {
        "source": src.label,
        "synthetic": dg.MetadataValue.bool(src.synthetic),
        "rows_loaded": dg.MetadataValue.int(result.rows_inserted),
        "rows_replaced": dg.MetadataValue.int(result.rows_deleted),
        f"{table.key[0]}_count": dg.MetadataValue.int(result.keys),
        "dagster/table_name": f"{warehouse.file.stem}.{table.qualified_name}",
        "dagster/row_count": dg.MetadataValue.int(result.rows_inserted),
    }
    if window:
        metadata["window_start"] = window.start.isoformat()
        metadata["window_end"] = window.end.isoformat()
    if src.synthetic:
        metadata["note"] = "synthetic sample data, not market data"
    return dg.MaterializeResult(metadata=metadata)


def _raw_asset(table: RawTable, fetch, windowed: bool = True) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", table.name],
        group_name=INGEST_GROUP,
        kinds={"duckdb", "python"},
        pool=WAREHOUSE_POOL,
        description=table.description,
    )
    def _asset(
        context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        return _load(context, table, fetch, source, warehouse, windowed)

    return _asset


raw_universe = _raw_asset(UNIVERSE, lambda src: src.universe(), windowed=False)
raw_prices = _raw_asset(PRICES, lambda src, window: src.prices(window))
raw_fundamentals = _raw_asset(FUNDAMENTALS, lambda src, window: src.fundamentals(window))
raw_rates = _raw_asset(RATES, lambda src, window: src.rates(window))

ingest_assets = [raw_universe, raw_prices, raw_fundamentals, raw_rates]
