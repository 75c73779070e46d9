"""EDGAR companyfacts -> fact versions -> point-in-time quarterly earnings and shares.

The worked example is ``tests/fixtures/edgar/CIK0000320193.json``: Apple's fiscal 2022-2023
net income as EDGAR lists it (fiscal years end late September), with the figures repeated
by later filings, a half-year fact that must not pass for a quarter, and one hypothetical
restatement: the 10-Q filed 2024-05-03 restates the quarter to 2023-04-01 from $24,160M
to $24,100M.
"""

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.edgar.companyfacts import (
    DERIVED_Q4,
    FACT_COLUMNS,
    FACT_KEY,
    QUARTER_COLUMNS,
    REPORTED_QUARTER,
    SHARES_COLUMNS,
    cik10,
    duration_kind,
    first_reported,
    first_session_after,
    known_from,
    parse_companyfacts,
    quarterly_net_income,
    shares_outstanding,
    trailing_four_quarters,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"
M = 1_000_000


@pytest.fixture(scope="module")
def apple() -> dict:
    return json.loads((FIXTURES / "CIK0000320193.json").read_text())


@pytest.fixture(scope="module")
def facts(apple) -> pd.DataFrame:
    return parse_companyfacts(apple)


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def company(cik: int, net_income: list[dict], shares: list[dict] | None = None) -> dict:
    """A companyfacts document in EDGAR's structure with the given NetIncomeLoss entries."""
    facts = {
        "us-gaap": {"NetIncomeLoss": {"label": "Net Income (Loss)", "units": {"USD": net_income}}}
    }
    if shares is not None:
        facts["dei"] = {"EntityCommonStockSharesOutstanding": {"units": {"shares": shares}}}
    return {"cik": cik, "entityName": "Example Corp", "facts": facts}


def entry(start, end, val, accn, filed, fy=None, fp=None, form="10-Q", frame=None) -> dict:
    found = {"start": start, "end": end, "val": val, "accn": accn, "fy": fy, "fp": fp}
    found.update({"form": form, "filed": filed})
    if frame:
        found["frame"] = frame
    if start is None:
        del found["start"]
    return found


# --- parsing: every version kept ---------------------------------------------------------


def test_every_version_of_every_wanted_fact_is_a_row(facts):
    assert list(facts.columns) == list(FACT_COLUMNS)
    assert not facts.duplicated(list(FACT_KEY)).any()
    counts = facts.groupby("concept").size().to_dict()
    assert counts == {
        "EntityCommonStockSharesOutstanding": 5,
        "EarningsPerShareDiluted": 4,
        "NetIncomeLoss": 14,
        "WeightedAverageNumberOfDilutedSharesOutstanding": 4,
    }
    assert set(facts["cik"]) == {"0000320193"}
    q2 = facts[(facts["concept"] == "NetIncomeLoss") & (facts["period_end"] == day("2023-04-01"))]
    q2 = q2[q2["period_start"] == day("2023-01-01")]
    assert q2[["accn", "value", "filed"]].values.tolist() == [
        ["0000320193-23-000064", 24_160 * M, day("2023-05-05")],
        ["0000320193-24-000069", 24_100 * M, day("2024-05-03")],
    ]


def test_parsed_columns_keep_edgars_meaning(facts):
    shares = facts[facts["taxonomy"] == "dei"]
    assert shares["period_start"].isna().all()  # instant facts have no start
    assert shares["unit"].eq("shares").all()
    first = facts[(facts["concept"] == "NetIncomeLoss")].iloc[0]
    assert (first["fy"], first["fp"], first["form"], first["frame"]) == (
        2022,
        "FY",
        "10-K",
        "CY2021",
    )
    assert facts["frame"].isna().sum() > 0  # frame is optional
    assert facts["value"].dtype == "float64"
    assert str(facts["filed"].dtype) == "datetime64[ns]"


def test_only_the_wanted_unit_of_a_concept_is_kept():
    document = company(1, [entry("2023-01-01", "2023-03-31", 5, "a", "2023-04-20")])
    document["facts"]["us-gaap"]["NetIncomeLoss"]["units"]["EUR"] = [
        entry("2023-01-01", "2023-03-31", 4, "a", "2023-04-20")
    ]
    assert parse_companyfacts(document)["unit"].tolist() == ["USD"]


def test_a_figure_tagged_twice_in_one_filing_is_one_row_keeping_its_frame():
    document = company(
        1,
        [
            entry("2023-01-01", "2023-03-31", 5, "a", "2023-04-20"),
            entry("2023-01-01", "2023-03-31", 5, "a", "2023-04-20", frame="CY2023Q1"),
        ],
    )
    parsed = parse_companyfacts(document)
    assert parsed["frame"].tolist() == ["CY2023Q1"]


def test_a_company_without_the_concepts_gives_no_rows_not_an_error():
    parsed = parse_companyfacts({"cik": 1, "entityName": "Shell", "facts": {}})
    assert parsed.empty and list(parsed.columns) == list(FACT_COLUMNS)


@pytest.mark.parametrize(
    "document, message",
    [
        ({"entityName": "x"}, "not an EDGAR companyfacts document"),
        (company(1, [{"start": "2023-01-01", "end": "2023-03-31", "val": 1}]), "lacks accn, filed"),
        (company(1, [entry("2023-01-01", "31/03/2023", 1, "a", "2023-04-20")]), "unreadable"),
    ],
)
def test_a_malformed_document_is_refused_with_where(document, message):
    with pytest.raises(SourceError, match=message):
        parse_companyfacts(document, origin="CIK0000000001.json")


def test_cik_is_ten_digits_zero_padded():
    assert cik10(320193) == "0000320193"
    assert cik10("0000789019") == "0000789019"
    with pytest.raises(SourceError):
        cik10("AAPL")


# --- durations and first-reported versions ------------------------------------------------


def test_duration_is_judged_by_length_not_by_fiscal_period():
    days = pd.Series([90, 97, 182, 272, 279, 363, 371, 120])
    assert duration_kind(days).tolist() == [
        "quarter",  # a 13-week quarter
        "quarter",  # a 14-week quarter (Apple's fiscal Q1 2023)
        None,  # six months year-to-date
        "nine_months",
        "nine_months",  # Apple's nine months to 2023-07-01
        "year",
        "year",  # a 53-week year
        None,  # a 4-month transition period
    ]


def test_first_reported_keeps_the_earliest_filing_of_each_period(facts):
    income = first_reported(facts[facts["concept"] == "NetIncomeLoss"])
    fy2022 = income[income["period_end"] == day("2022-09-24")].iloc[0]
    assert (fy2022["accn"], fy2022["filed"]) == ("0000320193-22-000108", day("2022-10-28"))
    q2 = income[income["period_end"] == day("2023-04-01")]
    assert q2.set_index("period_start").loc[day("2023-01-01"), "value"] == 24_160 * M


def test_first_reported_breaks_a_same_day_tie_by_accession():
    document = company(
        1,
        [
            entry("2023-01-01", "2023-03-31", 6, "0000000001-23-000009", "2023-04-20"),
            entry("2023-01-01", "2023-03-31", 5, "0000000001-23-000002", "2023-04-20"),
        ],
    )
    assert first_reported(parse_companyfacts(document))["value"].tolist() == [5.0]


# --- the worked example: Apple, fiscal years ending in September -------------------------


def test_quarterly_net_income_as_first_reported_with_a_derived_fourth_quarter(facts):
    quarters = quarterly_net_income(facts)
    assert list(quarters.columns) == list(QUARTER_COLUMNS)
    shown = quarters.assign(
        **{
            column: quarters[column].dt.strftime("%Y-%m-%d")
            for column in ("period_start", "period_end", "filed", "known_from")
        },
        net_income=quarters["net_income"] / M,
    )
    table = [
        tuple(row)
        for row in shown[
            ["period_start", "period_end", "net_income", "basis", "filed", "known_from"]
        ].itertuples(index=False)
    ]
    R, D = REPORTED_QUARTER, DERIVED_Q4
    assert table == [
        # fiscal Q3 2022 from its own 10-Q (the next year's Q3 10-Q repeats it: ignored)
        ("2022-03-27", "2022-06-25", 19_442, R, "2022-07-29", "2022-08-01"),
        # fiscal Q4 2022 = FY 99,803 (10-K 2022-10-28) - nine months 79,082 (2022-07-29)
        ("2022-06-26", "2022-09-24", 20_721, D, "2022-10-28", "2022-10-31"),
        # fiscal Q1 2023: a 14-week quarter
        ("2022-09-25", "2022-12-31", 29_998, R, "2023-02-03", "2023-02-06"),
        # fiscal Q2 2023 at its first-reported 24,160, not the 2024 restatement's 24,100
        ("2023-01-01", "2023-04-01", 24_160, R, "2023-05-05", "2023-05-08"),
        ("2023-04-02", "2023-07-01", 19_881, R, "2023-08-04", "2023-08-07"),
        # fiscal Q4 2023 = FY 96,995 (53 weeks) - nine months 74,039 (the six months
        # 54,158 in the Q2 10-Q is no quarter)
        ("2023-07-02", "2023-09-30", 22_956, D, "2023-11-03", "2023-11-06"),
        ("2023-12-31", "2024-03-30", 23_636, R, "2024-05-03", "2024-05-06"),
    ]
    q4 = quarters[quarters["period_end"] == day("2023-09-30")].iloc[0]
    assert q4["accn"] == "0000320193-23-000106"  # the 10-K that made it known


def test_trailing_four_quarters_changes_on_the_session_after_the_10k(facts):
    quarters = quarterly_net_income(facts)
    # The 10-K was filed Friday 2023-11-03: that day the trailing sum is still fiscal Q4
    # 2022 + Q1-Q3 2023; from Monday 2023-11-06 it is fiscal 2023's four quarters.
    before = trailing_four_quarters(quarters, dt.date(2023, 11, 3)).iloc[0]
    assert before["ttm_net_income"] == (20_721 + 29_998 + 24_160 + 19_881) * M
    assert (before["first_period_start"], before["last_period_end"]) == (
        day("2022-06-26"),
        day("2023-07-01"),
    )
    after = trailing_four_quarters(quarters, dt.date(2023, 11, 6)).iloc[0]
    assert after["ttm_net_income"] == 96_995 * M  # the fiscal year, as it must
    assert after["known_from"] == day("2023-11-06")


def test_trailing_four_quarters_skips_a_company_whose_latest_four_have_a_gap(facts):
    quarters = quarterly_net_income(facts)
    # By 2024-05-06 the latest known quarters skip fiscal Q1 2024 (not in the fixture).
    assert trailing_four_quarters(quarters, dt.date(2024, 5, 6)).empty
    # Before anything was filed there is nothing to sum.
    assert trailing_four_quarters(quarters, dt.date(2022, 1, 3)).empty


def test_a_june_fiscal_year_derives_its_fourth_quarter_the_same_way():
    """Microsoft's fiscal 2023 (July to June): FY 72,361 - nine months 52,280 = Q4 20,081."""
    document = company(
        789019,
        [
            entry(
                "2022-07-01",
                "2023-03-31",
                52_280 * M,
                "0000950170-23-014423",
                "2023-04-25",
                2023,
                "Q3",
            ),
            entry(
                "2023-01-01",
                "2023-03-31",
                18_299 * M,
                "0000950170-23-014423",
                "2023-04-25",
                2023,
                "Q3",
            ),
            entry(
                "2022-07-01",
                "2023-06-30",
                72_361 * M,
                "0000950170-23-035122",
                "2023-07-27",
                2023,
                "FY",
                "10-K",
            ),
        ],
    )
    quarters = quarterly_net_income(parse_companyfacts(document)).set_index("period_end")
    q4 = quarters.loc[day("2023-06-30")]
    assert (q4["net_income"], q4["basis"]) == (20_081 * M, DERIVED_Q4)
    assert (q4["period_start"], q4["filed"]) == (day("2023-04-01"), day("2023-07-27"))
    assert quarters.loc[day("2023-03-31"), "basis"] == REPORTED_QUARTER


def test_a_derived_fourth_quarter_counts_from_the_later_of_its_two_filings():
    """A nine-month figure first seen after the 10-K (e.g. only as a later comparative)
    makes the Q4 known only then."""
    document = company(
        1,
        [
            entry("2022-01-01", "2022-12-31", 100, "k", "2023-02-20", form="10-K"),
            entry("2022-01-01", "2022-09-30", 70, "q", "2023-11-02"),
        ],
    )
    q4 = quarterly_net_income(parse_companyfacts(document)).iloc[0]
    assert (q4["net_income"], q4["filed"], q4["accn"]) == (30, day("2023-11-02"), "q")


def test_a_reported_three_month_fourth_quarter_wins_a_tie_with_the_derived_one():
    document = company(
        1,
        [
            entry("2022-01-01", "2022-09-30", 70, "q", "2022-11-02"),
            entry("2022-10-01", "2022-12-31", 31, "k", "2023-02-20", form="10-K"),
            entry("2022-01-01", "2022-12-31", 100, "k", "2023-02-20", form="10-K"),
        ],
    )
    quarters = quarterly_net_income(parse_companyfacts(document))
    assert quarters[["net_income", "basis"]].values.tolist() == [[31, REPORTED_QUARTER]]


# --- shares and sessions -------------------------------------------------------------------


def test_shares_outstanding_are_cover_page_counts_known_from_the_next_session(facts):
    shares = shares_outstanding(facts)
    assert list(shares.columns) == list(SHARES_COLUMNS)
    latest = shares.iloc[-1]
    assert (latest["as_of"], latest["shares"], latest["filed"], latest["known_from"]) == (
        day("2023-10-20"),
        15_552_752_000,
        day("2023-11-03"),
        day("2023-11-06"),
    )
    assert shares["as_of"].is_monotonic_increasing and len(shares) == 5


def test_a_restated_share_count_keeps_its_first_version():
    document = company(
        1,
        [],
        shares=[
            entry(None, "2023-04-21", 100, "a", "2023-05-05"),
            entry(None, "2023-04-21", 90, "b", "2023-08-04"),
        ],
    )
    assert shares_outstanding(parse_companyfacts(document))["shares"].tolist() == [100]


def test_a_figure_counts_from_the_first_session_strictly_after_its_filing():
    assert first_session_after(dt.date(2023, 11, 3)) == dt.date(2023, 11, 6)  # Fri -> Mon
    assert first_session_after(dt.date(2023, 11, 22)) == dt.date(2023, 11, 24)  # Thanksgiving
    assert first_session_after(dt.date(2023, 12, 29)) == dt.date(2024, 1, 2)  # New Year
    filed = pd.Series([day("2023-02-01"), pd.NaT], index=[7, 9])
    result = known_from(filed)
    assert result.index.tolist() == [7, 9]
    assert result.iloc[0] == day("2023-02-02") and pd.isna(result.iloc[1])


def test_companies_are_kept_apart(facts):
    """Quarters, derivations and trailing sums are per CIK, whatever else the frame holds."""
    other = company(
        789019,
        [
            entry("2022-07-01", "2022-09-30", 17_556 * M, "m1", "2022-10-25"),
            entry("2022-10-01", "2022-12-31", 16_425 * M, "m2", "2023-01-24"),
            entry("2023-01-01", "2023-03-31", 18_299 * M, "m3", "2023-04-25"),
            entry("2022-07-01", "2023-03-31", 52_280 * M, "m3", "2023-04-25"),
            entry("2022-07-01", "2023-06-30", 72_361 * M, "m4", "2023-07-27", form="10-K"),
        ],
    )
    both = pd.concat([facts, parse_companyfacts(other)], ignore_index=True)
    quarters = quarterly_net_income(both)
    assert quarters.groupby("cik").size().to_dict() == {"0000320193": 7, "0000789019": 4}
    ttm = trailing_four_quarters(quarters, dt.date(2023, 11, 6)).set_index("cik")
    assert ttm.loc["0000789019", "ttm_net_income"] == 72_361 * M
    assert ttm.loc["0000320193", "ttm_net_income"] == 96_995 * M


def test_no_net_income_facts_give_empty_frames_with_their_columns():
    empty = parse_companyfacts({"cik": 1, "entityName": "Shell", "facts": {}})
    quarters = quarterly_net_income(empty)
    assert quarters.empty and list(quarters.columns) == list(QUARTER_COLUMNS)
    assert trailing_four_quarters(quarters, dt.date(2024, 1, 2)).empty
    assert shares_outstanding(empty).empty
