"""All Dagster definitions: assets, checks, resources and the build job."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.assets.dbt import rotation_dbt_models
from dagster_project.assets.ingest import ingest_assets
from dagster_project.assets.publish import build_published_warehouse
from dagster_project.checks.raw_quality import raw_quality_checks
from dagster_project.dbt_project import dbt_project
from dagster_project.progress import progress_logger
from dagster_project.resources import SourceResource, WarehouseResource
from dagster_project.settings import Settings

BUILD_JOB_NAME = "build_all"


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions for one set of settings; ``defs`` below uses the environment's."""
    mart_keys = [key for key in rotation_dbt_models.keys if key.path[0] == "marts"]
    build_all = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Load every raw table, run the quality gates, build all dbt models and "
        "publish the read-only copy. What `rotation build` runs.",
    )
    return dg.Definitions(
        assets=[*ingest_assets, rotation_dbt_models, build_published_warehouse(mart_keys)],
        asset_checks=raw_quality_checks,
        jobs=[build_all],
        resources={
            "source": SourceResource.from_settings(settings),
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "dbt": DbtCliResource(project_dir=dbt_project),
        },
        loggers={"progress": progress_logger},
    )


defs = build_definitions(Settings.from_env())
