"""Yahoo through the project's adapters, run as production runs yfinance (a subprocess).

``tests/conftest.py`` sets ``YF_DISABLE_CURL_CFFI=1`` for the offline suite before
yfinance is imported (yfinance picks its HTTP backend at import), so the canary runs this
module in a child process without it: yfinance then talks to Yahoo through curl_cffi, as
``rotation build --source live`` does. It prints one JSON document describing the answer
shapes (``summary``) on its last line; ``--record DIR`` also writes what Yahoo answered
in the replay's layout (``tests/replay/recording.py``).

    python -m tests.live.yahoo_canary --prices SPY AAPL --fundamentals AAPL JPM
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

PRICE_DAYS = 400
"""A year and more of daily bars: at least one dividend for a fund, every column filled."""


def frame_shape(frame, day_column: str | None = None) -> dict:
    """Columns, dtypes, row count and date range of a frame indexed by date (or keyed by
    ``day_column``)."""
    import pandas as pd

    days = pd.to_datetime(frame[day_column] if day_column else frame.index)
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "rows": len(frame),
        "first": str(pd.Timestamp(days.min()).date()) if len(frame) else None,
        "last": str(pd.Timestamp(days.max()).date()) if len(frame) else None,
    }


def prices(session_factory, tickers: list[str], start: dt.date | None = None) -> dict:
    from dagster_project.lib.sources.live.yahoo_prices import YahooPrices
    from dagster_project.lib.sources.yahoo_layout import as_traded

    start = start or dt.date.today() - dt.timedelta(days=PRICE_DAYS)
    frames, failures = YahooPrices(session_factory).fetch(tickers, start)
    out: dict = {"failures": failures}
    for ticker, frame in frames.items():
        canonical = as_traded(frame, ticker)
        out[ticker] = {
            "yahoo": frame_shape(frame),
            "canonical": frame_shape(canonical, "trade_date"),
            "dividend_days": int((canonical["dividends"].fillna(0) > 0).sum()),
            "null_closes": int(canonical["close"].isna().sum()),
        }
    return out


def fundamentals(session_factory, tickers: list[str], years: int = 3) -> dict:
    import yfinance as yf

    from dagster_project.lib.sources.base import Window
    from dagster_project.lib.sources.live.yahoo_fundamentals import (
        EARNINGS_ROWS,
        YahooFundamentals,
        missing_pieces,
    )

    window = Window(dt.date.today() - dt.timedelta(days=years * 365), dt.date.today())
    adapter = YahooFundamentals(session_factory)
    out: dict = {}
    for ticker in tickers:
        entry: dict = {}
        try:
            tkr = yf.Ticker(ticker, session=session_factory())
            income = tkr.get_income_stmt(freq="quarterly")
            earnings = tkr.get_earnings_dates(limit=EARNINGS_ROWS)
            shares = tkr.get_shares_full(start=window.start.isoformat())
            entry["missing_pieces"] = missing_pieces(income, earnings, shares)
            entry["income_rows"] = [str(r) for r in getattr(income, "index", [])]
            entry["income_columns"] = [str(c) for c in getattr(income, "columns", [])]
            entry["earnings"] = None if earnings is None else frame_shape(earnings)
            entry["earnings_index_tz"] = None if earnings is None else str(earnings.index.tz)
            entry["shares_rows"] = 0 if shares is None else len(shares)
            quarters = adapter.quarters(ticker, window)
            entry["quarters"] = frame_shape(quarters, "period_end")
            entry["quarters_with_report_date"] = int(quarters["report_date"].notna().sum())
            entry["snapshot"] = adapter.snapshot(ticker, dt.date.today())
        except Exception as exc:  # reported, so the test names what broke
            entry["error"] = f"{type(exc).__name__}: {exc}"
        out[ticker] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prices", nargs="*", default=[])
    parser.add_argument("--fundamentals", nargs="*", default=[])
    parser.add_argument("--record", type=Path, default=None)
    args = parser.parse_args(argv)

    from dagster_project.lib.sources.live import yahoo_session

    recorder = None
    session_factory = yahoo_session.new_session  # production: yfinance's own session
    if args.record is not None:
        from curl_cffi import requests as curl_requests

        from tests.replay.recording import Recorder

        recorder = Recorder()
        session = recorder.wrap(curl_requests.Session(impersonate="chrome"))
        session_factory = lambda: session  # noqa: E731
    summary = {
        "curl_cffi_disabled": bool(os.environ.get("YF_DISABLE_CURL_CFFI")),
        "prices": prices(session_factory, args.prices) if args.prices else {},
        "fundamentals": (
            fundamentals(session_factory, args.fundamentals) if args.fundamentals else {}
        ),
    }
    if recorder is not None:
        from tests.replay.recording import write_yahoo

        written = write_yahoo(recorder.ok(), args.record)
        summary["recorded"] = [str(p) for p in written]
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
