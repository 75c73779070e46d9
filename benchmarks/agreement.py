"""Do the floor and the peer compute what the project computes? Row counts and values.

The comparison is what makes the timings comparable: a floor or a peer that computed
something else would be fast for the wrong reason. For each of the three core marts it
checks that the row counts match, that both sides hold the same keys, and that the
values agree within ``TOLERANCE`` (absolute up to 1, relative above: market caps are in
dollars, where float summation order alone moves the 6th decimal; ``max_diff`` is
measured the same way), NULLs included:
every row of ``relative_performance`` and ``pe_discount``, and a seeded sample of
``fct_daily_prices`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

TOLERANCE = 1e-6
PRICE_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class Mart:
    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    sample_rows: int | None = None
    """Compare values on this many sampled rows (None: every row)."""
    labels: tuple[str, ...] = ()
    """Text columns, compared for equality (NULLs included)."""


MARTS = (
    Mart(
        "fct_daily_prices",
        ("ticker", "trade_date"),
        ("close", "dividends", "split_ratio", "adj_close", "daily_return", "total_return_index"),
        sample_rows=PRICE_SAMPLE_ROWS,
        labels=("return_type",),
    ),
    Mart(
        "relative_performance",
        ("pair", "trade_date"),
        (
            "numerator_index",
            "denominator_index",
            "ratio",
            "rel_return_1m",
            "rel_return_3m",
            "rel_return_6m",
            "rel_return_12m",
            "rel_return_ytd",
            "ratio_drawdown",
            "spread_daily_return",
            "dgs2_change",
            "spread_dgs2_corr_63d",
        ),
        labels=("numerator", "denominator"),
    ),
    Mart(
        "pe_discount",
        ("trade_date",),
        tuple(
            f"{bucket}_{column}"
            for bucket in ("small", "large")
            for column in (
                "constituents",
                "names_priced",
                "names_trailing",
                "names_forward",
                "market_cap",
                "ttm_earnings",
                "trailing_pe",
                "names_profitable",
                "trailing_pe_ex_losses",
                "forward_earnings",
                "forward_pe",
                "snapshot_trailing_pe",
                "snapshot_forward_pe",
            )
        )
        + (
            "large_ex_mag7_trailing_pe",
            "discount",
            "discount_history_sessions",
            "discount_percentile",
            "discount_median_to_date",
            "discount_ex_losses",
            "forward_discount",
            "forward_discount_percentile",
            "forward_discount_median_to_date",
            "snapshot_discount",
            "snapshot_forward_discount",
        ),
        labels=(
            "small_forward_pe_null_reason",
            "small_membership_method",
            "small_snapshot_ticker",
            "large_forward_pe_null_reason",
            "large_membership_method",
            "large_snapshot_ticker",
        ),
    ),
)


def compare_mart(con: duckdb.DuckDBPyConnection, mart: Mart, expected: str, actual: str) -> dict:
    """Compare relation ``actual`` with ``expected`` (the project's mart) on ``mart``."""
    keys = ", ".join(mart.keys)
    on = " and ".join(f"e.{k} = a.{k}" for k in mart.keys)
    expected_rows = con.execute(f"select count(*) from {expected}").fetchone()[0]
    actual_rows = con.execute(f"select count(*) from {actual}").fetchone()[0]
    only_expected, only_actual = con.execute(
        f"select count(*) filter (where a_present is null), "
        f"count(*) filter (where e_present is null) "
        f"from (select {keys}, true as e_present from {expected}) as e "
        f"full join (select {keys}, true as a_present from {actual}) as a on {on}"
    ).fetchone()
    rows = (
        f"(select * from {expected} using sample reservoir({mart.sample_rows} rows) "
        f"repeatable (42))"
        if mart.sample_rows
        else expected
    )
    checks = ", ".join(
        [
            f"count(e.{c}) as {c}__present, "
            f"count(*) filter (where not ({_agrees(f'e.{c}', f'a.{c}')})) as {c}__bad, "
            f"max(abs(e.{c} - a.{c}) / greatest(1.0, abs(e.{c}))) as {c}__maxdiff"
            for c in mart.values
        ]
        + [
            f"count(e.{c}) as {c}__present, "
            f"count(*) filter (where e.{c} is distinct from a.{c}) as {c}__bad, "
            f"0.0 as {c}__maxdiff"
            for c in mart.labels
        ]
    )
    compared, *stats = con.execute(
        f"select count(*), {checks} from {rows} as e join {actual} as a on {on}"
    ).fetchone()
    columns = {
        c: {
            "values": int(stats[3 * i]),
            "mismatches": int(stats[3 * i + 1]),
            "max_diff": _float(stats[3 * i + 2]),
        }
        for i, c in enumerate(mart.values + mart.labels)
    }
    mismatched = {c: v for c, v in columns.items() if v["mismatches"]}
    ok = (
        expected_rows == actual_rows
        and only_expected == 0
        and only_actual == 0
        and compared > 0
        and not mismatched
    )
    return {
        "ok": ok,
        "rows_expected": int(expected_rows),
        "rows_actual": int(actual_rows),
        "keys_missing": int(only_expected),
        "keys_extra": int(only_actual),
        "rows_compared": int(compared),
        "columns_compared": len(mart.values) + len(mart.labels),
        "values_compared": sum(v["values"] for v in columns.values()),
        "mismatched_columns": mismatched,
        "max_diff": max((v["max_diff"] or 0.0 for v in columns.values()), default=0.0),
    }


def _agrees(e: str, a: str) -> str:
    return (
        f"({e} is null and {a} is null) or "
        f"(abs({e} - {a}) <= {TOLERANCE} * greatest(1.0, abs({e})))"
    )


def _float(value) -> float | None:
    return None if value is None else float(value)


def check_agreement(project_db: Path, floor_db: Path | None, peer_dir: Path | None) -> dict:
    """Compare the floor's and the peer's marts with the project's published marts."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql(project_db)}' as project (read_only)")
        sides = {}
        if floor_db is not None:
            con.execute(f"attach '{_sql(floor_db)}' as floor_db (read_only)")
            sides["floor"] = lambda m: f"floor_db.main.{m}"
        if peer_dir is not None:
            sides["peer"] = lambda m: f"read_parquet('{_sql(Path(peer_dir) / m)}.parquet')"
        result = {
            side: {
                m.name: compare_mart(con, m, f"project.marts.{m.name}", relation(m.name))
                for m in MARTS
            }
            for side, relation in sides.items()
        }
    finally:
        con.close()
    result["ok"] = all(all(v["ok"] for v in marts.values()) for marts in result.values())
    return result


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


INPUT_FINGERPRINTS = {
    "prices": (
        "count(*), count(distinct ticker), min(trade_date), max(trade_date), sum(close), "
        "sum(dividends), sum(coalesce(splits, 0)), sum(volume)"
    ),
    "fundamentals": "count(*), count(distinct ticker), sum(eps), sum(shares_outstanding)",
    "rates": "count(*), count(distinct series_id), sum(value)",
    "universe": "count(*), count(distinct ticker), count(*) filter (where is_magnificent_7)",
    "edgar_facts": "count(*), count(distinct cik), count(distinct accn), sum(value)",
}


def check_inputs(project_db: Path, data_dir: Path) -> dict:
    """Did the build load exactly the rows the floor and the peer read? Fingerprints of
    each raw table in the warehouse against its Parquet file (sums to 1e-9 relative)."""
    con = duckdb.connect()
    tables = {}
    try:
        con.execute(f"attach '{_sql(project_db)}' as project (read_only)")
        for table, fingerprint in INPUT_FINGERPRINTS.items():
            held = con.execute(f"select {fingerprint} from project.raw.{table}").fetchone()
            parquet = _sql(Path(data_dir) / f"{table}.parquet")
            written = con.execute(f"select {fingerprint} from read_parquet('{parquet}')").fetchone()
            same = all(_same(a, b) for a, b in zip(held, written, strict=True))
            tables[table] = {"ok": same, "warehouse": _plain(held), "parquet": _plain(written)}
    finally:
        con.close()
    return {"ok": all(t["ok"] for t in tables.values()), "tables": tables}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return str(a)[:10] == str(b)[:10] if hasattr(a, "isoformat") else a == b


def _plain(row: tuple) -> list:
    return [v.isoformat()[:10] if hasattr(v, "isoformat") else v for v in row]
