"""EDGAR companyfacts as fact versions, and point-in-time earnings and shares from them.

SEC's companyfacts JSON (``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json``)
lists, per taxonomy, concept and unit, every figure every filing reported: a 10-K repeats
the prior years and a restatement is simply another entry with a later ``filed`` and
``accn``. ``parse_companyfacts`` keeps every one of those versions (one row per cik,
taxonomy, concept, unit, period_start, period_end, accn), so a table built from it only
ever grows and any past day can be replayed with what was public then.

The point-in-time helpers below read those versions the way an investor saw them:

- a figure counts at its value **as first reported** (the version with the earliest
  ``filed``, ties broken by ``accn``), however often it is restated later;
- a figure counts from the **first NYSE session after its ``filed`` date**
  (``known_from``): EDGAR stamps the filing date, not the time, and many filings land
  after the close, so the filing day itself would be look-ahead (in SQL: the least
  session ``> filed``);
- a quarter is a ~3-month duration fact; Q4, which a 10-K reports only as part of the
  fiscal year, is the fiscal-year value minus the nine-month year-to-date value (both as
  first reported), known from the later of their ``filed`` dates;
- the length of a fact comes from its ``start``/``end``, never from ``fp``: ``fp``/``fy``
  describe the *filing* (a 10-K's comparatives all carry ``fp: FY``), not the period;
- quarters are keyed by their ``period_end``, so fiscal years ending in September (Apple)
  or June (Microsoft) need no special case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dagster_project.lib import calendar
from dagster_project.lib.sources.base import SourceError


@dataclass(frozen=True)
class Concept:
    """One XBRL concept in one unit, as companyfacts nests them: taxonomy > concept > unit."""

    taxonomy: str
    name: str
    unit: str


NET_INCOME = Concept("us-gaap", "NetIncomeLoss", "USD")
EPS_DILUTED = Concept("us-gaap", "EarningsPerShareDiluted", "USD/shares")
DILUTED_SHARES = Concept("us-gaap", "WeightedAverageNumberOfDilutedSharesOutstanding", "shares")
SHARES_OUTSTANDING = Concept("dei", "EntityCommonStockSharesOutstanding", "shares")
CONCEPTS: tuple[Concept, ...] = (NET_INCOME, EPS_DILUTED, DILUTED_SHARES, SHARES_OUTSTANDING)
"""What the warehouse keeps of each company's facts (all versions of each)."""

FACT_COLUMNS = (
    "cik",
    "taxonomy",
    "concept",
    "unit",
    "period_start",
    "period_end",
    "value",
    "fy",
    "fp",
    "form",
    "filed",
    "accn",
    "frame",
)
FACT_KEY = ("cik", "taxonomy", "concept", "unit", "period_start", "period_end", "accn")
"""The grain of the fact versions: one filing's figure for one period."""
PERIOD_KEY = ("cik", "taxonomy", "concept", "unit", "period_start", "period_end")

QUARTER_DAYS = (80, 100)
NINE_MONTH_DAYS = (260, 280)
YEAR_DAYS = (350, 380)
"""Inclusive bounds on ``end - start`` in days. Wide enough for 13- and 14-week quarters
and 52- and 53-week years (Apple's fiscal 2023 ran 364 days, fiscal 2015 371), narrow
enough that a half year (~182) or a 4-month transition period never passes for one."""

QUARTER_COLUMNS = (
    "cik",
    "period_start",
    "period_end",
    "net_income",
    "basis",
    "filed",
    "accn",
    "known_from",
)
REPORTED_QUARTER = "quarter"
"""``basis`` of a quarter reported as a ~3-month fact."""
DERIVED_Q4 = "year_minus_nine_months"
"""``basis`` of a Q4 derived as fiscal year minus nine-month year-to-date."""

SHARES_COLUMNS = ("cik", "as_of", "shares", "filed", "accn", "known_from")


def cik10(cik: int | str) -> str:
    """The CIK as SEC writes it in URLs and file names: 10 digits, zero-padded.

    Why a string: the padded form is the identifier EDGAR uses everywhere (``CIK0000320193``)
    and the one a reader can match to the file it came from.
    """
    text = str(cik).strip()
    if not text.isdigit() or len(text) > 10:
        raise SourceError(f"{cik!r} is not a SEC CIK (up to 10 digits)")
    return text.zfill(10)


def parse_companyfacts(
    document: Mapping[str, Any],
    concepts: Iterable[Concept] = CONCEPTS,
    origin: str = "companyfacts",
) -> pd.DataFrame:
    """Every version of the wanted facts in one companyfacts document (``FACT_COLUMNS``).

    Instant facts (shares outstanding) have no ``start``: their ``period_start`` is null.
    A concept or unit the company never reported simply contributes no rows. The only rows
    merged are exact repeats of the grain (same filing, same period), which SEC lists when
    a filing tags one figure twice; the one carrying a ``frame`` is kept. ``origin`` names
    the document in errors (a URL or a path).
    """
    if not isinstance(document, Mapping) or "cik" not in document or "facts" not in document:
        raise SourceError(f"{origin}: not an EDGAR companyfacts document (no 'cik' and 'facts')")
    cik = cik10(document["cik"])
    rows = []
    for concept in concepts:
        entries = (
            (document["facts"] or {})
            .get(concept.taxonomy, {})
            .get(concept.name, {})
            .get("units", {})
            .get(concept.unit, [])
        )
        for position, entry in enumerate(entries):
            missing = [k for k in ("end", "val", "accn", "filed") if entry.get(k) is None]
            if missing:
                raise SourceError(
                    f"{origin}: {concept.taxonomy}:{concept.name} [{concept.unit}] entry "
                    f"{position} lacks {', '.join(missing)}"
                )
            rows.append(
                (
                    cik,
                    concept.taxonomy,
                    concept.name,
                    concept.unit,
                    entry.get("start"),
                    entry["end"],
                    entry["val"],
                    entry.get("fy"),
                    entry.get("fp"),
                    entry.get("form"),
                    entry["filed"],
                    entry["accn"],
                    entry.get("frame"),
                )
            )
    return _typed_facts(pd.DataFrame(rows, columns=list(FACT_COLUMNS)), origin)


def _typed_facts(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """The fact rows with their column types, one row per grain, in a stable order."""
    try:
        for column in ("period_start", "period_end", "filed"):
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype(
                "datetime64[ns]"
            )
        frame["value"] = frame["value"].astype("float64")
        frame["fy"] = frame["fy"].astype("Int64")
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{origin}: a fact has an unreadable date or number ({exc})") from None
    for column in ("cik", "taxonomy", "concept", "unit", "fp", "form", "accn", "frame"):
        frame[column] = frame[column].astype("str").where(frame[column].notna(), None)
    frame = frame.sort_values(
        [*PERIOD_KEY, "filed", "accn", "frame"], na_position="last", kind="stable"
    )
    return frame.drop_duplicates(list(FACT_KEY), keep="first").reset_index(drop=True)


def duration_days(facts: pd.DataFrame) -> pd.Series:
    """``period_end - period_start`` in days (null for instant facts)."""
    return (facts["period_end"] - facts["period_start"]).dt.days


def duration_kind(days: pd.Series) -> pd.Series:
    """``quarter``, ``nine_months``, ``year`` or null, from a fact's length in days.

    Why by length and not by ``fp``: ``fp`` is the filing's fiscal period, so a 10-Q for Q3
    tags its three-month and its nine-month figures alike ``Q3``.
    """
    bounds = (("quarter", QUARTER_DAYS), ("nine_months", NINE_MONTH_DAYS), ("year", YEAR_DAYS))

    def kind_of(length: float) -> str | None:
        return next((kind for kind, (low, high) in bounds if low <= length <= high), None)

    return pd.Series([kind_of(length) for length in days], index=days.index, dtype="object")


def first_reported(facts: pd.DataFrame) -> pd.DataFrame:
    """One row per period (``PERIOD_KEY``): the version filed first (ties: lowest ``accn``).

    Why first: a backtest must use the figure the market saw when it was published; a
    later restatement is a new fact about the past, not what was known then.
    """
    ordered = facts.sort_values([*PERIOD_KEY, "filed", "accn"], kind="stable")
    return ordered.drop_duplicates(list(PERIOD_KEY), keep="first").reset_index(drop=True)


def quarterly_net_income(facts: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time quarterly net income in dollars (``QUARTER_COLUMNS``), one row per
    cik and fiscal quarter (keyed by ``period_end``), oldest first.

    A quarter reported as a ~3-month fact counts at its first-reported value from its
    first filing. A quarter a 10-K leaves implicit (Q4) is derived: the fiscal year minus
    the nine months to date that start on the same day and end ~3 months before the year,
    both as first reported; it is known once both are, at the later ``filed`` (its
    ``accn`` is that filing's). When a quarter has both, the one known first counts (a
    reported 3-month figure on a tie).
    """
    income = facts[
        (facts["taxonomy"] == NET_INCOME.taxonomy)
        & (facts["concept"] == NET_INCOME.name)
        & (facts["unit"] == NET_INCOME.unit)
        & facts["period_start"].notna()
    ]
    income = first_reported(income)
    income = income.assign(kind=duration_kind(duration_days(income)))
    reported = income[income["kind"] == "quarter"].assign(
        net_income=lambda f: f["value"], basis=REPORTED_QUARTER
    )
    derived = _derived_fourth_quarters(income)
    quarters = pd.concat(
        [reported[list(QUARTER_COLUMNS[:-1])], derived[list(QUARTER_COLUMNS[:-1])]],
        ignore_index=True,
    )
    quarters["basis_rank"] = (quarters["basis"] != REPORTED_QUARTER).astype(int)
    quarters = (
        quarters.sort_values(["cik", "period_end", "filed", "basis_rank", "accn"], kind="stable")
        .drop_duplicates(["cik", "period_end"], keep="first")
        .drop(columns="basis_rank")
        .reset_index(drop=True)
    )
    quarters["known_from"] = known_from(quarters["filed"])
    return quarters[list(QUARTER_COLUMNS)]


def _derived_fourth_quarters(income: pd.DataFrame) -> pd.DataFrame:
    """Fiscal year minus nine-month YTD, for each year with a matching nine months."""
    years = income[income["kind"] == "year"]
    nines = income[income["kind"] == "nine_months"]
    pairs = years.merge(nines, on=["cik", "period_start"], suffixes=("_year", "_nine"))
    gap = (pairs["period_end_year"] - pairs["period_end_nine"]).dt.days
    pairs = pairs[gap.between(*QUARTER_DAYS)]
    year_known_last = pairs["filed_year"] >= pairs["filed_nine"]
    return pd.DataFrame(
        {
            "cik": pairs["cik"],
            "period_start": pairs["period_end_nine"] + pd.Timedelta(days=1),
            "period_end": pairs["period_end_year"],
            "net_income": pairs["value_year"] - pairs["value_nine"],
            "basis": DERIVED_Q4,
            "filed": pairs[["filed_year", "filed_nine"]].max(axis=1),
            "accn": pairs["accn_year"].where(year_known_last, pairs["accn_nine"]),
        }
    )


def shares_outstanding(facts: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time shares outstanding (``SHARES_COLUMNS``): one row per cik and cover-page
    date (``as_of``), first-reported, with the session it counts from.

    Why ``dei:EntityCommonStockSharesOutstanding``: it is the count on a filing's cover,
    as of a date shortly before filing, so it is the freshest share count public at
    ``filed`` (the balance-sheet count is weeks older). Companies with several share
    classes report it per class only (dimensional facts, absent from companyfacts).
    """
    shares = facts[
        (facts["taxonomy"] == SHARES_OUTSTANDING.taxonomy)
        & (facts["concept"] == SHARES_OUTSTANDING.name)
        & (facts["unit"] == SHARES_OUTSTANDING.unit)
    ]
    shares = first_reported(shares.assign(period_start=pd.NaT))
    frame = pd.DataFrame(
        {
            "cik": shares["cik"],
            "as_of": shares["period_end"],
            "shares": shares["value"],
            "filed": shares["filed"],
            "accn": shares["accn"],
        }
    )
    frame["known_from"] = known_from(frame["filed"])
    return frame.sort_values(["cik", "as_of"], kind="stable").reset_index(drop=True)[
        list(SHARES_COLUMNS)
    ]


def first_session_after(day: dt.date) -> dt.date:
    """The first NYSE session strictly after ``day``: when a figure filed on ``day`` counts.

    Why strictly after: EDGAR's ``filed`` is a date without a time and many reports are
    filed after the close, so trading on the filing day itself could use news the market
    did not have yet.
    """
    return known_from(pd.Series([pd.Timestamp(day)])).iloc[0].date()


def known_from(filed: pd.Series) -> pd.Series:
    """For each ``filed`` date, the first NYSE session strictly after it (same index).

    A holiday weekend is at most four days, so two weeks past the latest date always holds
    the next session.
    """
    result = pd.Series(pd.NaT, index=filed.index, dtype="datetime64[ns]")
    dates = pd.to_datetime(filed).astype("datetime64[ns]")
    present = dates.notna()
    if not present.any():
        return result
    first = dates[present].min().date() + dt.timedelta(days=1)
    last = dates[present].max().date() + dt.timedelta(days=14)
    sessions = calendar.sessions(first, last).astype("datetime64[ns]")
    positions = sessions.searchsorted(dates[present], side="right")
    result[present] = sessions[positions].to_numpy()
    return result


def trailing_four_quarters(quarters: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Trailing-twelve-month net income per cik as known on ``as_of``.

    Columns: cik, ttm_net_income, first_period_start, last_period_end, known_from (when the
    latest of the four became known). Only quarters whose ``known_from`` is on or before
    ``as_of`` count; the latest four must be consecutive (together a year, ``YEAR_DAYS``),
    else the cik is left out: a gap would silently make a nine- or fifteen-month sum.
    """
    known = quarters[quarters["known_from"] <= pd.Timestamp(as_of)]
    latest = known.sort_values(["cik", "period_end"]).groupby("cik", sort=True).tail(4)
    summary = latest.groupby("cik", sort=True).agg(
        quarters=("net_income", "size"),
        ttm_net_income=("net_income", "sum"),
        first_period_start=("period_start", "min"),
        last_period_end=("period_end", "max"),
        known_from=("known_from", "max"),
    )
    span = (summary["last_period_end"] - summary["first_period_start"]).dt.days
    whole_year = (summary["quarters"] == 4) & span.between(*YEAR_DAYS)
    return summary[whole_year].drop(columns="quarters").reset_index()
