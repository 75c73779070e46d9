"""The sample's EDGAR facts: its own quarters as companyfacts versions, which the
point-in-time readers turn back into the very same quarterly earnings."""

import datetime as dt

import pandas as pd
import pytest

from dagster_project.lib.sources.base import EdgarFacts
from dagster_project.lib.sources.edgar.companyfacts import (
    DERIVED_Q4,
    FACT_KEY,
    quarterly_net_income,
    shares_outstanding,
)
from dagster_project.lib.sources.sample import SampleSource
from dagster_project.lib.sources.sample.edgar import (
    edgar_facts_frame,
    fiscal_year_end_month,
    sample_cik,
)
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS


@pytest.fixture(scope="module")
def sample():
    return SampleSource(seed=7, tickers=60, start=dt.date(2019, 1, 2), end=dt.date(2023, 12, 29))


@pytest.fixture(scope="module")
def stocks(sample):
    universe = sample.universe()
    return sorted(universe.loc[universe["kind"] == "stock", "ticker"])


@pytest.fixture(scope="module")
def facts(sample, stocks):
    return sample.edgar_facts(stocks)


def test_the_sample_is_an_edgar_source_with_the_raw_tables_columns(sample, facts):
    assert isinstance(sample, EdgarFacts)
    assert list(facts.columns) == list(EDGAR_FACTS.payload)
    assert not facts.duplicated(list(FACT_KEY)).any()


def test_first_reported_quarters_are_the_samples_own_earnings(sample, stocks, facts):
    """EPS x shares for every quarter: reported ones directly, fourth fiscal quarters as
    the year minus nine months (equal up to float rounding), restatements ignored."""
    quarters = quarterly_net_income(facts.drop(columns="ticker"))
    tickers = facts.drop_duplicates("cik").set_index("cik")["ticker"]
    quarters["ticker"] = quarters["cik"].map(tickers)
    fundamentals = sample._fundamentals
    expected = fundamentals[fundamentals["ticker"].isin(stocks)].assign(
        net_income=lambda f: f["eps"] * f["shares_outstanding"]
    )
    joined = quarters.merge(expected, on=["ticker", "period_end"], suffixes=("", "_expected"))
    assert len(joined) >= 0.9 * len(expected)  # all but a first fiscal year's fourth quarter
    assert joined["net_income"].to_numpy() == pytest.approx(
        joined["net_income_expected"].to_numpy(), rel=1e-9
    )
    assert (joined["filed"] == pd.to_datetime(joined["report_date"])).all()
    assert (quarters["basis"] == DERIVED_Q4).any()
    assert len(facts[facts["concept"] == "NetIncomeLoss"]) > len(quarters)  # restatements


def test_fiscal_years_end_in_every_quarter_month_and_ciks_are_synthetic(stocks):
    assert {fiscal_year_end_month(t) for t in stocks} == {3, 6, 9, 12}
    assert all(sample_cik(t) >= 5_000_000_000 for t in stocks)


def test_cover_share_counts_are_the_quarters_counts(sample, stocks, facts):
    shares = shares_outstanding(facts.drop(columns="ticker"))
    assert len(shares) == len(facts[facts["concept"] == "EntityCommonStockSharesOutstanding"])


def test_no_quarters_no_facts():
    empty = edgar_facts_frame(
        pd.DataFrame(
            columns=[
                "ticker",
                "period_end",
                "report_date",
                "eps",
                "eps_estimate",
                "shares_outstanding",
            ]
        ),
        ["A"],
    )
    assert empty.empty and list(empty.columns) == list(EDGAR_FACTS.payload)
