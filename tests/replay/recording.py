"""Re-recording the replay fixtures from real answers (the live canary, ``tests/live``).

A ``Recorder`` wraps the HTTP session a project adapter uses (a ``requests`` or curl_cffi
session: both route every call through ``session.request``) and keeps every answer.
The writers then lay the answers out exactly as the replays read them:

- Yahoo (``tests/replay/yahoo.py``): ``chart/<T>.json`` (the chart API's JSON, the
  longest daily answer per ticker), ``quote_summary.json`` (ticker -> quoteSummary
  body), ``timeseries.json`` (ticker -> ``{"income": ..., "shares": ...}``, the
  fundamentals time series with and without ``type=``), ``earnings/<T>.html`` (the
  earnings calendar page). Tickers not recorded keep their entries.
- FRED (``tests/replay/fred.py``): ``<SERIES>.xml`` in the XML of FRED's
  ``series/observations`` (``value="."`` for a missing observation), from the keyless
  graph CSV's text.
- EDGAR (``tests/replay`` readers of ``tests/fixtures/edgar``): ``CIK##########.json``,
  companyfacts as SEC serves it but kept to the concepts the parser reads
  (``companyfacts.CONCEPTS``: a whole companyfacts file is megabytes), and
  ``company_tickers.json`` with the recorded companies added to the entries held.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from xml.sax.saxutils import quoteattr

import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ENV_RECORD = "ROTATION_RECORD_FIXTURES"
"""Set to ``1`` to rewrite ``tests/fixtures`` from the live canary's answers, or to a
folder to write the same layout there (``<folder>/yahoo``, ``/fred``, ``/edgar``)."""


def record_root(environ=os.environ) -> Path | None:
    """Where the canary writes fixtures: None (not recording), ``tests/fixtures``, or a folder."""
    value = (environ.get(ENV_RECORD) or "").strip()
    if value in ("", "0"):
        return None
    return FIXTURES if value == "1" else Path(value).resolve()


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    text: str

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.url).path)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.url).query).items()}


@dataclass
class Recorder:
    """Keeps every answer of the sessions it wraps."""

    answers: list[Answer] = field(default_factory=list)

    def wrap(self, session):
        """``session``, its ``request`` now also recording each answer (returned as is)."""
        send = session.request

        def request(method, url, *args, **kwargs):
            response = send(method, url, *args, **kwargs)
            full = str(getattr(response, "url", "") or url)
            params = kwargs.get("params")
            if params and "?" not in full:
                full = f"{full}?{urlencode(params, doseq=True)}"
            self.answers.append(Answer(full, int(response.status_code), response.text))
            return response

        session.request = request
        return session

    def ok(self) -> list[Answer]:
        return [a for a in self.answers if a.status == 200]


def write_yahoo(answers: list[Answer], root: Path) -> list[Path]:
    """Yahoo's answers in the replay's layout under ``root`` (``tests/fixtures/yahoo``)."""
    charts: dict[str, dict] = {}
    quote_summary: dict[str, dict] = {}
    timeseries: dict[str, dict] = {}
    pages: dict[str, str] = {}
    for answer in answers:
        path, query = answer.path, answer.query
        ticker = path.rsplit("/", 1)[-1]
        if path.startswith("/v8/finance/chart/"):
            if "range" in query or query.get("interval", "1d") != "1d":
                continue  # yfinance's time-zone probe, or another bar size
            document = json.loads(answer.text)
            held = charts.get(ticker)
            if held is None or _stamps(document) > _stamps(held):
                charts[ticker] = document
        elif path.startswith("/v10/finance/quoteSummary/"):
            quote_summary[ticker] = json.loads(answer.text)
        elif "/fundamentals-timeseries/" in path:
            kind = query.get("type", "")
            if "trailingPegRatio" in kind:
                continue
            part = "income" if kind else "shares"
            timeseries.setdefault(ticker, {})[part] = json.loads(answer.text)
        elif path == "/calendar/earnings" and query.get("symbol"):
            pages[query["symbol"]] = answer.text
    written = []
    for ticker, document in charts.items():
        written.append(_write(root / "chart" / f"{ticker}.json", json.dumps(document)))
    for ticker, page in pages.items():
        written.append(_write(root / "earnings" / f"{ticker}.html", page))
    if quote_summary:
        written.append(_merge_json(root / "quote_summary.json", quote_summary))
    if timeseries:
        written.append(_merge_json(root / "timeseries.json", timeseries, deep=True))
    return written


def _stamps(document: dict) -> int:
    result = (document.get("chart") or {}).get("result") or [{}]
    return len(result[0].get("timestamp") or [])


def fred_xml(csv_text: str, series_id: str) -> str:
    """FRED's keyless graph CSV as the XML of its ``series/observations`` (what fredapi
    parses and the local FRED serves); a blank or ``.`` value is written ``.``."""
    frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    day, value = frame.columns[0], series_id if series_id in frame.columns else frame.columns[1]
    today = pd.Timestamp.today().date().isoformat()
    rows = [
        f"  <observation realtime_start={quoteattr(today)} realtime_end={quoteattr(today)} "
        f"date={quoteattr(d)} value={quoteattr(v.strip() or '.')}/>"
        for d, v in zip(frame[day], frame[value], strict=True)
    ]
    first, last = (frame[day].iloc[0], frame[day].iloc[-1]) if len(frame) else ("", "")
    header = (
        f'<observations realtime_start="{today}" realtime_end="{today}" '
        f'observation_start="{first}" observation_end="{last}" units="lin" output_type="1" '
        f'file_type="xml" order_by="observation_date" sort_order="asc" count="{len(rows)}" '
        'offset="0" limit="100000">'
    )
    return "\n".join(['<?xml version="1.0" encoding="utf-8" ?>', header, *rows, "</observations>"])


def write_fred(csv_by_series: dict[str, str], root: Path) -> list[Path]:
    """Each series' graph CSV as ``root/<SERIES>.xml`` (``tests/fixtures/fred``)."""
    return [
        _write(root / f"{s}.xml", fred_xml(text, s) + "\n") for s, text in csv_by_series.items()
    ]


def trimmed_companyfacts(document: dict) -> dict:
    """A companyfacts document kept to the concepts the parser reads, in SEC's layout."""
    from dagster_project.lib.sources.edgar.companyfacts import CONCEPTS

    facts: dict[str, dict] = {}
    for concept in CONCEPTS:
        entry = (document.get("facts") or {}).get(concept.taxonomy, {}).get(concept.name)
        if entry is not None:
            facts.setdefault(concept.taxonomy, {})[concept.name] = entry
    return {**{k: v for k, v in document.items() if k != "facts"}, "facts": facts}


def write_edgar(company_tickers: dict, companyfacts: dict[str, dict], root: Path) -> list[Path]:
    """SEC's answers under ``root`` (``tests/fixtures/edgar``): each CIK's companyfacts
    (trimmed) and the held ticker list with the recorded companies' entries added."""
    written = []
    ciks = set()
    for cik, document in companyfacts.items():
        ciks.add(int(cik))
        body = json.dumps(trimmed_companyfacts(document))
        written.append(_write(root / f"CIK{int(cik):010d}.json", body))
    listing_path = root / "company_tickers.json"
    held = json.loads(listing_path.read_text()) if listing_path.exists() else {}
    entries = {e["ticker"]: e for e in held.values()}
    for entry in company_tickers.values():
        if int(entry["cik_str"]) in ciks:
            entries[entry["ticker"]] = entry
    listing = {str(i): e for i, e in enumerate(entries.values())}
    written.append(_write(listing_path, json.dumps(listing)))
    return written


def _merge_json(path: Path, entries: dict, deep: bool = False) -> Path:
    """``path``'s JSON object with ``entries`` set (per key merged one level when ``deep``)."""
    held = json.loads(path.read_text()) if path.exists() else {}
    for key, value in entries.items():
        held[key] = {**held.get(key, {}), **value} if deep else value
    return _write(path, json.dumps(held, indent=1))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
