"""Partial answers: a fetch of a restatable raw table that holds less than the warehouse.

``raw.fundamentals`` and ``raw.valuation_snapshots`` are append-only (``store.
append_new_versions``): a fetch adds a version of a quarter or a day's valuation when its
figures differ from the latest held one, and never deletes. That alone keeps history
safe, but a half-broken answer would still add *worse* versions (a quarter without its
report date after a calendar page came back without its table) and would go unnoticed.
So before the append, each key's answer (a ticker's rows) is compared with what the
warehouse holds for it; an answer that holds less is a partial answer: listed among the
load's failures, with what it lacks, and none of its rows is written.

Less, per ticker, means either:
- fewer rows than held over the dates the answer covers (a quarter held between its
  first and last period end is missing: Yahoo's calendar page came back short). Dates
  outside the answer's span do not count: Yahoo's calendar keeps 100 reports, so the
  oldest quarter falls off its page every quarter, and the warehouse keeps it anyway; or
- a figure of ``KEPT_ONCE_KNOWN`` that the latest held version has and the answer lacks
  (a report date, a reported EPS, a day's P/E).
"""

from __future__ import annotations

import pandas as pd

from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, VALUATION_SNAPSHOTS, RawTable

KEPT_ONCE_KNOWN: dict[str, tuple[str, ...]] = {
    FUNDAMENTALS.name: ("report_date", "eps"),
    VALUATION_SNAPSHOTS.name: ("trailing_pe", "forward_pe", "market_cap"),
}
"""Per restatable table, the figures a later answer may change but never drop: once a
quarter's report date or EPS is known it stays known, so an answer without it is broken,
not news. (Estimates and share counts are left out: Yahoo legitimately stops serving an
old quarter's estimate, and shares fall back to the income statement's five quarters.)"""

MAX_DATES_LISTED = 4


def partial_answers(table: RawTable, incoming: pd.DataFrame, held: pd.DataFrame) -> dict[str, str]:
    """Which entities (tickers) of ``incoming`` hold less than ``held``, and why.

    ``incoming``: the payload rows a source answered. ``held``: the latest held version of
    each key (``store.latest_versions``), with the same payload columns. Returns entity ->
    reason, in words, for the entities whose answer is partial (see the module docstring).
    Whole frames at once, not a loop over tickers: the sample's nightly answers 3,000.
    """
    entity, day = table.key[0], table.date_column
    if incoming.empty or held.empty:
        return {}
    answer = incoming.assign(**{day: pd.to_datetime(incoming[day]).astype("datetime64[ns]")})
    known = held.assign(**{day: pd.to_datetime(held[day]).astype("datetime64[ns]")})
    spans = answer.groupby(entity)[day].agg(first="min", last="max", rows="size").reset_index()
    covered = known.merge(spans, on=entity)
    covered = covered[(covered[day] >= covered["first"]) & (covered[day] <= covered["last"])]
    both = covered.merge(
        answer, on=list(table.key), how="left", suffixes=("_held", ""), indicator=True
    )
    problems: dict[str, list[str]] = {}
    missing = both[both["_merge"] == "left_only"]
    held_counts = covered.groupby(entity).size()
    for key, rows in missing.groupby(entity):
        span = rows.iloc[0]
        problems.setdefault(str(key), []).append(
            f"{span['rows']} rows where {held_counts[key]} are held between "
            f"{span['first'].date()} and {span['last'].date()} ({day} {_dates(rows[day])} missing)"
        )
    matched = both[both["_merge"] == "both"]
    for column in KEPT_ONCE_KNOWN.get(table.name, ()):
        dropped = matched[matched[f"{column}_held"].notna() & matched[column].isna()]
        for key, rows in dropped.groupby(entity):
            problems.setdefault(str(key), []).append(
                f"no {column} where one is held ({day} {_dates(rows[day])})"
            )
    return {
        key: f"PartialAnswer: {key}: the answer holds less than the warehouse: "
        f"{'; '.join(found)}. Nothing held was changed"
        for key, found in sorted(problems.items())
    }


def _dates(days: pd.Series) -> str:
    """A few dates, in order, and how many more."""
    listed = sorted(pd.to_datetime(days))
    shown = ", ".join(d.date().isoformat() for d in listed[:MAX_DATES_LISTED])
    more = len(listed) - MAX_DATES_LISTED
    return f"{shown} and {more} more" if more > 0 else shown
