"""All Dagster definitions: assets, checks, resources and the build job."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.ingest.claims import raw_claims
from dagster_project.defs.ingest.loads import ingest_assets
from dagster_project.defs.quality.fetch_failures import fetch_failure_checks
from dagster_project.defs.quality.raw_gates import quarantine_table, raw_quality_checks
from dagster_project.defs.report.publish import build_published_warehouse
from dagster_project.defs.report.report_asset import rotation_report
from dagster_project.defs.resources import ClaimsResource, SourceResource, WarehouseResource
from dagster_project.defs.schedules import build_nightly_schedule, with_nightly_freshness
from dagster_project.defs.transform.dbt import rotation_dbt_models
from dagster_project.defs.transform.project import dbt_resource
from dagster_project.lib.settings import Settings

BUILD_JOB_NAME = "build_all"
CLAIMS_JOB_NAME = "claims_ledger"


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions for one set of settings; ``defs`` below uses the environment's."""
    mart_keys = [key for key in rotation_dbt_models.keys if key.path[0] == "marts"]
    build_all = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Load every raw table, run the quality gates, build all dbt models and "
        "publish the read-only copy. What `rotation build` runs.",
    )
    claims_ledger = dg.define_asset_job(
        CLAIMS_JOB_NAME,
        selection=dg.AssetSelection.assets(raw_claims).downstream(),
        description="Re-read the claims file and re-measure the nightly ledger (marts.claims), "
        "then publish: after editing claims.yaml, without a whole build. (`rotation claims "
        "--file F` measures a file on the published copy without any run.)",
    )
    source = SourceResource.from_settings(settings)
    return dg.Definitions(
        assets=[
            *ingest_assets,
            quarantine_table,
            raw_claims,
            *dg.map_asset_specs(with_nightly_freshness, [rotation_dbt_models]),
            build_published_warehouse(mart_keys),
            rotation_report,
        ],
        asset_checks=[*raw_quality_checks, *fetch_failure_checks],
        jobs=[build_all, claims_ledger],
        schedules=[build_nightly_schedule(BUILD_JOB_NAME, source)],
        # Every step that touches the warehouse holds its writer lock, so steps run one at a
        # time anyway: one process per run (as `rotation build` runs) instead of a process
        # per step, each importing Dagster, dbt and GX again, is several times faster.
        executor=dg.in_process_executor,
        resources={
            "source": source,
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "claims": ClaimsResource(path=str(settings.claims_file)),
            "dbt": dbt_resource(),
        },
    )


defs = build_definitions(Settings.from_env())
