"""A files build with REAL SEC companyfacts: trailing earnings around real filings.

``tests/fixtures/edgar/real/`` holds excerpts of SEC's own companyfacts documents (every
kept entry verbatim; provenance in ``tests/fixtures/edgar/README.md``) for three fiscal
calendars: Apple (fiscal year ends late September), Alphabet (December) and Snowflake
(January 31; losses throughout). For each, on the last session before and the first
session after a 10-Q and a 10-K, ``marts.stock_valuation_daily.ttm_earnings_usd`` must
equal the sum of the latest four quarters public by then, each at its first-reported
value, computed here independently from the JSON:

- of every version of a period's ``NetIncomeLoss``, the one filed first counts (ties:
  lowest accn);
- a quarter is an 80-100 day fact; Q4 is the fiscal year minus the nine months to date
  (both first-reported), public at the later of their filings;
- a quarter is public from the first NYSE session strictly after its ``filed`` date.

The worked numbers are also written out as literals (``FILINGS``), so the test documents
the computation. Prices are SYNTHETIC (a flat close per ticker): only the earnings are
real, and the earnings do not depend on prices.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.build import run_build
from dagster_project.lib import calendar
from dagster_project.lib.settings import ENV_WAREHOUSE, Settings
from dagster_project.lib.warehouse import store as wh

pytestmark = pytest.mark.slow

REAL_EDGAR = Path(__file__).resolve().parents[1] / "fixtures" / "edgar" / "real"
CIKS = {"AAPL": "0000320193", "GOOGL": "0001652044", "SNOW": "0001640147"}
M = 1_000_000
FIRST_DAY, LAST_DAY = dt.date(2022, 7, 1), dt.date(2024, 3, 28)
"""The synthetic prices' span: every filing below, and the four quarters before it."""


@dataclass(frozen=True)
class Filing:
    """One real filing and the trailing earnings (dollars) on the sessions around it."""

    ticker: str
    form: str
    accn: str
    filed: dt.date
    before: dt.date
    ttm_before: int
    after: dt.date
    ttm_after: int


FILINGS = (
    # Apple, fiscal year ending the last Saturday of September.
    # 10-Q for fiscal Q3 2023: accn 0000320193-23-000077, filed Friday 2023-08-04.
    #   before (Fri 2023-08-04): FQ3'22 19,442 (0000320193-22-000070, filed 2022-07-29)
    #     + FQ4'22 20,721 = FY'22 99,803 (10-K 0000320193-22-000108, filed 2022-10-28)
    #       - 9M'22 79,082 (0000320193-22-000070)
    #     + FQ1'23 29,998 (0000320193-23-000006, filed 2023-02-03)
    #     + FQ2'23 24,160 (0000320193-23-000064, filed 2023-05-05) = 94,321
    #   after (Mon 2023-08-07): drop FQ3'22, add FQ3'23 19,881 (0000320193-23-000077) = 94,760
    Filing(
        "AAPL", "10-Q", "0000320193-23-000077", dt.date(2023, 8, 4),
        dt.date(2023, 8, 4), (19_442 + 20_721 + 29_998 + 24_160) * M,
        dt.date(2023, 8, 7), (20_721 + 29_998 + 24_160 + 19_881) * M,
    ),
    # 10-K for fiscal 2023: accn 0000320193-23-000106, filed Friday 2023-11-03.
    #   before (Fri 2023-11-03): FQ4'22 20,721 + FQ1'23 29,998 + FQ2'23 24,160
    #     + FQ3'23 19,881 = 94,760
    #   after (Mon 2023-11-06): drop FQ4'22, add FQ4'23 22,956 = FY'23 96,995
    #     (0000320193-23-000106) - 9M'23 74,039 (0000320193-23-000077): 96,995 in all
    Filing(
        "AAPL", "10-K", "0000320193-23-000106", dt.date(2023, 11, 3),
        dt.date(2023, 11, 3), (20_721 + 29_998 + 24_160 + 19_881) * M,
        dt.date(2023, 11, 6), (29_998 + 24_160 + 19_881 + 22_956) * M,
    ),
    # Alphabet, fiscal year = calendar year.
    # 10-Q for Q3 2023: accn 0001652044-23-000094, filed Wednesday 2023-10-25.
    #   before (Wed 2023-10-25): Q3'22 13,910 (0001652044-22-000090, filed 2022-10-26)
    #     + Q4'22 13,624 = FY'22 59,972 (10-K 0001652044-23-000016, filed 2023-02-03)
    #       - 9M'22 46,348 (0001652044-22-000090)
    #     + Q1'23 15,051 (0001652044-23-000045, filed 2023-04-26)
    #     + Q2'23 18,368 (0001652044-23-000070, filed 2023-07-26) = 60,953
    #   after (Thu 2023-10-26): drop Q3'22, add Q3'23 19,689 (0001652044-23-000094) = 66,732
    Filing(
        "GOOGL", "10-Q", "0001652044-23-000094", dt.date(2023, 10, 25),
        dt.date(2023, 10, 25), (13_910 + 13_624 + 15_051 + 18_368) * M,
        dt.date(2023, 10, 26), (13_624 + 15_051 + 18_368 + 19_689) * M,
    ),
    # 10-K for 2023: accn 0001652044-24-000022, filed Wednesday 2024-01-31.
    #   before (Wed 2024-01-31): Q4'22 13,624 + Q1'23 15,051 + Q2'23 18,368
    #     + Q3'23 19,689 = 66,732
    #   after (Thu 2024-02-01): drop Q4'22, add Q4'23 20,687 = FY'23 73,795
    #     (0001652044-24-000022) - 9M'23 53,108 (0001652044-23-000094): 73,795 in all
    Filing(
        "GOOGL", "10-K", "0001652044-24-000022", dt.date(2024, 1, 31),
        dt.date(2024, 1, 31), (13_624 + 15_051 + 18_368 + 19_689) * M,
        dt.date(2024, 2, 1), (15_051 + 18_368 + 19_689 + 20_687) * M,
    ),
    # Snowflake, fiscal year ending January 31 (fiscal 2024 = Feb 2023 - Jan 2024); losses,
    # in thousands of dollars here.
    # 10-Q for fiscal Q3 2024: accn 0001640147-23-000260, filed Friday 2023-12-01.
    #   before (Fri 2023-12-01): FQ3'23 -200,936 (0001640147-22-000100, filed 2022-12-02)
    #     + FQ4'23 -207,169 = FY'23 -796,705 (10-K 0001640147-23-000030, filed 2023-03-29)
    #       - 9M'23 -589,536 (0001640147-22-000100)
    #     + FQ1'24 -225,627 (0001640147-23-000102, filed 2023-06-02)
    #     + FQ2'24 -226,867 (0001640147-23-000199, filed 2023-08-31) = -860,599
    #   after (Mon 2023-12-04): drop FQ3'23, add FQ3'24 -214,251 (0001640147-23-000260)
    #     = -873,914
    Filing(
        "SNOW", "10-Q", "0001640147-23-000260", dt.date(2023, 12, 1),
        dt.date(2023, 12, 1), (-200_936 - 207_169 - 225_627 - 226_867) * 1_000,
        dt.date(2023, 12, 4), (-207_169 - 225_627 - 226_867 - 214_251) * 1_000,
    ),
    # 10-K for fiscal 2024: accn 0001640147-24-000101, filed Tuesday 2024-03-26.
    #   before (Tue 2024-03-26): -207,169 - 225,627 - 226,867 - 214,251 = -873,914
    #   after (Wed 2024-03-27): drop FQ4'23, add FQ4'24 -169,352 = FY'24 -836,097
    #     (0001640147-24-000101) - 9M'24 -666,745 (0001640147-23-000260): -836,097 in all
    Filing(
        "SNOW", "10-K", "0001640147-24-000101", dt.date(2024, 3, 26),
        dt.date(2024, 3, 26), (-207_169 - 225_627 - 226_867 - 214_251) * 1_000,
        dt.date(2024, 3, 27), (-225_627 - 226_867 - 214_251 - 169_352) * 1_000,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Quarter:
    period_start: dt.date
    period_end: dt.date
    value: int
    accn: str
    filed: dt.date
    basis: str
    """``reported`` (a 3-month fact) or ``FY - 9M`` (the fiscal year less nine months)."""

    @property
    def public_from(self) -> dt.date:
        """The first NYSE session strictly after the filing date."""
        return next_session(self.filed)


def next_session(day: dt.date) -> dt.date:
    return calendar.sessions(day + dt.timedelta(days=1), day + dt.timedelta(days=14))[0].date()


def previous_session(day: dt.date) -> dt.date:
    return calendar.sessions(day - dt.timedelta(days=14), day - dt.timedelta(days=1))[-1].date()


def first_reported_quarters(document: dict) -> list[Quarter]:
    """Every fiscal quarter of a companyfacts document, at its first-reported net income,
    oldest first: reported 3-month figures, and Q4 as fiscal year minus nine months."""
    entries = document["facts"]["us-gaap"]["NetIncomeLoss"]["units"]["USD"]
    first: dict[tuple[str, str], dict] = {}
    for entry in sorted(entries, key=lambda e: (e["filed"], e["accn"])):
        if "start" in entry:
            first.setdefault((entry["start"], entry["end"]), entry)

    def days(entry: dict) -> int:
        return (dt.date.fromisoformat(entry["end"]) - dt.date.fromisoformat(entry["start"])).days

    def quarter(start: str, end: str, value: int, accn: str, filed: str, basis: str) -> Quarter:
        day = dt.date.fromisoformat
        return Quarter(day(start), day(end), value, accn, day(filed), basis)

    quarters: dict[str, Quarter] = {}
    for e in first.values():
        if 80 <= days(e) <= 100:
            quarters[e["end"]] = quarter(
                e["start"], e["end"], e["val"], e["accn"], e["filed"], "reported"
            )
    for year in (e for e in first.values() if 350 <= days(e) <= 380):
        for nine in first.values():
            gap = (dt.date.fromisoformat(year["end"]) - dt.date.fromisoformat(nine["end"])).days
            if nine["start"] == year["start"] and 260 <= days(nine) <= 280 and 80 <= gap <= 100:
                later = max(year, nine, key=lambda e: (e["filed"], e is year))
                start = (dt.date.fromisoformat(nine["end"]) + dt.timedelta(days=1)).isoformat()
                value = year["val"] - nine["val"]
                q4 = quarter(start, year["end"], value, later["accn"], later["filed"], "FY - 9M")
                reported = quarters.get(year["end"])
                if reported is None or q4.filed < reported.filed:
                    quarters[year["end"]] = q4
    return sorted(quarters.values(), key=lambda q: q.period_end)


def trailing_four(quarters: list[Quarter], day: dt.date) -> tuple[int, list[Quarter]]:
    """The sum of the latest four quarters public on ``day``, and those four (which must
    be consecutive: together a 52- or 53-week year)."""
    latest = [q for q in quarters if q.public_from <= day][-4:]
    assert len(latest) == 4
    assert 350 <= (latest[-1].period_end - latest[0].period_start).days <= 380
    return sum(q.value for q in latest), latest


def companyfacts(ticker: str) -> dict:
    return json.loads((REAL_EDGAR / f"CIK{CIKS[ticker]}.json").read_text())


def filing_id(filing: Filing) -> str:
    return f"{filing.ticker}-{filing.form}-{filing.filed}"


@pytest.mark.parametrize("filing", FILINGS, ids=filing_id)
def test_the_worked_numbers_are_the_first_reported_quarters_of_the_real_json(filing):
    quarters = first_reported_quarters(companyfacts(filing.ticker))
    # the filing is real and the two days straddle it: the filing day is a session on
    # which the filing is not yet usable, the next session the first on which it is
    assert any(
        e["accn"] == filing.accn and e["form"] == filing.form and e["filed"] == f"{filing.filed}"
        for e in companyfacts(filing.ticker)["facts"]["us-gaap"]["NetIncomeLoss"]["units"]["USD"]
    )
    assert filing.after == next_session(filing.filed)
    assert filing.before == previous_session(filing.after)
    before, _ = trailing_four(quarters, filing.before)
    after, four = trailing_four(quarters, filing.after)
    assert (before, after) == (filing.ttm_before, filing.ttm_after)
    assert four[-1].accn == filing.accn  # the filing brought the newest quarter


@pytest.fixture(scope="module")
def real_edgar_warehouse(dbt_manifest, tmp_path_factory) -> Path:
    """One files build (published copy's path returned) of AAPL, GOOGL and SNOW: SYNTHETIC
    flat closes and one flat rate series, and the real companyfacts as
    ``fundamentals/edgar/``. SNOW is not in universe.yaml: ``universe.csv`` names it a
    large-cap stock (AAPL and GOOGL keep the yaml's metadata)."""
    root = tmp_path_factory.mktemp("real_edgar") / "my-data"
    (root / "prices").mkdir(parents=True)
    days = calendar.sessions(FIRST_DAY, LAST_DAY)
    for ticker, close in (("AAPL", 150.0), ("GOOGL", 120.0), ("SNOW", 160.0)):
        lines = ["Date,Open,High,Low,Close,Volume,Dividends,Stock Splits"]
        lines += [f"{d:%Y-%m-%d},{close},{close},{close},{close},1000000,0,0" for d in days]
        (root / "prices" / f"{ticker}.csv").write_text("\n".join(lines) + "\n")
    (root / "rates").mkdir()
    rates = ["observation_date,DGS2"] + [f"{d:%Y-%m-%d},4.5" for d in days]
    (root / "rates" / "DGS2.csv").write_text("\n".join(rates) + "\n")
    (root / "universe.csv").write_text(
        "ticker,name,kind,size,style,sector\n"
        "SNOW,Snowflake,stock,large,growth,Information Technology\n"
    )
    shutil.copytree(REAL_EDGAR, root / "fundamentals" / "edgar")
    warehouse = root.parent / "warehouse.duckdb"
    # dbt reads the warehouse path from the environment; restored right after the build
    with dg.DagsterInstance.ephemeral() as instance, pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_WAREHOUSE, str(warehouse))
        settings = Settings(source=f"files:{root}", warehouse=warehouse)
        outcome = run_build(settings, instance, show_progress=False)
    assert outcome.ok, outcome.failure_report()
    return wh.published_path(warehouse)


@pytest.mark.parametrize("filing", FILINGS, ids=filing_id)
def test_trailing_earnings_around_a_real_filing_are_the_first_reported_quarters(
    real_edgar_warehouse, filing
):
    quarters = first_reported_quarters(companyfacts(filing.ticker))
    with duckdb.connect(str(real_edgar_warehouse), read_only=True) as con:
        found = con.execute(
            "SELECT trade_date, ttm_earnings_usd, earnings_source, earnings_known_since "
            "FROM marts.stock_valuation_daily WHERE ticker = ? AND trade_date IN (?, ?)",
            [filing.ticker, filing.before, filing.after],
        ).fetchall()
    rows = {day: rest for day, *rest in found}
    for day, literal in ((filing.before, filing.ttm_before), (filing.after, filing.ttm_after)):
        expected, four = trailing_four(quarters, day)
        ttm, source, known_since = rows[day]
        assert ttm == expected == literal, day
        assert (source, known_since) == ("edgar", max(q.public_from for q in four))
    assert rows[filing.after][2] == filing.after  # the filing's quarter counts from here
