"""SEC EDGAR, live: the ticker list and two companies' companyfacts through the project's
client and parser. SEC requires a User-Agent with a contact: without
ROTATION_SEC_USER_AGENT the canary is skipped, saying so."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from dagster_project.lib.sources.edgar import client as edgar
from dagster_project.lib.sources.edgar.companyfacts import CONCEPTS, cik10, parse_companyfacts
from tests.live.conftest import require_hosts
from tests.replay.recording import write_edgar

pytestmark = pytest.mark.live

COMPANIES = {"AAPL": 320193, "JPM": 19617}


@pytest.fixture(scope="module")
def sec() -> edgar.EdgarClient:
    if not (os.environ.get(edgar.ENV_SEC_USER_AGENT) or "").strip():
        pytest.skip(
            f"live canary (SEC EDGAR): {edgar.ENV_SEC_USER_AGENT} is not set; SEC requires a "
            "User-Agent with a contact, e.g. 'Your Name you@example.com'"
        )
    require_hosts("SEC EDGAR", [edgar.COMPANY_TICKERS_URL, "https://data.sec.gov/"])
    return edgar.EdgarClient.from_env(cache=None)  # a canary asks SEC, not the cache


@pytest.fixture(scope="module")
def listing(sec) -> dict:
    return json.loads(sec.get(sec.company_tickers_url))


def test_company_tickers_map_the_companies(sec, listing):
    frame = edgar.parse_company_tickers(listing, sec.company_tickers_url)
    assert {"cik", "ticker", "title"} <= set(frame.columns) and len(frame) > 5000
    ciks = dict(zip(frame["ticker"], frame["cik"], strict=True))
    for ticker, cik in COMPANIES.items():
        assert ciks[ticker] == cik10(cik), ticker


@pytest.mark.parametrize("ticker", COMPANIES)
def test_companyfacts_parse_into_fact_versions(sec, listing, record_dir, ticker):
    url = sec.companyfacts_url.format(cik=cik10(COMPANIES[ticker]))
    document = json.loads(sec.get(url))
    facts = parse_companyfacts(document, origin=url)
    assert not facts.empty
    held = set(zip(facts["taxonomy"], facts["concept"], strict=True))
    assert {(c.taxonomy, c.name) for c in CONCEPTS} <= held
    assert facts["filed"].notna().all() and facts["accn"].notna().all()
    latest = max(facts["filed"])
    latest = latest.date() if hasattr(latest, "date") else latest
    assert (dt.date.today() - latest).days <= 200, f"{ticker}: latest filing {latest}"
    if record_dir is not None:
        write_edgar(listing, {str(COMPANIES[ticker]): document}, record_dir / "edgar")
