"""The sample's SEC EDGAR facts: its own quarterly earnings and shares, shaped as
companyfacts versions (``raw.edgar_facts``).

Why: the point-in-time path of the marts (first-reported quarters, the fourth quarter
derived from the fiscal year, cover-page share counts, fiscal years that end in any
quarter) should run on every build, not only on real data. The figures are the sample's
own, so the EDGAR and the fundamentals views of a company agree: net income = EPS x
shares of the quarter, filed on the quarter's report date.

Each company gets a synthetic CIK and a fiscal year ending in March, June, September or
December (from its ticker). Like a real filer it reports Q1-Q3 as three-month facts in a
10-Q (Q3's also with the nine months to date), and the fourth quarter only inside the
fiscal year of its 10-K. Every tenth quarter is restated a year later (3% lower, by the
filing that repeats it as a comparative), so first-reported and latest values differ.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from dagster_project.lib.sources.base import SourceError, empty_frame
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS

FISCAL_YEAR_END_MONTHS = (12, 9, 6, 3)
RESTATED_EVERY = 10
RESTATEMENT = 0.97
CIK_BASE = 5_000_000_000
"""Synthetic CIKs start here, above any real one (SEC's are below 2,100,000,000)."""


def sample_cik(ticker: str) -> int:
    """A stable synthetic CIK per ticker (not a real filer's)."""
    return CIK_BASE + zlib.crc32(ticker.encode())


def fiscal_year_end_month(ticker: str) -> int:
    return FISCAL_YEAR_END_MONTHS[zlib.crc32(ticker.encode()) % len(FISCAL_YEAR_END_MONTHS)]


def edgar_facts_frame(fundamentals: pd.DataFrame, tickers: Iterable[str]) -> pd.DataFrame:
    """Payload rows of ``raw.edgar_facts`` for ``tickers`` from the sample's fundamentals
    (quarters with EPS, shares and a report date)."""
    wanted = set(tickers)
    quarters = fundamentals[
        fundamentals["ticker"].isin(wanted)
        & fundamentals["eps"].notna()
        & fundamentals["shares_outstanding"].notna()
        & fundamentals["report_date"].notna()
    ]
    if quarters.empty:
        return empty_frame(EDGAR_FACTS)
    q = quarters.sort_values(["ticker", "period_end"]).reset_index(drop=True)
    ciks = {t: sample_cik(t) for t in q["ticker"].unique()}
    if len(set(ciks.values())) < len(ciks):
        raise SourceError("sample: two tickers drew the same synthetic CIK")
    end = pd.to_datetime(q["period_end"])
    fy_end = q["ticker"].map(fiscal_year_end_month)
    months_in = (end.dt.month - fy_end) % 12  # 3, 6, 9 or 0 (the fiscal year's last)
    q = q.assign(
        cik=q["ticker"].map(lambda t: f"{ciks[t]:010d}"),
        period_end=end,
        period_start=end.dt.to_period("Q").dt.start_time,
        filed=pd.to_datetime(q["report_date"]),
        net_income=q["eps"] * q["shares_outstanding"],
        fiscal_quarter=np.where(months_in == 0, 4, months_in // 3),
        fiscal_year=end.dt.year + (end.dt.month > fy_end).astype(int),
    )
    q["accn"] = (
        q["cik"]
        + "-"
        + q["filed"].dt.strftime("%y")
        + "-"
        + q["fiscal_quarter"].map("{:06d}".format)
    )
    q["form"] = np.where(q["fiscal_quarter"] == 4, "10-K", "10-Q")
    q["fp"] = np.where(q["fiscal_quarter"] == 4, "FY", "Q" + q["fiscal_quarter"].astype(str))

    three_months = q[q["fiscal_quarter"] < 4].assign(value=lambda f: f["net_income"])
    restated = three_months[three_months.index % RESTATED_EVERY == 0]
    restated = restated.merge(
        q[["ticker", "fiscal_quarter", "fiscal_year", "filed", "accn", "form", "fp"]].assign(
            fiscal_year=lambda f: f["fiscal_year"] - 1
        ),
        on=["ticker", "fiscal_quarter", "fiscal_year"],
        suffixes=("_first", ""),
    ).assign(value=lambda f: f["net_income"] * RESTATEMENT)
    years = _to_date(q, quarters_needed=4, last_quarter=4)
    nine_months = _to_date(q, quarters_needed=3, last_quarter=3)
    income = pd.concat([three_months, restated, nine_months, years], ignore_index=True)
    income = income.assign(taxonomy="us-gaap", concept="NetIncomeLoss", unit="USD", frame=None)
    shares = q.assign(
        taxonomy="dei",
        concept="EntityCommonStockSharesOutstanding",
        unit="shares",
        period_start=pd.NaT,
        value=q["shares_outstanding"],
        frame=None,
    )
    facts = pd.concat([income, shares], ignore_index=True).rename(columns={"fiscal_year": "fy"})
    facts["fy"] = facts["fy"].astype("Int64")
    return facts[list(EDGAR_FACTS.payload)].reset_index(drop=True)


def _to_date(q: pd.DataFrame, quarters_needed: int, last_quarter: int) -> pd.DataFrame:
    """Year-to-date facts through ``last_quarter`` (nine months: 3; the year: 4), only for
    fiscal years whose quarters 1..last_quarter are all there, filed with the last one."""
    part = q[q["fiscal_quarter"] <= last_quarter]
    keys = ["ticker", "fiscal_year"]
    sums = part.groupby(keys).agg(
        value=("net_income", "sum"),
        quarters=("net_income", "size"),
        period_start=("period_start", "min"),
    )
    last = part[part["fiscal_quarter"] == last_quarter].set_index(keys)
    joined = last.drop(columns=["period_start"]).join(sums, how="inner")
    return joined[joined["quarters"] == quarters_needed].reset_index()
