"""The dbt project as Dagster assets: staging, intermediate and marts, tests as checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource
from dagster_dbt import dbt_assets as dbt_assets_decorator

from dagster_project.assets.report import with_mart_charts
from dagster_project.dbt_project import dbt_project, ensure_manifest, finish_run_target
from dagster_project.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_project.settings import ENV_WAREHOUSE, DuckDBSettings
from dagster_project.sources import release_cached_sources

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


@dbt_assets_decorator(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RotationTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool=WAREHOUSE_POOL,
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
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    invocation = dbt.cli(args, context=context)
    # relative_performance and pe_discount also carry their report chart and key figures.
    yield from with_mart_charts(invocation.stream(), context, warehouse.file)
    finish_run_target(invocation.target_path)
