"""The published read-only copy of the warehouse, refreshed after every successful build."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.warehouse.store import publish


def build_published_warehouse(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """An asset downstream of every mart: it only runs when they all built and passed."""

    @dg.asset(
        key=["published", "warehouse"],
        deps=upstream,
        group_name="publish",
        kinds={"duckdb"},
        description="Read-only snapshot of the warehouse for ad hoc SQL, notebooks and BI "
        "tools, swapped in atomically so readers never wait on a build.",
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        target = publish(warehouse.file, warehouse.published_file)
        context.log.info(f"published {target}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "size_mb": dg.MetadataValue.float(round(target.stat().st_size / 2**20, 1)),
            }
        )

    return published_warehouse
