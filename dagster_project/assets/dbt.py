"""The dbt project as Dagster assets: staging, intermediate and marts, tests as checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource
from dagster_dbt import dbt_assets as dbt_assets_decorator

from dagster_project.dbt_project import dbt_project, ensure_manifest
from dagster_project.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_project.settings import ENV_WAREHOUSE

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


@dbt_assets_decorator(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RotationTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool=WAREHOUSE_POOL,
)
def rotation_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """Run ``dbt build`` for the selected models: models, seeds, tests and unit tests."""
    # dbt's profile reads the warehouse path from the environment (dbt/profiles.yml).
    os.environ[ENV_WAREHOUSE] = str(warehouse.file)
    yield from dbt.cli(["build"], context=context).stream()
