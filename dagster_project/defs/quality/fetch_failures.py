"""Non-blocking checks that warn when a load could not fetch some tickers or series.

A live load carries on without a ticker Yahoo would not serve (delisted, throttled past
every retry) rather than lose the night for one symbol; these checks make the gap visible
in the UI and in `rotation build`'s output, with each key's reason, without stopping the
build. They read the metadata the ingest asset recorded on its latest materialization.
"""

import dagster as dg

from dagster_project.lib.sources.base import FAILURES_KEY
from dagster_project.lib.warehouse.schemas import (
    EDGAR_FACTS,
    FUNDAMENTALS,
    PRICES,
    RATES,
    VALUATION_SNAPSHOTS,
    RawTable,
)

MAX_LISTED = 10


def failures_of(metadata: dict) -> dict[str, str]:
    """The key -> reason map an ingest materialization recorded (empty when none)."""
    entry = metadata.get(FAILURES_KEY)
    value = getattr(entry, "value", entry) or {}
    return dict(value) if isinstance(value, dict) else {}


def describe(failures: dict[str, str], noun: str) -> str:
    """One line: how many keys are missing and the first few, with reasons."""
    if not failures:
        return f"every {noun} was fetched"
    listed = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:MAX_LISTED])
    more = f" (and {len(failures) - MAX_LISTED} more)" if len(failures) > MAX_LISTED else ""
    return f"{len(failures)} {noun}(s) not fetched, their earlier rows kept: {listed}{more}"


def _fetch_check(table: RawTable) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(["raw", table.name])
    # failures are reported per ticker where a table has one (edgar_facts is keyed by CIK)
    noun = "ticker" if "ticker" in table.payload else table.key[0]

    @dg.asset_check(
        asset=key,
        name=f"{table.name}_all_fetched",
        blocking=False,
        description=f"Warns (does not block) when the load of {table.qualified_name} could not "
        f"fetch some {noun}s; lists each with the source's reason.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        event = context.instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata if event else {}
        failures = failures_of(metadata)
        return dg.AssetCheckResult(
            passed=not failures,
            severity=dg.AssetCheckSeverity.WARN,
            description=describe(failures, noun),
            metadata={
                "failed_count": dg.MetadataValue.int(len(failures)),
                "failed": dg.MetadataValue.json(failures),
            },
        )

    return _check


fetch_failure_checks = [
    _fetch_check(t) for t in (PRICES, FUNDAMENTALS, RATES, VALUATION_SNAPSHOTS, EDGAR_FACTS)
]
