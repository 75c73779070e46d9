"""Latency of the documented example queries on the published read-only copy.

The queries are read from the SQL cookbook itself, ``docs/marts.md`` (every
``rotation sql "..."`` in its "Query it" and "Questions you can answer" sections; they
were the README's sections of those names until the README was split into ``docs/``), so
the benchmark times what users are told to run, and follows the page as it changes. Each
query runs once to warm up, then ``repeats`` times in one read-only connection, as a
notebook or BI tool would hold one.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import duckdb

from dagster_project.lib.settings import PROJECT_ROOT

README = PROJECT_ROOT / "docs" / "marts.md"
"""The page holding the example queries (the name is kept from when it was the README)."""
SECTIONS = ("Query it", "Questions you can answer")
SQL_COMMAND = re.compile(r'rotation sql "(.*?)"', re.DOTALL)


def readme_queries(readme: Path = README, sections: tuple[str, ...] = SECTIONS) -> list[str]:
    """The SQL of every ``rotation sql "..."`` example in the query sections of ``readme``
    (default ``docs/marts.md``)."""
    text = Path(readme).read_text()
    queries: list[str] = []
    for section in sections:
        match = re.search(rf"^## {re.escape(section)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
        if match:
            queries += [" ".join(q.split()) for q in SQL_COMMAND.findall(match.group(1))]
    if not queries:
        raise ValueError(f"no `rotation sql` examples found in {readme} sections {sections}")
    return list(dict.fromkeys(queries))


def percentile(values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of a non-empty list."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def time_queries(database: Path, queries: list[str], repeats: int = 20) -> dict:
    """p50/p95 per query (milliseconds) and over all timed runs."""
    con = duckdb.connect(str(database), read_only=True)
    results, every = [], []
    try:
        for sql in queries:
            rows = len(con.execute(sql).fetchall())  # warm-up
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                con.execute(sql).fetchall()
                timings.append((time.perf_counter() - started) * 1000.0)
            every += timings
            results.append(
                {
                    "sql": sql,
                    "rows": rows,
                    "p50_ms": round(statistics.median(timings), 3),
                    "p95_ms": round(percentile(timings, 0.95), 3),
                    "max_ms": round(max(timings), 3),
                }
            )
    finally:
        con.close()
    return {
        "repeats": repeats,
        "queries": results,
        "p50_ms": round(statistics.median(every), 3),
        "p95_ms": round(percentile(every, 0.95), 3),
        "worst_query_p50_ms": max(r["p50_ms"] for r in results),
        "worst_query_p95_ms": max(r["p95_ms"] for r in results),
    }
