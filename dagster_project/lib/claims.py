"""The claims ledger's input: read ``claims.yaml``, validate each claim, flatten to rows.

Validation is per claim: a malformed claim becomes a row with an ``error`` naming its id
and field, and every other claim still goes on to be measured (by the one measuring query,
``dbt/macros/measure_claims.sql``: in dbt for ``marts.claims``, and by
``lib/claims_measure.py`` for ``rotation claims --file``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dagster_project.lib.symbol_patterns import SERIES_PATTERN, TICKER_PATTERN
from dagster_project.lib.warehouse.schemas import CLAIMS

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


METRICS = (
    "return",
    "relative_return",
    "drawdown",
    "rally",
    "record_high",
    "rate",
    "rate_change",
    "pe_discount",
)
COMPARISONS = ("=", ">=", "<=")
DEFAULT_TOLERANCE = 0.005

NEEDS_TICKER = {"return", "relative_return", "drawdown", "rally", "record_high"}
NEEDS_SERIES = {"rate", "rate_change"}
NEEDS_WINDOW = {"return", "relative_return", "drawdown", "rally", "rate_change"}
NEEDS_ON = {"record_high", "rate", "pe_discount"}
KNOWN_FIELDS = {
    "id",
    "text",
    "metric",
    "ticker",
    "versus",
    "series",
    "start",
    "end",
    "on",
    "claimed",
    "comparison",
    "tolerance",
    "source",
}

CLAIM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

COLUMNS = list(CLAIMS.payload)


class ClaimsFileError(ValueError):
    """The file as a whole cannot be read (missing, not YAML, no ``claims:`` list)."""


class _PlainYamlLoader(yaml.SafeLoader):
    """YAML 1.1 reads ``on:``, ``yes`` and ``no`` as booleans; a claim's ``on:`` is a key."""


_PlainYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PlainYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class ClaimRow:
    claim_id: str
    position: int
    text: str | None = None
    metric: str | None = None
    ticker: str | None = None
    versus: str | None = None
    series_id: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    on_date: dt.date | None = None
    claimed: float | None = None
    comparison: str | None = None
    tolerance: float | None = None
    error: str | None = None


def read_claims_file(path: Path) -> list[dict]:
    """The raw claim mappings of a claims file, or a ClaimsFileError naming the file."""
    path = Path(path)
    if not path.exists():
        raise ClaimsFileError(f"claims file {path} does not exist")
    try:
        document = yaml.load(path.read_text(), Loader=_PlainYamlLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ClaimsFileError(f"claims file {path} is not valid YAML: {exc}") from exc
    claims = document.get("claims") if isinstance(document, dict) else None
    if not isinstance(claims, list):
        raise ClaimsFileError(f"claims file {path} must hold a top-level list `claims:`")
    return claims


class _Invalid(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def _date(raw: dict, field: str) -> dt.date | None:
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _Invalid(field, f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _number(raw: dict, field: str) -> float | None:
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Invalid(field, f"{value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise _Invalid(field, f"{value!r} is not a number") from exc


def _symbol(raw: dict, field: str, pattern: re.Pattern, known: set[str] | None) -> str | None:
    """The claim's symbol, upper-cased, if it matches the sources' own strict pattern (it
    ends up in SQL parameters and the report) and, when ``known`` is given, is held."""
    value = raw.get(field)
    if value is None:
        return None
    text = str(value).strip().upper()
    if not pattern.match(text):
        raise _Invalid(field, f"{value!r} is not a valid symbol")
    if known is not None and text not in known:
        raise _Invalid(field, f"unknown {field} {text!r}: the warehouse has no such {field}")
    return text


def _tolerance(raw: dict, metric: str, comparison: str) -> float:
    """How far ``=`` may miss. One-sided claims are strict (``>=`` means measured >=
    claimed, exactly), so a tolerance there would silently move the claimed figure: it
    is refused, and the author writes the figure they mean instead."""
    tolerance = _number(raw, "tolerance")
    if comparison != "=":
        if tolerance:
            raise _Invalid(
                "tolerance",
                f"widens '=' only; a {comparison!r} claim is strict (measured "
                f"{comparison} claimed): drop the tolerance or change the claimed figure",
            )
        return 0.0
    if tolerance is None:
        return 0.0 if metric == "record_high" else DEFAULT_TOLERANCE
    if tolerance < 0:
        raise _Invalid("tolerance", "must not be negative")
    return tolerance


def known_symbols(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """The tickers and rate series a warehouse holds, which a claim may name.

    The nightly load and ``rotation claims --file`` both validate against these, so a
    claim is refused (or accepted) the same way on either path.
    """
    tickers = {
        row[0]
        for row in con.execute(
            "SELECT ticker FROM raw.universe UNION SELECT DISTINCT ticker FROM raw.prices"
        ).fetchall()
    }
    series = {row[0] for row in con.execute("SELECT DISTINCT series_id FROM raw.rates").fetchall()}
    return tickers, series


def validate_claim(
    raw: object,
    position: int,
    known_tickers: set[str] | None = None,
    known_series: set[str] | None = None,
) -> ClaimRow:
    """One claim mapping -> a row to measure, or a row whose ``error`` names the field."""
    claim_id = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else None
    label = claim_id or f"#{position + 1}"
    try:
        if not isinstance(raw, dict):
            raise _Invalid("claim", "must be a mapping of fields")
        if claim_id is None or not CLAIM_ID.match(claim_id):
            raise _Invalid("id", f"{raw.get('id')!r} is missing or not a valid id")
        unknown = sorted(set(map(str, raw)) - KNOWN_FIELDS)
        if unknown:
            raise _Invalid(unknown[0], "is not a claim field")
        metric = raw.get("metric")
        if metric not in METRICS:
            raise _Invalid("metric", f"{metric!r} is not one of {', '.join(METRICS)}")
        ticker = _symbol(raw, "ticker", TICKER_PATTERN, known_tickers)
        versus = _symbol(raw, "versus", TICKER_PATTERN, known_tickers)
        series = _symbol(raw, "series", SERIES_PATTERN, known_series)
        start, end, on = _date(raw, "start"), _date(raw, "end"), _date(raw, "on")
        if metric in NEEDS_TICKER and not ticker:
            raise _Invalid("ticker", f"is required for metric {metric}")
        if metric == "relative_return" and not versus:
            raise _Invalid("versus", "is required for metric relative_return")
        if metric in NEEDS_SERIES and not series:
            raise _Invalid("series", f"is required for metric {metric}")
        if metric in NEEDS_WINDOW:
            for field, value in (("start", start), ("end", end)):
                if value is None:
                    raise _Invalid(field, f"is required for metric {metric}")
            if end < start:
                raise _Invalid("end", f"{end} is before start {start}")
        if metric in NEEDS_ON and on is None:
            raise _Invalid("on", f"is required for metric {metric}")
        claimed_raw = raw.get("claimed")
        if metric == "record_high":
            if not isinstance(claimed_raw, bool):
                raise _Invalid("claimed", "must be true or false for metric record_high")
            claimed = 1.0 if claimed_raw else 0.0
        else:
            claimed = _number(raw, "claimed")
            if claimed is None:
                raise _Invalid("claimed", "is required")
        comparison = str(raw.get("comparison", "="))
        if comparison not in COMPARISONS:
            raise _Invalid("comparison", f"{comparison!r} is not one of {', '.join(COMPARISONS)}")
        tolerance = _tolerance(raw, metric, comparison)
    except _Invalid as problem:
        text = raw.get("text") if isinstance(raw, dict) else None
        return ClaimRow(
            claim_id=label, position=position, text=text, error=f"claim {label}: {problem}"
        )
    return ClaimRow(
        claim_id=claim_id,
        position=position,
        text=raw.get("text"),
        metric=metric,
        ticker=ticker,
        versus=versus,
        series_id=series,
        start_date=start,
        end_date=end,
        on_date=on,
        claimed=claimed,
        comparison=comparison,
        tolerance=tolerance,
    )


def claims_rows(
    raw_claims: Iterable[object],
    claims_file: Path,
    known_tickers: set[str] | None = None,
    known_series: set[str] | None = None,
) -> list[dict]:
    """All claims as rows of ``raw.claims`` (dicts keyed by ``COLUMNS``); duplicate ids
    are errors on the later claim. Plain Python, so the CLI needs no pandas."""
    rows, seen = [], set()
    for position, raw in enumerate(raw_claims):
        row = validate_claim(raw, position, known_tickers, known_series)
        if row.error is None and row.claim_id in seen:
            row = ClaimRow(
                claim_id=f"{row.claim_id}#{position + 1}",
                position=position,
                text=row.text,
                error=f"claim {row.claim_id}: id: is used by an earlier claim",
            )
        seen.add(row.claim_id)
        rows.append({**row.__dict__, "claims_file": str(claims_file)})
    return rows


def claims_frame(
    raw_claims: Iterable[object],
    claims_file: Path,
    known_tickers: set[str] | None = None,
    known_series: set[str] | None = None,
) -> pd.DataFrame:
    """``claims_rows`` as a frame, the shape the raw loader writes."""
    import pandas as pd

    rows = claims_rows(raw_claims, claims_file, known_tickers, known_series)
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    for column in ("start_date", "end_date", "on_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame
