"""Chart and key-figure metadata for Dagster materializations: the report's charts travel
as Markdown images, its key figures as numbers, which the UI plots run after run.

Dagster has no image metadata type: Markdown (``MetadataValue.md``) is the only one whose
value the UI renders as a picture, and it shows Markdown longer than 1,000 characters (any
embedded PNG) behind a "[Show Markdown]" link that opens it in a dialog. So each chart's
Markdown starts with the image, and the key figures also travel as one short Markdown list
with labels and units next to the plotted numbers.

Plain code over Dagster's public event types, used by the report asset and by the dbt
step (whose chart marts carry their chart).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.report import queries, writer
from dagster_project.lib.report.charts import Chart
from dagster_project.lib.report.html import chart_markdown, figures_markdown
from dagster_project.lib.warehouse.store import connect


def chart_metadata(charts: list[Chart], synthetic: bool) -> dict[str, dg.MetadataValue]:
    """One Markdown entry per chart (``<name>_chart``): the PNG embedded as a data URI
    first, then the synthetic label (on the sample market), the title and the caption."""
    return {
        f"{chart.name}_chart": dg.MetadataValue.md(chart_markdown(chart, synthetic))
        for chart in charts
    }


def figure_metadata(figures: Mapping[str, float]) -> dict[str, dg.MetadataValue]:
    """Key figures as float metadata under their stored names and units (Dagster plots
    numeric metadata across materializations, so these stay raw numbers), after
    ``key_figures``: the same figures as a reader sees them in the report, which the UI's
    metadata table shows inline (Markdown under 1,000 characters), first."""
    numbers = {name: dg.MetadataValue.float(float(value)) for name, value in figures.items()}
    if not figures:
        return numbers
    return {"key_figures": dg.MetadataValue.md(figures_markdown(figures)), **numbers}


def relative_performance_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """The relative strength chart and the headline pair's latest 3m/12m relative return."""
    relative = queries.read_relative(con)
    synthetic = queries.is_synthetic(queries.read_sources(con))
    chart = writer.relative_strength(
        relative, queries.read_policy(con), queries.read_cuts(con), synthetic
    )
    return {
        **figure_metadata(queries.relative_key_figures(relative)),
        **chart_metadata([chart], synthetic),
    }


def pe_discount_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """The P/E discount chart and the latest discount."""
    pe = queries.read_pe(con)
    synthetic = queries.is_synthetic(queries.read_sources(con))
    return {
        **figure_metadata(queries.pe_key_figures(pe)),
        **chart_metadata([writer.pe_discount(pe, synthetic)], synthetic),
    }


def megacap_contribution_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """The Magnificent 7 share chart and the latest year's two shares."""
    megacap = queries.read_megacap(con)
    synthetic = queries.is_synthetic(queries.read_sources(con))
    return {
        **figure_metadata(queries.megacap_key_figures(megacap)),
        **chart_metadata([writer.megacap_contribution(megacap, synthetic)], synthetic),
    }


def rate_cut_event_summary_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """The after-the-cut chart."""
    synthetic = queries.is_synthetic(queries.read_sources(con))
    chart = writer.rate_cut_event_study(queries.read_event_summary(con), synthetic)
    return chart_metadata([chart], synthetic)


def sector_rotation_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """The sector heatmap."""
    synthetic = queries.is_synthetic(queries.read_sources(con))
    return chart_metadata([writer.sector_rotation(queries.read_sectors(con), synthetic)], synthetic)


MART_METADATA: dict[dg.AssetKey, Callable[[duckdb.DuckDBPyConnection], dict]] = {
    dg.AssetKey(["marts", "relative_performance"]): relative_performance_metadata,
    dg.AssetKey(["marts", "pe_discount"]): pe_discount_metadata,
    dg.AssetKey(["marts", "megacap_contribution"]): megacap_contribution_metadata,
    dg.AssetKey(["marts", "rate_cut_event_summary"]): rate_cut_event_summary_metadata,
    dg.AssetKey(["marts", "sector_rotation"]): sector_rotation_metadata,
}
"""Marts whose materializations carry the report's chart for them, and how to draw it
(the report then reuses each drawing: ``writer.drawn_once``)."""


def _event_asset_key(context: dg.AssetExecutionContext, event) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    return getattr(event, "asset_key", None)


def chart_marts_and_dependents(deps: Mapping[dg.AssetKey, AbstractSet[dg.AssetKey]]) -> set:
    """The chart marts and every asset that depends on one of them, directly or not, given
    each asset's upstream keys (``AssetsDefinition.asset_deps``)."""
    held = set(MART_METADATA)
    grew = True
    while grew:
        grew = False
        for key, upstream in deps.items():
            if key not in held and upstream & held:
                held.add(key)
                grew = True
    return held


def with_mart_charts(
    events: Iterable, context: dg.AssetExecutionContext, warehouse_file: Path
) -> Iterator:
    """Pass dbt's events through, adding chart and key-figure metadata to the chart marts.

    DuckDB lets no one read a file while dbt holds it for writing, so the events of the
    chart marts, of the models built on them and of their tests are held until dbt has
    exited, then yielded in dbt's order with the metadata read from the freshly built
    tables: the post-processing dagster-dbt itself applies to DuckDB for row counts. Every
    other event passes straight through, so Dagster stores it while dbt works; the order
    Dagster needs (a multi-asset's outputs after their upstreams) holds, since nothing
    passed through depends on a held asset. A chart that cannot be drawn costs a warning,
    never the dbt step.
    """
    holding = chart_marts_and_dependents(context.assets_def.asset_deps)
    held: list = []
    try:
        for event in events:
            if _event_asset_key(context, event) in holding:
                held.append(event)
            else:
                yield event
    except Exception:
        yield from held
        raise
    extra: dict[dg.AssetKey, dict] = {}
    built = {key for key in (_event_asset_key(context, e) for e in held) if key in MART_METADATA}
    if built:
        try:
            with connect(warehouse_file, read_only=True) as con:
                extra = {key: MART_METADATA[key](con) for key in built}
        except Exception as exc:  # a chart is a nice-to-have; the mart built fine
            context.log.warning(f"mart charts not attached: {type(exc).__name__}: {exc}")
    for event in held:
        key = _event_asset_key(context, event)
        if key in extra and isinstance(event, dg.Output | dg.AssetMaterialization):
            event = event.with_metadata({**event.metadata, **extra[key]})
        yield event
