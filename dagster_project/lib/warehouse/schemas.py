"""The canonical raw schemas: the one contract every source writes and dbt reads.

Every source returns frames with exactly the *payload* columns below; the writer adds
``source`` and ``loaded_at``. Prices are as traded (``close`` is not adjusted for later
splits or dividends): adjustment happens in dbt from ``dividends`` and ``splits`` so a
corporate action that arrives after earlier loads never leaves a kink in history.
"""

from __future__ import annotations

from dataclasses import dataclass


class _InRawSchema:
    """DDL shared by every table in the ``raw`` schema, from its ``name`` and ``columns``."""

    name: str
    columns: dict[str, str]

    @property
    def qualified_name(self) -> str:
        return f"raw.{self.name}"

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{name} {dtype}" for name, dtype in self.columns.items())
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} (\n  {cols}\n)"


@dataclass(frozen=True)
class RawTable(_InRawSchema):
    """A raw table: its payload columns (name -> DuckDB type) and its natural key."""

    name: str
    payload: dict[str, str]
    key: tuple[str, ...]
    date_column: str
    description: str

    @property
    def columns(self) -> dict[str, str]:
        return {**self.payload, "source": "VARCHAR NOT NULL", "loaded_at": "TIMESTAMP NOT NULL"}


PRICES = RawTable(
    name="prices",
    payload={
        "ticker": "VARCHAR NOT NULL",
        "trade_date": "DATE NOT NULL",
        "open": "DOUBLE",
        "high": "DOUBLE",
        "low": "DOUBLE",
        "close": "DOUBLE",
        "adj_close": "DOUBLE",
        "volume": "DOUBLE",
        "dividends": "DOUBLE",
        "splits": "DOUBLE",
    },
    key=("ticker", "trade_date"),
    date_column="trade_date",
    description=(
        "One row per ticker per trading day, as traded. dividends: cash per share going ex "
        "that day (0 when none). splits: split ratio effective that day (2.0 for 2-for-1, "
        "0 or NULL when none). adj_close: the source's own adjusted close where it has one "
        "(informational; marts adjust from close, dividends and splits)."
    ),
)

FUNDAMENTALS = RawTable(
    name="fundamentals",
    payload={
        "ticker": "VARCHAR NOT NULL",
        "period_end": "DATE NOT NULL",
        "report_date": "DATE",
        "eps": "DOUBLE",
        "eps_estimate": "DOUBLE",
        "shares_outstanding": "DOUBLE",
    },
    key=("ticker", "period_end"),
    date_column="period_end",
    description=(
        "One row per ticker per fiscal quarter per version. eps: diluted EPS for the quarter "
        "in the share terms of that quarter. report_date: when it became public (NULL: "
        "assume period_end + 45 days). eps_estimate: consensus EPS estimate for the quarter, "
        "where known. Append-only and bitemporal: a fetch adds a version of a quarter when "
        "its figures differ from the latest held one, never deletes or overwrites, and adds "
        "nothing for a ticker whose answer holds less than the warehouse (a partial answer, "
        "reported). loaded_at is the version's fetched_at: when the load that first fetched "
        "these figures wrote them. dbt reads each quarter as first reported."
    ),
)

VALUATION_SNAPSHOTS = RawTable(
    name="valuation_snapshots",
    payload={
        "ticker": "VARCHAR NOT NULL",
        "snapshot_date": "DATE NOT NULL",
        "trailing_pe": "DOUBLE",
        "forward_pe": "DOUBLE",
        "market_cap": "DOUBLE",
    },
    key=("ticker", "snapshot_date"),
    date_column="snapshot_date",
    description=(
        "Point-in-time valuation as the source reported it that day; accumulates nightly. "
        "Append-only and bitemporal like fundamentals: a second fetch of a day adds a "
        "version when the figures moved (a partial answer adds nothing); loaded_at is the "
        "version's fetched_at. dbt reads each day's latest version."
    ),
)

RATES = RawTable(
    name="rates",
    payload={
        "series_id": "VARCHAR NOT NULL",
        "obs_date": "DATE NOT NULL",
        "value": "DOUBLE",
    },
    key=("series_id", "obs_date"),
    date_column="obs_date",
    description="One row per FRED series per observation date, in the series' own units.",
)

UNIVERSE = RawTable(
    name="universe",
    payload={
        "ticker": "VARCHAR NOT NULL",
        "name": "VARCHAR",
        "kind": "VARCHAR NOT NULL",
        "size": "VARCHAR",
        "style": "VARCHAR",
        "sector": "VARCHAR",
        "is_magnificent_7": "BOOLEAN NOT NULL",
    },
    key=("ticker",),
    date_column="",
    description=(
        "One row per ticker the source covers. kind: index | etf | stock. size: large | "
        "small (stocks: their basket; funds and indices: what they track). style: value | "
        "growth | blend. sector: GICS sector of a stock or a sector fund."
    ),
)

CLAIMS = RawTable(
    name="claims",
    payload={
        "claim_id": "VARCHAR NOT NULL",
        "position": "INTEGER NOT NULL",
        "text": "VARCHAR",
        "metric": "VARCHAR",
        "ticker": "VARCHAR",
        "versus": "VARCHAR",
        "series_id": "VARCHAR",
        "start_date": "DATE",
        "end_date": "DATE",
        "on_date": "DATE",
        "claimed": "DOUBLE",
        "comparison": "VARCHAR",
        "tolerance": "DOUBLE",
        "error": "VARCHAR",
        "claims_file": "VARCHAR NOT NULL",
    },
    key=("claim_id",),
    date_column="",
    description=(
        "One row per claim in the claims file, validated; a malformed claim keeps an "
        "`error` naming its id and field. Replaced whole on every load: the file defines it."
    ),
)

EDGAR_FACTS = RawTable(
    name="edgar_facts",
    payload={
        "ticker": "VARCHAR NOT NULL",
        "cik": "VARCHAR NOT NULL",
        "taxonomy": "VARCHAR NOT NULL",
        "concept": "VARCHAR NOT NULL",
        "unit": "VARCHAR NOT NULL",
        "period_start": "DATE",
        "period_end": "DATE NOT NULL",
        "value": "DOUBLE",
        "fy": "INTEGER",
        "fp": "VARCHAR",
        "form": "VARCHAR",
        "filed": "DATE NOT NULL",
        "accn": "VARCHAR NOT NULL",
        "frame": "VARCHAR",
    },
    key=("cik", "taxonomy", "concept", "unit", "period_start", "period_end", "accn"),
    date_column="filed",
    description=(
        "One row per SEC XBRL fact version: one filing's (accn) figure for one company (cik, "
        "10 digits), concept and period, as EDGAR's companyfacts list it. Append-only: a "
        "restatement is another row with a later filed and accn, never an update. "
        "period_start is NULL for instant facts (shares outstanding). fy, fp and form "
        "describe the filing, not the period. ticker: the symbol the company loads under."
    ),
)

ETF_HOLDINGS = RawTable(
    name="etf_holdings",
    payload={
        "fund": "VARCHAR NOT NULL",
        "as_of_date": "DATE NOT NULL",
        "ticker": "VARCHAR NOT NULL",
        "name": "VARCHAR",
        "sector": "VARCHAR",
        "asset_class": "VARCHAR NOT NULL",
        "weight": "DOUBLE NOT NULL",
        "market_value": "DOUBLE",
        "shares": "DOUBLE",
    },
    key=("fund", "as_of_date", "ticker"),
    date_column="as_of_date",
    description=(
        "One row per fund, holdings date and equity holding, from ETF holdings files "
        "(iShares' holdings CSV layout). weight: fraction of the fund's net assets (the "
        "file's Weight (%) / 100); market_value in the fund's currency; shares: the file's "
        "Quantity. Only equity rows: cash, money-market and derivative rows are dropped."
    ),
)

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        PRICES,
        FUNDAMENTALS,
        VALUATION_SNAPSHOTS,
        RATES,
        UNIVERSE,
        CLAIMS,
        EDGAR_FACTS,
        ETF_HOLDINGS,
    )
}


@dataclass(frozen=True)
class AuditTable(_InRawSchema):
    """A table the quality gates write (not source data: no ``source`` column)."""

    name: str
    columns: dict[str, str]
    description: str


QUARANTINE = AuditTable(
    name="quarantine",
    columns={
        "table_name": "VARCHAR NOT NULL",
        "key": "VARCHAR",
        "obs_date": "DATE",
        "rule": "VARCHAR NOT NULL",
        "action": "VARCHAR",
        "value": "VARCHAR",
        "status": "VARCHAR",
        "detected_at": "TIMESTAMP NOT NULL",
        "resolved_at": "TIMESTAMP",
        "as_of_load": "TIMESTAMP",
        "run_id": "VARCHAR NOT NULL",
    },
    description=(
        "One row per raw row and rule a quality gate flagged: table_name (raw.prices, "
        "raw.rates), key (ticker or series id), obs_date (the row's date), rule, action "
        "(quarantine: kept in raw, kept out of the marts; warn: kept, worth a look; halt: a "
        "structural fault that stopped the build), value (the figures judged, as JSON), "
        "status (open, or resolved once a later check no longer flags the row, e.g. the "
        "source corrected it), detected_at / resolved_at, as_of_load (the table's latest "
        "loaded_at when the status last changed: incremental marts rebuild from it)."
    ),
)

QUALITY_WATERMARKS = AuditTable(
    name="quality_watermarks",
    columns={
        "table_name": "VARCHAR NOT NULL",
        "validated_through": "TIMESTAMP NOT NULL",
        "rows_checked": "BIGINT NOT NULL",
        "checked_at": "TIMESTAMP NOT NULL",
        "run_id": "VARCHAR NOT NULL",
    },
    description=(
        "One row per raw table with a quality gate: every row of table_name loaded at or "
        "before validated_through passed it (as of the last passed check). The next check "
        "validates only later loads (and the rows around them), so a nightly check costs "
        "the new day, not the whole history."
    ),
)

AUDIT_TABLES: dict[str, AuditTable] = {t.name: t for t in (QUARANTINE, QUALITY_WATERMARKS)}
