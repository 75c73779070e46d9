"""A ``requests`` adapter that answers yfinance's requests from recorded Yahoo fixtures.

Mounted on a plain ``requests.Session`` (with ``YF_DISABLE_CURL_CFFI=1``), it serves every
URL yfinance asks for: the cookie and crumb endpoints, the chart API (filtered to the
requested ``period1``/``period2``, so an incremental fetch sees only its days), quoteSummary,
the fundamentals time series and the earnings calendar page. Unknown symbols get Yahoo's
404 answer. ``throttle[ticker] = n`` makes the first ``n`` chart requests of a ticker
answer HTTP 429, as Yahoo does under load; ``outage = True`` answers every data request
(chart, quoteSummary, fundamentals, calendar) with 429, as when Yahoo blocks a network.
A ticker in ``no_income``, ``no_shares`` or ``no_calendar`` gets Yahoo's partial answers:
an empty income statement, an empty share count, an earnings page without its table; one
in ``throttled_income`` has its income statement answered with HTTP 429 (yfinance logs
that and returns an empty statement).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "yahoo"
NOT_FOUND_CHART = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class YahooReplay(BaseAdapter):
    def __init__(self, fixtures: Path = FIXTURES) -> None:
        super().__init__()
        self.fixtures = fixtures
        self.charts = {p.stem: p for p in (fixtures / "chart").glob("*.json")}
        self.quote_summary = json.loads((fixtures / "quote_summary.json").read_text())
        self.timeseries = json.loads((fixtures / "timeseries.json").read_text())
        self.throttle: Counter = Counter()
        self.outage = False
        self.no_income: set[str] = set()
        self.no_shares: set[str] = set()
        self.no_calendar: set[str] = set()
        self.throttled_income: set[str] = set()
        self.requests: list[str] = []

    def use_chart(self, ticker: str, variant: str) -> None:
        """Serve ``chart/<TICKER>.<variant>.json`` for the ticker from now on."""
        self.charts[ticker] = self.fixtures / "chart" / f"{ticker}.{variant}.json"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    def send(self, request, **kwargs):
        self.requests.append(request.url)
        url = urlsplit(request.url)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path)
        host = url.hostname or ""
        if host == "fc.yahoo.com":
            return self._response(request, 200, "", "text/html")
        if path.endswith("/v1/test/getcrumb"):
            return self._response(request, 200, "fixture-crumb", "text/plain")
        if host == "guce.yahoo.com":
            return self._response(request, 200, "<html><body></body></html>", "text/html")
        if self.outage:
            return self._response(request, 429, "Too Many Requests", "text/plain")
        if path.startswith("/v8/finance/chart/"):
            return self._chart(request, path.rsplit("/", 1)[-1], query)
        if path.startswith("/v10/finance/quoteSummary/"):
            body = self.quote_summary.get(path.rsplit("/", 1)[-1])
            return self._json(
                request,
                body,
                missing={
                    "quoteSummary": {
                        "result": None,
                        "error": {"code": "Not Found", "description": "Quote not found"},
                    }
                },
            )
        if path.startswith("/v7/finance/quote"):
            return self._json(request, {"quoteResponse": {"result": [], "error": None}})
        if "/fundamentals-timeseries/" in path:
            return self._timeseries(request, path.rsplit("/", 1)[-1], query)
        if path == "/calendar/earnings":
            page = self.fixtures / "earnings" / f"{query.get('symbol')}.html"
            if page.exists() and query.get("symbol") not in self.no_calendar:
                return self._response(request, 200, page.read_text(), "text/html")
            return self._response(request, 200, "<html><body>No results</body></html>", "text/html")
        return self._response(request, 404, "not recorded", "text/plain")

    def close(self) -> None:
        pass

    def _chart(self, request, ticker: str, query: dict):
        if self.throttle[ticker] > 0:
            self.throttle[ticker] -= 1
            return self._response(request, 429, "Too Many Requests", "text/plain")
        if ticker not in self.charts:
            return self._json(request, None, missing=NOT_FOUND_CHART)
        document = json.loads(self.charts[ticker].read_text())
        result = document["chart"]["result"][0]
        stamps = result["timestamp"]
        if "range" in query:  # yfinance's time-zone probe asks for the last day only
            keep = [len(stamps) - 1]
        else:
            first = int(query.get("period1", 0))
            last = int(query.get("period2", 2**40))
            keep = [i for i, s in enumerate(stamps) if first <= s < last]
        result["timestamp"] = [stamps[i] for i in keep]
        for block in (result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]):
            for name, values in block.items():
                block[name] = [values[i] for i in keep]
        if keep and "events" in result:
            low, high = result["timestamp"][0], result["timestamp"][-1]
            for kind, events in result["events"].items():
                result["events"][kind] = {
                    k: v for k, v in events.items() if low <= v["date"] <= high
                }
        return self._json(request, document)

    def _timeseries(self, request, ticker: str, query: dict):
        recorded = self.timeseries.get(ticker)
        kind = query.get("type", "")
        if kind and ticker in self.throttled_income:
            return self._response(request, 429, "Too Many Requests", "text/plain")
        missing = self.no_income if kind else self.no_shares
        if recorded is None or "trailingPegRatio" in kind or ticker in missing:
            return self._json(request, {"timeseries": {"result": [], "error": None}})
        return self._json(request, recorded["income" if kind else "shares"])

    def _json(self, request, body, missing=None):
        if body is None:
            return self._response(request, 404, json.dumps(missing or {}), "application/json")
        return self._response(request, 200, json.dumps(body), "application/json")

    @staticmethod
    def _response(request, status: int, text: str, content_type: str) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(status)
        response._content = text.encode()
        response.encoding = "utf-8"
        response.headers = CaseInsensitiveDict({"Content-Type": content_type})
        response.url = request.url
        response.request = request
        return response
