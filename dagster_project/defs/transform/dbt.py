"""The dbt project as Dagster assets: staging, intermediate and marts, tests as checks."""

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource
from dagster_dbt import dbt_assets as dbt_assets_decorator

from dagster_project.defs.resources import WarehouseResource
from dagster_project.defs.transform.project import (
    dbt_project,
    ensure_manifest,
    finish_run_target,
    prepare_run_target,
)
from dagster_project.lib.report.metadata import with_mart_charts
from dagster_project.lib.settings import ENV_WAREHOUSE, DuckDBSettings
from dagster_project.lib.sources import release_cached_sources
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import QUALITY_WATERMARKS

ensure_manifest()


class RotationTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse (``marts/fct_daily_prices``), groups follow folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtBuildConfig(dg.Config):
    """Launch config of the dbt step (the Launchpad, or ``run_config`` in Python)."""

    full_refresh: bool = False
    """Rebuild the incremental marts from all history (``dbt build --full-refresh``)."""


ENV_TESTS_SINCE = "ROTATION_DBT_TESTS_SINCE"
"""The first day the data tests of the large per-day relations check (YYYY-MM-DD); unset,
they check every row. Read by dbt at execution (macros/incremental_test_window.sql): an
environment variable, not ``--vars``, since a var that changes every night would make dbt
re-parse the whole project on every build."""

PRODUCTION_EXCLUDES = ("--exclude-resource-type", "unit_test")
"""dbt's unit tests check model logic on fixed inputs, not the data: the same answer every
night, so they run in the test suite (``tests/unit/test_dbt_project.py``), not in builds
(dbt's own advice for production runs; 35 fewer nodes per build)."""

TESTED_WATERMARK = "dbt_tests"
"""Its row in raw.quality_watermarks: every raw price and fundamentals row loaded at or before
``validated_through`` was covered by a dbt build whose tests all ran and passed."""

QUARTER_LOOKBACK = dt.timedelta(days=190)
"""How far before a newly loaded quarter's period end int_stock_valuation_daily recomputes
(the quarter is the forward estimate from two quarters before it)."""


def dbt_tested_through(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The raw ``loaded_at`` through which a complete dbt build passed; None if unknown."""
    try:
        return wh.validated_through(con, TESTED_WATERMARK)
    except duckdb.CatalogException:  # no raw schema yet
        return None


def latest_load(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The newest raw price or fundamentals load: what this build's tests will cover."""
    try:
        return con.execute(
            "SELECT greatest((SELECT max(loaded_at) FROM raw.prices), "
            "(SELECT max(loaded_at) FROM raw.fundamentals))"
        ).fetchall()[0][0]
    except duckdb.CatalogException:  # no raw schema yet
        return None


def data_tests_since(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The first day whose rows this incremental build may change; None to test everything.

    The incremental models rewrite, per ticker, the days from its first price row loaded
    since they last ran (fct_daily_prices, int_stock_valuation_daily, stock_valuation_daily)
    and, for a quarter loaded since, from QUARTER_LOOKBACK before its period end (its whole
    history when that is the ticker's first quarter). stock_valuation_daily also rewrites a
    company's days from the filing date of its EDGAR facts loaded since (``edgar_tests_since``),
    its whole history when they switch its source. Counting from the last build whose tests
    all passed, not from the models' own high-water marks, keeps rows a failed build wrote
    under test until a build passes. Nothing recorded yet (a first build, an older
    warehouse): None.
    """
    since = dbt_tested_through(con)
    if since is None:
        return None
    prices_from, last_day = con.execute(
        "SELECT min(trade_date) FILTER (WHERE loaded_at > ?), max(trade_date) FROM raw.prices",
        [since],
    ).fetchall()[0]
    from_first_quarter, quarters_from = con.execute(
        """
        SELECT bool_or(loaded.first_period_end <= firsts.first_period_end),
               min(loaded.first_period_end)
        FROM (
            SELECT ticker, min(period_end) AS first_period_end
            FROM raw.fundamentals WHERE loaded_at > ? GROUP BY ticker
        ) AS loaded
        JOIN (
            SELECT ticker, min(period_end) AS first_period_end
            FROM raw.fundamentals GROUP BY ticker
        ) AS firsts USING (ticker)
        """,
        [since],
    ).fetchall()[0]
    switches_source, filed_from = edgar_tests_since(con, since)
    if from_first_quarter or switches_source:
        return None
    starts = [
        d
        for d in (prices_from, quarters_from and quarters_from - QUARTER_LOOKBACK, filed_from)
        if d
    ]
    # nothing loaded since: the last day still gets its tests
    return min(starts, default=last_day)


def edgar_tests_since(
    con: duckdb.DuckDBPyConnection, since: dt.datetime
) -> tuple[bool, dt.date | None]:
    """Whether EDGAR facts loaded after ``since`` may switch a company's source (then
    stock_valuation_daily rewrites its whole history), and the earliest filing date among
    them (it rewrites from there otherwise).

    Conservative, from raw.edgar_facts alone: a switch is possible for a company with no
    facts loaded before, whose symbol changed, or whose new facts bring net income or a
    share count while it had no quarterly net income fact (80-100 days) or no cover-page
    count before: the model's own rule (the company's first quarterly figures) is exact,
    this one only errs towards testing more.
    """
    return con.execute(
        """
        WITH loaded AS (
            SELECT cik,
                   min(filed) AS first_filed,
                   bool_or(concept = 'NetIncomeLoss') AS brings_income,
                   bool_or(concept = 'EntityCommonStockSharesOutstanding') AS brings_shares,
                   arg_max(ticker, loaded_at) AS ticker
            FROM raw.edgar_facts WHERE loaded_at > ? GROUP BY cik
        ), held AS (
            SELECT cik,
                   coalesce(bool_or(taxonomy = 'us-gaap' AND concept = 'NetIncomeLoss'
                                    AND unit = 'USD'
                                    AND period_end - period_start BETWEEN 80 AND 100),
                            false) AS had_quarter,
                   bool_or(taxonomy = 'dei' AND concept = 'EntityCommonStockSharesOutstanding'
                           AND unit = 'shares') AS had_shares,
                   arg_max(ticker, loaded_at) AS ticker
            FROM raw.edgar_facts WHERE loaded_at <= ? GROUP BY cik
        )
        SELECT coalesce(bool_or(
                   held.cik IS NULL
                   OR held.ticker <> loaded.ticker
                   OR (loaded.brings_income AND NOT held.had_quarter)
                   OR (loaded.brings_shares AND NOT held.had_shares)
               ), false),
               min(loaded.first_filed)
        FROM loaded LEFT JOIN held USING (cik)
        """,
        [since, since],
    ).fetchall()[0]


def record_tested(con: duckdb.DuckDBPyConnection, through: dt.datetime, run_id: str) -> None:
    """Move the watermark to ``through`` after a build whose tests all ran and passed."""
    wh.ensure_raw_schema(con)
    con.execute(
        f"DELETE FROM {QUALITY_WATERMARKS.qualified_name} WHERE table_name = ?", [TESTED_WATERMARK]
    )
    con.execute(
        f"INSERT INTO {QUALITY_WATERMARKS.qualified_name} "
        "(table_name, validated_through, rows_checked, checked_at, run_id) "
        "VALUES (?, ?, 0, now()::TIMESTAMP, ?)",
        [TESTED_WATERMARK, through, run_id],
    )


def runs_every_test(context: dg.AssetExecutionContext) -> bool:
    """Whether this step builds every dbt model and runs every test (not a subset)."""
    spec = context.assets_def
    return set(context.selected_asset_keys) == set(spec.keys) and set(
        context.selected_asset_check_keys
    ) == set(spec.check_keys)


@dbt_assets_decorator(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RotationTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def rotation_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """Run ``dbt build`` for the selected models: models, seeds, tests and unit tests."""
    # dbt's profile reads the warehouse path and DuckDB's memory budget from the
    # environment (dbt/profiles.yml).
    os.environ[ENV_WAREHOUSE] = str(warehouse.file)
    os.environ.update(DuckDBSettings.from_env().environment())
    release_cached_sources()  # the raw loads are done: free the memory before dbt starts
    with warehouse.connect() as con:
        through = latest_load(con)
        since = None if config.full_refresh else data_tests_since(con)
    # the large relations' tests check only the days this build may change (all of them
    # on a full refresh or when unknown); set or cleared on every run of this process
    if since is None:
        os.environ.pop(ENV_TESTS_SINCE, None)
    else:
        os.environ[ENV_TESTS_SINCE] = since.isoformat()
    context.log.info(f"dbt data tests of the per-day relations from: {since or 'all history'}")
    args = [
        "build",
        *(["--full-refresh"] if config.full_refresh else []),
        *PRODUCTION_EXCLUDES,
    ]
    run_target = prepare_run_target(warehouse.file, context.run_id)
    invocation = dbt.cli(args, context=context, target_path=run_target)
    # relative_performance and pe_discount also carry their report chart and key figures.
    yield from with_mart_charts(invocation.stream(), context, warehouse.file)
    if through is not None and invocation.is_successful() and runs_every_test(context):
        with warehouse.connect() as con:
            record_tested(con, through, context.run_id)
    if invocation.is_successful():
        finish_run_target(invocation.target_path, warehouse.file)
