"""Measure a claims file on a published warehouse copy with the nightly ledger's own SQL.

``marts.claims`` (the nightly ledger) and ``rotation claims --file F`` must never measure
differently, so there is one measuring query: the dbt macro ``measure_claims`` in
``dbt/macros/measure_claims.sql``. dbt renders it for the mart, passing refs and vars;
this module renders the same file with plain Jinja, passing the marts' schema-qualified
names on the published copy and the vars read from ``dbt_project.yml``. The claims go
through the same staging model text (``stg_raw__claims.sql``, its ``source()`` pointed at
the validated frame), so the CLI path differs from dbt's only in where the claims come
from. Why not a dbt run: a Dagster or dbt invocation costs a minute (and a files-built
warehouse refused a run with another source label); this answers in about a second,
reading the published copy only, never writing to any warehouse.

Imports stay light (duckdb, jinja2, yaml; no pandas, no Dagster): the CLI imports this
module, and pandas alone would cost more than the whole measurement.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import jinja2
import yaml

from dagster_project.lib import claims as ledger
from dagster_project.lib.settings import DBT_PROJECT_DIR, DuckDBSettings
from dagster_project.lib.warehouse.schemas import CLAIMS

MACRO_FILE = DBT_PROJECT_DIR / "macros" / "measure_claims.sql"
STAGING_MODEL_FILE = DBT_PROJECT_DIR / "models" / "staging" / "raw" / "stg_raw__claims.sql"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"

INPUTS = {
    "prices": "marts.fct_daily_prices",
    "rates": "staging.stg_raw__rates",
    "decisions": "marts.fomc_decisions",
    "pe": "marts.pe_discount",
}
"""What models/marts/claims.sql passes as refs, by the names dbt gives them in a warehouse."""

VARS = {
    "price_staleness": "claims_max_staleness_days",
    "rate_staleness": "claims_max_rate_staleness_days",
    "record_high_min_sessions": "claims_record_high_min_sessions",
}
"""The macro's settings and the dbt vars they come from (the same vars marts.claims uses)."""

RAW_CLAIMS_TABLE = "claims_file_raw"
STAGED_CLAIMS_VIEW = "claims_file_staged"


class MeasureError(RuntimeError):
    """The published copy cannot be measured on (missing, or built before the marts)."""


def _jinja() -> jinja2.Environment:
    """Strict Jinja: a dbt-only call slipped into the shared SQL fails here, loudly,
    instead of rendering as an empty string."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@functools.cache
def dbt_vars(project_file: Path = DBT_PROJECT_FILE) -> dict:
    """The project's vars, read from ``dbt_project.yml`` as dbt reads them (defaults only:
    the nightly build sets no ``--vars``)."""
    return yaml.safe_load(Path(project_file).read_text())["vars"]


def measuring_sql(claims_relation: str, inputs: dict[str, str] | None = None) -> str:
    """The ledger query over ``claims_relation`` (shaped like ``stg_raw__claims``)."""
    macro = _jinja().from_string(MACRO_FILE.read_text()).module.measure_claims
    settings = {arg: dbt_vars()[var] for arg, var in VARS.items()}
    return str(macro(claims=claims_relation, **(inputs or INPUTS), **settings))


def staging_sql(raw_relation: str) -> str:
    """``stg_raw__claims`` with its source pointed at ``raw_relation``: the one renaming."""
    template = _jinja().from_string(STAGING_MODEL_FILE.read_text())
    return template.render(source=lambda _schema, _table: raw_relation)


def _attach_read_only(con: duckdb.DuckDBPyConnection, published: Path) -> None:
    """Attach the copy read-only under its file name, the catalog name dbt built it with,
    and make it the default so ``marts.x`` and the staging views resolve as in dbt."""
    alias = Path(published).stem.replace('"', '""')
    path = str(published).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS \"{alias}\" (READ_ONLY)")
    con.execute(f'USE "{alias}"')


def _load_claims(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """The validated claims as a temporary table typed like ``raw.claims``."""
    columns = ", ".join(f"{name} {kind}" for name, kind in CLAIMS.payload.items())
    con.execute(f"CREATE TEMP TABLE {RAW_CLAIMS_TABLE} ({columns})")
    if rows:
        names = list(CLAIMS.payload)
        marks = ", ".join("?" for _ in names)
        con.executemany(
            f"INSERT INTO temp.main.{RAW_CLAIMS_TABLE} VALUES ({marks})",
            [[row[name] for name in names] for row in rows],
        )


def measure_claims_file(
    published: Path, claims_file: Path, columns: str = "*"
) -> tuple[list[str], list[tuple]]:
    """Validate ``claims_file`` against the copy's tickers and series, measure every claim.

    Returns the column names and one row per claim (the columns of ``marts.claims``, or
    ``columns``, a select list), in the file's order. Raises ``ledger.ClaimsFileError``
    for an unreadable file and ``MeasureError`` when the copy cannot be measured on.
    """
    published = Path(published)
    if not published.exists():
        raise MeasureError(f"{published} does not exist yet: run `rotation build` first")
    raw = ledger.read_claims_file(claims_file)
    con = duckdb.connect(config=DuckDBSettings.from_env().config())
    try:
        _attach_read_only(con, published)
        try:
            known_tickers, known_series = ledger.known_symbols(con)
        except duckdb.CatalogException as exc:
            raise MeasureError(f"{published} holds no raw data: run `rotation build`") from exc
        _load_claims(con, ledger.claims_rows(raw, claims_file, known_tickers, known_series))
        staged = staging_sql(f"temp.main.{RAW_CLAIMS_TABLE}")
        con.execute(f"CREATE TEMP VIEW {STAGED_CLAIMS_VIEW} AS {staged}")
        query = measuring_sql(f"temp.main.{STAGED_CLAIMS_VIEW}")
        try:
            result = con.execute(
                f"SELECT {columns} FROM ({query}) AS ledger ORDER BY claim_position"
            )
        except duckdb.CatalogException as exc:
            raise MeasureError(
                f"{published} has no marts to measure on ({exc}): run `rotation build`"
            ) from exc
        return [column[0] for column in result.description], result.fetchall()
    finally:
        con.close()
