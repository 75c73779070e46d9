"""The claims ledger's input: the claims file, validated and loaded into ``raw.claims``.

The measuring happens in dbt (``marts.claims``), in SQL over the marts: the macro
``measure_claims``, which ``rotation claims --file`` also runs, on the published copy.
"""

import datetime as dt

import dagster as dg

from dagster_project.defs.resources import (
    ClaimsResource,
    SourceResource,
    WarehouseResource,
)
from dagster_project.lib import claims as ledger
from dagster_project.lib.warehouse.schemas import CLAIMS
from dagster_project.lib.warehouse.store import (
    assert_single_source,
    ensure_raw_schema,
    replace_table,
)

CLAIMS_GROUP = "claims"


@dg.asset(
    key=["raw", "claims"],
    deps=[dg.AssetKey(["raw", "universe"]), dg.AssetKey(["raw", "rates"])],
    group_name=CLAIMS_GROUP,
    kinds={"duckdb", "yaml"},
    description="Market claims from the claims file (ROTATION_CLAIMS, default claims.yaml), "
    "one row per claim; a malformed claim keeps an `error` naming its id and field.",
)
def raw_claims(
    context: dg.AssetExecutionContext,
    claims: ClaimsResource,
    source: SourceResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    path = claims.file
    raw = ledger.read_claims_file(path)
    label = source.get().label
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with warehouse.connect() as con:
        ensure_raw_schema(con)
        assert_single_source(con, warehouse.file, label)
        known_tickers, known_series = ledger.known_symbols(con)
        frame = ledger.claims_frame(raw, path, known_tickers, known_series)
        ledger_rows = replace_table(con, CLAIMS, frame, label, loaded_at)
    errors = frame["error"].dropna().tolist()
    for error in errors:
        context.log.warning(error)
    context.log.info(f"loaded {ledger_rows} claims from {path} ({len(errors)} malformed)")
    return dg.MaterializeResult(
        metadata={
            "claims_file": dg.MetadataValue.path(str(path)),
            "claims": dg.MetadataValue.int(ledger_rows),
            "malformed": dg.MetadataValue.int(len(errors)),
            "errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in errors) or "none"),
        }
    )
