"""Re-recording the replay fixtures (the live canary's ``ROTATION_RECORD_FIXTURES``), offline.

The recorder is fed by the replays themselves: answers recorded through a session and
written in the replay layout must replay to the same frames the originals give. So a
re-recording from Yahoo, FRED or SEC lands in files the offline tests can read.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import requests

from dagster_project.lib.sources.base import Window
from dagster_project.lib.sources.edgar.companyfacts import parse_companyfacts
from dagster_project.lib.sources.live.fred import FredClient, RateLimiter
from dagster_project.lib.sources.live.retry import NO_WAIT
from dagster_project.lib.sources.live.yahoo_fundamentals import YahooFundamentals
from dagster_project.lib.sources.live.yahoo_prices import YahooPrices
from tests.live import yahoo_canary
from tests.replay.fred import FIXTURES as FRED_FIXTURES
from tests.replay.recording import (
    FIXTURES,
    Recorder,
    record_root,
    trimmed_companyfacts,
    write_edgar,
    write_fred,
    write_yahoo,
)
from tests.replay.yahoo import YahooReplay

WINDOW = Window(dt.date(2023, 1, 1), dt.date(2024, 9, 30))
EDGAR = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"


def yahoo_answers(session_factory) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    fundamentals = YahooFundamentals(session_factory, NO_WAIT)
    frames, failures = YahooPrices(session_factory, NO_WAIT).fetch(
        ["SPY", "NVDA"], dt.date(2024, 7, 1)
    )
    assert failures == {}
    return (
        fundamentals.quarters("NVDA", WINDOW),
        fundamentals.snapshot("NVDA", dt.date(2024, 10, 1)),
        pd.concat(frames, names=["ticker"]),
    )


def test_recorded_yahoo_answers_replay_as_the_originals(yahoo, tmp_path):
    recorder = Recorder()
    session = recorder.wrap(yahoo.session())
    original = yahoo_answers(lambda: session)
    written = write_yahoo(recorder.ok(), tmp_path / "yahoo")
    names = {p.relative_to(tmp_path / "yahoo").as_posix() for p in written}
    assert {"chart/SPY.json", "chart/NVDA.json", "earnings/NVDA.html"} <= names
    assert {"quote_summary.json", "timeseries.json"} <= names
    replayed = yahoo_answers(YahooReplay(tmp_path / "yahoo").session)
    pd.testing.assert_frame_equal(replayed[0], original[0])
    assert replayed[1] == original[1]
    pd.testing.assert_frame_equal(replayed[2], original[2])


def test_recording_keeps_the_entries_of_tickers_not_recorded(yahoo, tmp_path):
    root = tmp_path / "yahoo"
    shutil.copytree(FIXTURES / "yahoo", root)
    recorder = Recorder()
    session = recorder.wrap(yahoo.session())
    YahooFundamentals(lambda: session, NO_WAIT).snapshot("AAPL", dt.date(2024, 10, 1))
    write_yahoo(recorder.ok(), root)
    held = json.loads((FIXTURES / "yahoo" / "quote_summary.json").read_text())
    assert json.loads((root / "quote_summary.json").read_text()) == held


def test_recorded_fred_csv_is_written_as_the_xml_the_local_fred_serves(fred_server, tmp_path):
    recorder = Recorder()
    client = FredClient(
        csv_url=f"{fred_server.root}/graph/fredgraph.csv",
        session_factory=lambda: recorder.wrap(requests.Session()),
        limiter=RateLimiter(60_000),
        policy=NO_WAIT,
    )
    window = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))
    client.observations("DGS10", window)
    (path,) = write_fred({"DGS10": recorder.ok()[-1].text}, tmp_path / "fred")

    def observations(xml: Path) -> list[tuple[str, str]]:
        return [(o.get("date"), o.get("value")) for o in ET.parse(xml).getroot()]

    recorded = observations(path)
    assert recorded == observations(FRED_FIXTURES / "DGS10.xml")
    assert any(value == "." for _, value in recorded)  # a holiday stays missing


def test_recorded_companyfacts_keep_what_the_parser_reads(tmp_path):
    document = json.loads((EDGAR / "CIK0000320193.json").read_text())
    padded = {**document, "facts": {**document["facts"], "ifrs-full": {"Revenue": {}}}}
    assert trimmed_companyfacts(padded) == document
    listing = json.loads((EDGAR / "company_tickers.json").read_text())
    root = tmp_path / "edgar"
    write_edgar(listing, {"320193": padded}, root)
    parsed = parse_companyfacts(json.loads((root / "CIK0000320193.json").read_text()))
    pd.testing.assert_frame_equal(parsed, parse_companyfacts(document))
    listed = json.loads((root / "company_tickers.json").read_text())
    assert "AAPL" in {entry["ticker"] for entry in listed.values()}


def test_where_recordings_go():
    assert record_root({}) is None and record_root({"ROTATION_RECORD_FIXTURES": "0"}) is None
    assert record_root({"ROTATION_RECORD_FIXTURES": "1"}) == FIXTURES
    assert record_root({"ROTATION_RECORD_FIXTURES": "/tmp/rec"}) == Path("/tmp/rec").resolve()


def test_the_canary_summarises_answers_the_way_its_tests_read_them(yahoo):
    """The canary's child process, fed the replay instead of Yahoo (its tests need the
    network): every piece it reports is there, in the shape the assertions expect."""
    prices = yahoo_canary.prices(yahoo.session, ["SPY", "AAPL"], start=dt.date(2024, 7, 1))
    assert prices["failures"] == {}
    spy = prices["SPY"]
    assert {"Close", "Adj Close", "Dividends"} <= set(spy["yahoo"]["columns"])
    assert spy["canonical"]["last"] == "2024-09-30" and spy["dividend_days"] == 1
    fundamentals = yahoo_canary.fundamentals(yahoo.session, ["AAPL"], years=10)["AAPL"]
    assert "error" not in fundamentals, fundamentals.get("error")
    assert fundamentals["missing_pieces"] == [] and "DilutedEPS" in fundamentals["income_rows"]
    assert {"EPS Estimate", "Reported EPS"} <= set(fundamentals["earnings"]["columns"])
    assert fundamentals["quarters"]["rows"] == fundamentals["quarters_with_report_date"] > 0
    assert fundamentals["snapshot"]["forward_pe"] == 28.9
