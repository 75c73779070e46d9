"""The quality gates on the raw tables, as blocking Dagster asset checks.

Two gates per table, with the damage deciding the severity:

* **structural** (Great Expectations suites ``raw_prices`` / ``raw_rates``): a null or
  non-positive close, inconsistent OHLC, a duplicate key, a date that is no NYSE session,
  a malformed series id. Such a row cannot be read right, so the check fails with ERROR
  and nothing downstream is rebuilt; the rows are listed in the check and in
  ``raw.quarantine`` (action ``halt``).
* **statistical** (``quality.anomalies``): large moves, gaps, stale tickers, rate values
  outside what their series can be. Judged per ticker-day: quarantined (kept in raw, kept
  out of the marts) or a warning; the check fails with ERROR only when the faults are
  systemic (a broken feed), with WARN while rows are quarantined.

The per-row inputs are computed in DuckDB; GX validates only the rows DuckDB flags as
possible violations plus a bounded sample (``quality.validation.validate_in_duckdb``).
``raw.prices`` is checked from its last validated load on (plus a lookback), so a nightly
check reads the new days, not the whole history.
"""

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd

from dagster_project.defs.resources import SourceResource, WarehouseResource
from dagster_project.lib.quality import anomalies
from dagster_project.lib.quality.raw_checks import (
    check_prices,
    check_rates,
    judge_prices,
    prices_scope,
    structural_findings,
)
from dagster_project.lib.quality.validation import SuiteOutcome
from dagster_project.lib.settings import GateSettings
from dagster_project.lib.warehouse import store as wh


def structural_result(
    outcome: SuiteOutcome, rows_to_gx: int, check_name: str
) -> dg.AssetCheckResult:
    metadata: dict = {
        "rows_checked": dg.MetadataValue.int(outcome.row_count),
        "rows_validated_by_gx": dg.MetadataValue.int(rows_to_gx),
        "rules_evaluated": dg.MetadataValue.int(outcome.evaluated),
        "rules_failed": dg.MetadataValue.int(len(outcome.failures)),
    }
    if not outcome.passed:
        metadata["failing_rows"] = dg.MetadataValue.md(
            outcome.failing_rows().to_markdown(index=False)
        )
        metadata["failed_rules"] = dg.MetadataValue.json(
            {f.rule: f.unexpected_count for f in outcome.failures}
        )
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary(),
        metadata=metadata,
    )


MAX_LISTED_FINDINGS = 200
"""Findings shown in a check's metadata table; ``raw.quarantine`` holds all of them."""


def anomaly_result(
    judgement: anomalies.Judgement, reconciled: wh.Reconciled, check_name: str, what: str
) -> dg.AssetCheckResult:
    """ERROR when systemic; WARN while rows of the table are quarantined; else passed
    (warnings about real moves are listed either way)."""
    findings = judgement.findings
    quarantined = judgement.count(anomalies.QUARANTINE)
    warned = judgement.count(anomalies.WARN)
    if judgement.systemic:
        description = f"systemic fault, build halted: {'; '.join(judgement.systemic[:5])}" + (
            f" (+{len(judgement.systemic) - 5} more)" if len(judgement.systemic) > 5 else ""
        )
    else:
        description = (
            f"{quarantined:,} {what} quarantined (kept in raw, kept out of the marts), "
            f"{warned:,} warning{'' if warned == 1 else 's'}; "
            f"{reconciled.open_quarantined:,} quarantined in all "
            "(query raw.quarantine)"
        )
    metadata: dict = {
        "quarantined_in_scope": dg.MetadataValue.int(quarantined),
        "warnings_in_scope": dg.MetadataValue.int(warned),
        "quarantined_open": dg.MetadataValue.int(reconciled.open_quarantined),
        "entries_opened": dg.MetadataValue.int(reconciled.opened),
        "entries_resolved": dg.MetadataValue.int(reconciled.resolved),
        "query": "SELECT * FROM raw.quarantine WHERE status = 'open' ORDER BY obs_date",
    }
    if len(findings):
        listed = findings.sort_values(["action", "obs_date"]).head(MAX_LISTED_FINDINGS)
        listed = listed.assign(obs_date=pd.to_datetime(listed["obs_date"]).dt.date)
        metadata["findings"] = dg.MetadataValue.md(
            listed[["key", "obs_date", "rule", "action", "value"]].to_markdown(index=False)
        )
        metadata["by_rule"] = dg.MetadataValue.json(
            {
                f"{action}: {rule}": int(n)
                for (action, rule), n in findings.groupby(["action", "rule"]).size().items()
            }
        )
    if judgement.systemic:
        metadata["systemic"] = dg.MetadataValue.json(judgement.systemic)
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not judgement.systemic and reconciled.open_quarantined == 0,
        severity=(
            dg.AssetCheckSeverity.ERROR if judgement.systemic else dg.AssetCheckSeverity.WARN
        ),
        description=description,
        metadata=metadata,
    )


quarantine_table = dg.AssetSpec(
    key=["raw", "quarantine"],
    group_name="ingest",
    kinds={"duckdb"},
    description="What the quality gates flagged, one row per raw row and rule (action "
    "quarantine / warn / halt, status open / resolved). Written by the checks on raw/prices "
    "and raw/rates, not materialized on its own; staging keeps open quarantines out of "
    "every model.",
)
"""The table dbt reads (source raw.quarantine) as an external asset, so the lineage shows
where the marts' exclusions come from."""

PRICES_KEY = dg.AssetKey(["raw", "prices"])
RATES_KEY = dg.AssetKey(["raw", "rates"])
UNIVERSE_KEY = dg.AssetKey(["raw", "universe"])


@dg.multi_asset_check(
    name="raw_prices_gates",
    specs=[
        dg.AssetCheckSpec(
            "raw_prices_expectations",
            asset=PRICES_KEY,
            blocking=True,
            description="Structural (GX suite raw_prices): close present and positive, "
            "consistent OHLC, one row per ticker and day, NYSE sessions only. A failure "
            "halts the build.",
        ),
        dg.AssetCheckSpec(
            "raw_prices_anomalies",
            asset=PRICES_KEY,
            blocking=True,
            additional_deps=[UNIVERSE_KEY],
            description="Statistical: a large move (limit by asset kind and size) that "
            "reverses next session, contradicts its split ratio or sits on the latest "
            "session is quarantined; one that stands, a gap or a stale ticker is a warning. "
            "Halts only when systemic. Findings in raw.quarantine.",
        ),
    ],
)
def raw_prices_gates(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    gates = GateSettings.from_env()
    run_id = context.run.run_id
    with warehouse.connect() as con:
        wh.ensure_raw_schema(con)
        scope = prices_scope(con)
        lookback = scope[0] if scope else dt.date.min
        outcome, rows_to_gx = check_prices(con, scope)
        judgement = judge_prices(con, gates, scope)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        wh.reconcile_findings(
            con,
            "raw.prices",
            structural_findings(outcome, "raw.prices"),
            "q.action = 'halt' AND q.obs_date >= ?",
            [lookback],
            run_id,
            now,
        )
        reconciled = wh.reconcile_findings(
            con,
            "raw.prices",
            judgement.findings,
            "q.action <> 'halt' AND (q.obs_date >= ? OR q.rule = ?)",
            [lookback, anomalies.STALE],
            run_id,
            now,
        )
        if outcome.passed and not judgement.systemic:
            wh.record_validated(con, "prices", outcome.row_count, run_id)
    yield structural_result(outcome, rows_to_gx, "raw_prices_expectations")
    yield anomaly_result(judgement, reconciled, "raw_prices_anomalies", "ticker-days")


@dg.multi_asset_check(
    name="raw_rates_gates",
    specs=[
        dg.AssetCheckSpec(
            "raw_rates_expectations",
            asset=RATES_KEY,
            blocking=True,
            description="Structural (GX suite raw_rates): FRED-style series ids, one row "
            "per series and day. A failure halts the build.",
        ),
        dg.AssetCheckSpec(
            "raw_rates_ranges",
            asset=RATES_KEY,
            blocking=True,
            description="Each value within the range of its kind of series, from its units "
            "(fred_series.yaml, rates/series.csv): a rate may be negative, an index level "
            "may not. Values outside are quarantined; halts only when a series is "
            "systematically out of range (wrong units).",
        ),
        dg.AssetCheckSpec(
            "fed_inputs_present",
            asset=RATES_KEY,
            description="The series the Fed marts need over the priced history "
            "(DFEDTARU/DFEDTARL, DFEDTAR before 2008-12-16, DFF, DGS2, DGS10): a WARN "
            "names each mart that cannot be built and the series it needs.",
        ),
    ],
)
def raw_rates_gates(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, source: SourceResource
):
    gates = GateSettings.from_env()
    run_id = context.run.run_id
    with warehouse.connect() as con:
        wh.ensure_raw_schema(con)
        outcome, rows_to_gx = check_rates(con)
        judgement = anomalies.rate_findings(con, source_units(source), gates)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        wh.reconcile_findings(
            con,
            "raw.rates",
            structural_findings(outcome, "raw.rates"),
            "q.action = 'halt'",
            [],
            run_id,
            now,
        )
        reconciled = wh.reconcile_findings(
            con, "raw.rates", judgement.findings, "q.action <> 'halt'", [], run_id, now
        )
        missing = fed_inputs_missing(series_spans(con), price_span(con))
    yield structural_result(outcome, rows_to_gx, "raw_rates_expectations")
    yield anomaly_result(judgement, reconciled, "raw_rates_ranges", "values")
    yield dg.AssetCheckResult(
        check_name="fed_inputs_present",
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "every series the Fed marts read is present"
            if not missing
            else "Fed marts without their inputs: " + " | ".join(missing)
        ),
        metadata={"missing": dg.MetadataValue.json(missing)},
    )


def source_units(source: SourceResource) -> dict[str, str]:
    """Units the source states for its series (a files folder's rates/series.csv)."""
    stated = getattr(source.get(), "series_units", None)
    return stated() if stated else {}


RANGE_START = dt.date(2008, 12, 16)
"""FRED's target range series begin here; before it, the single target DFEDTAR."""

FED_MARTS = "fomc_decisions, fed_policy_daily (target, regime), rate_cut_event_study/summary"


def fed_inputs_missing(
    spans: dict[str, tuple[dt.date, dt.date]], prices: tuple[dt.date, dt.date] | None
) -> list[str]:
    """What the Fed marts cannot show over the priced history, naming the series needed.

    Why: without the target series, ``fomc_decisions`` is empty and the regime says
    "hold" however far DFF falls; a user of the files source must hear which file to add,
    not find empty marts.
    """
    if prices is None:
        return []
    first, last = prices
    missing = []

    def covers(series: str, start: dt.date, end: dt.date) -> bool:
        span = spans.get(series)
        return span is not None and span[0] <= start and span[1] >= min(end, span[1])

    if last >= RANGE_START:
        start = max(first, RANGE_START)
        lacking = [s for s in ("DFEDTARU", "DFEDTARL") if not covers(s, start, last)]
        if lacking:
            missing.append(
                f"{FED_MARTS} from {start}: need {' and '.join(lacking)} "
                f"(FRED target range) from {start}"
            )
    if first < RANGE_START and not covers("DFEDTAR", first, RANGE_START):
        missing.append(
            f"{FED_MARTS} before {RANGE_START}: need DFEDTAR (FRED single target) from {first}"
        )
    if "DFF" not in spans:
        missing.append("fed_policy_daily effective rate: need DFF")
    lacking = [s for s in ("DGS2", "DGS10") if s not in spans]
    if lacking:
        missing.append(f"fed_policy_daily 2s10s slope: need {' and '.join(lacking)}")
    return missing


def series_spans(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[dt.date, dt.date]]:
    rows = con.execute(
        "SELECT series_id, min(obs_date), max(obs_date) FROM raw.rates "
        "WHERE value IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {series: (first, last) for series, first, last in rows}


def price_span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    sql = "SELECT min(trade_date), max(trade_date) FROM raw.prices"
    first, last = con.execute(sql).fetchall()[0]
    return None if first is None else (first, last)


raw_quality_checks = [raw_prices_gates, raw_rates_gates]
