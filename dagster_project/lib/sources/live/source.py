"""``LiveSource``: yfinance for prices, fundamentals and valuations, FRED for rates.

Every fetch reports the tickers or series it could not get (with Yahoo's or FRED's reason)
instead of failing the load, and fails loudly only when it got nothing at all, which
means the network, Yahoo or the FRED key, not one symbol. Nothing here reads the API key
except the FRED client, which keeps it out of every message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dagster_project.lib.sources.base import (
    Batch,
    HeldPrices,
    SourceUnavailable,
    Window,
    empty_frame,
)
from dagster_project.lib.sources.live import fred, yahoo_session
from dagster_project.lib.sources.live.config import (
    ENV_FRED_API_KEY,
    FRED_SERIES_FILE,
    OVERLAP_SESSIONS,
    load_fred_series,
)
from dagster_project.lib.sources.live.fred import FredClient, fetch_rates
from dagster_project.lib.sources.live.network import NoNetwork
from dagster_project.lib.sources.live.retry import Backoff
from dagster_project.lib.sources.live.yahoo_fundamentals import YahooFundamentals
from dagster_project.lib.sources.live.yahoo_prices import YahooPrices, fetch_prices
from dagster_project.lib.sources.sample.universe import UNIVERSE_FILE, load_universe, universe_frame
from dagster_project.lib.sources.symbols import checked_ticker
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS, VALUATION_SNAPSHOTS

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = Backoff()
VALUED_KINDS = ("stock", "etf")
"""Yahoo reports P/E for stocks and funds; an index has none."""


class LiveSource:
    """Real market data: Yahoo through yfinance, FRED through fredapi or its keyless CSV."""

    label = "live"
    synthetic = False
    held_depth = OVERLAP_SESSIONS + 1

    def __init__(
        self,
        universe_file: Path | None = None,
        fred_series_file: Path | None = None,
        policy: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        path = universe_file or UNIVERSE_FILE
        self.instruments = load_universe(path)
        for instrument in self.instruments:
            checked_ticker(instrument.ticker, str(path))
        self.series = load_fred_series(fred_series_file or FRED_SERIES_FILE)
        self.policy = policy or DEFAULT_BACKOFF
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"LiveSource(tickers={len(self.instruments)}, series={len(self.series)})"

    def tickers(self, kinds: tuple[str, ...] | None = None) -> list[str]:
        return [i.ticker for i in self.instruments if kinds is None or i.kind in kinds]

    def universe(self) -> pd.DataFrame:
        return universe_frame(self.instruments)

    def prices(self, window: Window) -> Batch:
        return self.incremental_prices(window, HeldPrices.empty())

    def incremental_prices(self, window: Window, held: HeldPrices) -> Batch:
        yahoo = YahooPrices(self._session, self.policy, self.sleep)
        return fetch_prices(yahoo, self.tickers(), window, held)

    def fundamentals(self, window: Window) -> Batch:
        yahoo = YahooFundamentals(self._session, self.policy, self.sleep)
        return self._per_ticker(
            self.tickers(("stock",)), lambda t: yahoo.quarters(t, window), FUNDAMENTALS, "EPS"
        )

    def valuation_snapshots(self, as_of: dt.date) -> Batch:
        yahoo = YahooFundamentals(self._session, self.policy, self.sleep)
        return self._per_ticker(
            self.tickers(VALUED_KINDS),
            lambda t: pd.DataFrame([yahoo.snapshot(t, as_of)]),
            VALUATION_SNAPSHOTS,
            "valuations",
        )

    def rates(self, window: Window) -> Batch:
        client = FredClient(
            api_key=os.environ.get(ENV_FRED_API_KEY) or None,
            api_root=fred.FRED_API_ROOT,
            csv_url=fred.FRED_GRAPH_CSV,
            policy=self.policy,
            sleep=self.sleep,
        )
        return fetch_rates(client, self.series, window)

    def edgar_facts(self, tickers: list[str]) -> Batch:
        """SEC EDGAR facts, only when ROTATION_SEC_USER_AGENT is set (else NotConfigured)."""
        from dagster_project.lib.sources.edgar.client import fetch_edgar_facts_from_env

        return fetch_edgar_facts_from_env(tickers)

    def _session(self):
        # Looked up on every call so tests can swap in a replaying session.
        return yahoo_session.new_session()

    @staticmethod
    def _per_ticker(tickers: list[str], fetch, table, what: str) -> Batch:
        """``fetch`` each ticker; failures are reported, an empty total is an error, and
        so is a network that is gone (``NoNetwork``: every other ticker would fail too)."""
        frames, failures = [], {}
        for ticker in tickers:
            try:
                frames.append(fetch(ticker))
            except NoNetwork:
                raise
            except Exception as exc:
                failures[ticker] = f"{type(exc).__name__}: {exc}"
        frames = [f for f in frames if not f.empty]
        if tickers and len(failures) == len(tickers):
            detail = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
            raise SourceUnavailable(
                f"live: Yahoo returned no {what} for any of {len(tickers)} tickers. Is the "
                f"network up and Yahoo reachable? {detail}"
            )
        frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(table)
        return Batch(frame=frame[list(table.payload)], failures=failures)
