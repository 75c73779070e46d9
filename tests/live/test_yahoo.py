"""Yahoo, live: prices with actions and the fundamentals pieces, as the parsers need them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.lib.sources.live.network import YAHOO_HOSTS
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, PRICES
from tests.live.conftest import require_hosts

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
PRICE_TICKERS = ("SPY", "AAPL")
FUNDAMENTAL_TICKERS = ("AAPL", "JPM")
YAHOO_COLUMNS = {"Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends"}
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def answers(record_dir) -> dict:
    """What the child process saw (``tests/live/yahoo_canary.py``): yfinance as in
    production, without the offline suite's YF_DISABLE_CURL_CFFI."""
    require_hosts("Yahoo", YAHOO_HOSTS)
    env = {k: v for k, v in os.environ.items() if k != "YF_DISABLE_CURL_CFFI"}
    command = [
        sys.executable,
        "-m",
        "tests.live.yahoo_canary",
        "--prices",
        *PRICE_TICKERS,
        "--fundamentals",
        *FUNDAMENTAL_TICKERS,
    ]
    if record_dir is not None:
        command += ["--record", str(record_dir / "yahoo")]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"Yahoo (query1/query2.finance.yahoo.com) did not finish in {TIMEOUT_SECONDS}s")
    assert done.returncode == 0, f"yahoo_canary failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_yfinance_runs_as_in_production(answers):
    assert answers["curl_cffi_disabled"] is False


@pytest.mark.parametrize("ticker", PRICE_TICKERS)
def test_daily_prices_with_actions(answers, ticker):
    prices = answers["prices"]
    assert ticker not in prices["failures"], prices["failures"]
    got = prices[ticker]
    assert set(got["yahoo"]["columns"]) >= YAHOO_COLUMNS, got["yahoo"]["columns"]
    assert all(got["yahoo"]["dtypes"][c] == "float64" for c in ("Close", "Adj Close", "Dividends"))
    canonical = got["canonical"]
    assert canonical["columns"] == list(PRICES.payload)
    assert canonical["rows"] > 250 and got["null_closes"] == 0
    last = dt.date.fromisoformat(canonical["last"])
    assert (dt.date.today() - last).days <= 7, f"{ticker}: latest bar {last}"
    assert got["dividend_days"] >= 1, f"{ticker}: no dividend in over a year of actions"


@pytest.mark.parametrize("ticker", FUNDAMENTAL_TICKERS)
def test_income_statement_earnings_dates_and_shares(answers, ticker):
    got = answers["fundamentals"][ticker]
    assert "error" not in got, got.get("error")
    assert got["missing_pieces"] == []
    assert {"DilutedEPS", "DilutedAverageShares"} <= set(got["income_rows"])
    assert len(got["income_columns"]) >= 4  # quarter ends
    earnings = got["earnings"]
    assert {"EPS Estimate", "Reported EPS"} <= set(earnings["columns"])
    assert got["earnings_index_tz"] not in (None, "None")  # report times are zoned
    assert earnings["rows"] >= 8 and got["shares_rows"] > 0
    quarters = got["quarters"]
    assert quarters["columns"] == list(FUNDAMENTALS.payload)
    assert quarters["rows"] >= 8 and got["quarters_with_report_date"] >= 8
    last = dt.date.fromisoformat(quarters["last"])
    assert (dt.date.today() - last).days <= 200, f"{ticker}: latest quarter {last}"
    snapshot = got["snapshot"]
    assert snapshot["trailing_pe"] or snapshot["forward_pe"] or snapshot["market_cap"]
