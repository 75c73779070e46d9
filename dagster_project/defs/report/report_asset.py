"""The rotation report as a Dagster asset.

The report reads the published copy (like every step with the warehouse resource it holds
the writer lock while it runs). Its charts travel in the materialization's metadata as
Markdown images and its key figures as numbers, which the UI plots run after run.
"""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.report import writer
from dagster_project.lib.report.html import SYNTHETIC_LABEL
from dagster_project.lib.report.metadata import chart_metadata, figure_metadata
from dagster_project.lib.settings import reports_dir

REPORT_GROUP = "report"


@dg.asset(
    key=["report", "rotation_report"],
    deps=[dg.AssetKey(["published", "warehouse"])],
    group_name=REPORT_GROUP,
    kinds={"html"},
    description="HTML report with charts (relative strength and Fed policy, P/E discount, "
    "rate-cut event study, sector rotation) and the claims ledger, read from the published "
    "copy; written to reports/ beside the warehouse (`rotation report` writes the same).",
)
def rotation_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    result = writer.write_report(warehouse.published_file, reports_dir(warehouse.file))
    context.log.info(f"wrote {result.html_path}")
    source = ", ".join(result.sources)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.html_path)),
            "source": dg.MetadataValue.text(
                f"{source} ({SYNTHETIC_LABEL.lower()})" if result.synthetic else source
            ),
            "data_to": dg.MetadataValue.text(result.as_of),
            **figure_metadata(result.figures),
            **chart_metadata(result.charts, result.synthetic),
        }
    )
