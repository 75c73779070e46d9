"""A polite live client for SEC EDGAR: ticker -> CIK, and each company's XBRL companyfacts.

SEC's fair-access rules are short and enforced: every request declares who is asking (a
User-Agent with a contact email; without one SEC answers 403) and a client sends at most
10 requests a second in all (beyond that SEC throttles the address for minutes). So this
client refuses to start without ``ROTATION_SEC_USER_AGENT``, paces every request through
one thread-safe limiter, keeps an on-disk HTTP cache (companyfacts change once per filing,
so a nightly build need not fetch a company twice a day), retries throttling and dropped
connections with backoff (waiting at least as long as a ``Retry-After`` asks), and sets a
timeout on every request. A company without XBRL facts (HTTP 404) is a per-ticker
failure, never a crash.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from dagster_project.lib.settings import PROJECT_ROOT
from dagster_project.lib.sources.base import Batch, NotConfigured, SourceError, SourceUnavailable
from dagster_project.lib.sources.edgar.companyfacts import cik10, parse_companyfacts
from dagster_project.lib.sources.edgar.files import (
    TICKER_FACT_COLUMNS,
    parse_company_tickers,
    ticker_by_cik,
)
from dagster_project.lib.sources.live.fred import RateLimiter
from dagster_project.lib.sources.live.retry import (
    RETRYABLE_STATUS,
    Backoff,
    http_status,
    is_network_error,
    retry,
)

ENV_SEC_USER_AGENT = "ROTATION_SEC_USER_AGENT"
"""Who is asking, as SEC requires: a name and a contact email ("Jane Analyst jane@example.com")."""
ENV_EDGAR_CACHE = "ROTATION_EDGAR_CACHE"
"""Folder of the HTTP cache (default ``DEFAULT_CACHE_DIR``)."""
DEFAULT_CACHE_DIR = PROJECT_ROOT / "data" / "cache" / "edgar"

COMPANY_TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
COMPANYFACTS_URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK{cik}.json"

REQUESTS_PER_SECOND = 10
"""SEC's published ceiling for one user across all machines."""
TIMEOUT_SECONDS = (10.0, 120.0)
"""(connect, read): a large filer's companyfacts is tens of megabytes."""
MAX_AGE_SECONDS = 24 * 3600.0
"""How long a cached answer is reused: companyfacts change only when a company files."""
MAX_RETRY_AFTER_SECONDS = 120.0
"""The longest ``Retry-After`` wait this client takes: SEC's penalty for a client over the
limit lasts ten minutes, longer than a nightly build should stall for one ticker."""

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class NoXbrlFacts(SourceError):
    """SEC holds no XBRL companyfacts for the company (HTTP 404): a fund, a shell, or a
    filer that never tagged its statements. A per-ticker failure."""


class EdgarRefused(SourceError):
    """SEC refused the client itself (HTTP 403): no request can succeed, so the load stops."""


def checked_user_agent(value: str | None) -> str:
    """The User-Agent to declare, or a ``SourceError`` saying what SEC requires.

    Why refuse early: SEC answers an undeclared client with 403 and may block its address,
    so a missing contact must stop the build before any request is sent.
    """
    text = (value or "").strip()
    if not EMAIL.search(text):
        shown = f"it is {text!r}" if text else "it is not set"
        raise SourceError(
            f"{ENV_SEC_USER_AGENT} must name you and give a contact email, e.g. "
            f"{ENV_SEC_USER_AGENT}='Jane Analyst jane@example.com' ({shown}). SEC EDGAR's "
            "fair-access policy requires every request to declare a User-Agent with a contact "
            "(and at most 10 requests a second); it refuses requests without one."
        )
    return text


def retry_after_header_seconds(value: str | None, now: float) -> float | None:
    """The wait a ``Retry-After`` header asks for (seconds, or an HTTP date), capped at
    ``MAX_RETRY_AFTER_SECONDS``; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            seconds = email.utils.parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, OverflowError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass
class HttpCache:
    """Response bodies on disk, keyed by URL, with the time each was fetched.

    Each entry is two files named by the URL's SHA-256: ``.body.gz`` (the body, gzipped:
    companyfacts compress ~10x) and ``.meta.json`` (URL and fetch time). Both are written
    to a temporary name and renamed, the metadata last, so a crash mid-write leaves no
    entry that looks complete.
    """

    directory: Path
    clock: Callable[[], float] = time.time

    def paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.directory / f"{key}.body.gz", self.directory / f"{key}.meta.json"

    def get(self, url: str, max_age: float) -> bytes | None:
        """The cached body of ``url`` if fetched within ``max_age`` seconds, else None."""
        body_path, meta_path = self.paths(url)
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("url") != url or not 0 <= self.clock() - meta["fetched_at"] <= max_age:
                return None
            return gzip.decompress(body_path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None

    def put(self, url: str, body: bytes) -> None:
        body_path, meta_path = self.paths(url)
        self.directory.mkdir(parents=True, exist_ok=True)
        fetched_at = self.clock()
        _write_atomically(body_path, gzip.compress(body))
        meta = {
            "url": url,
            "fetched_at": fetched_at,
            "fetched_at_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fetched_at)),
        }
        _write_atomically(meta_path, json.dumps(meta).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a name of this process and thread, then rename: readers never see half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class EdgarClient:
    """Fetches SEC's ticker list and companyfacts, paced, cached and retried.

    ``limiter`` paces real requests only (a cache hit sends nothing); share one limiter
    among clients that run at once, since SEC's limit is per user, not per client.
    ``cache=None`` disables caching.
    """

    user_agent: str
    cache: HttpCache | None = None
    session: requests.Session = field(default_factory=requests.Session)
    limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(per_minute=60 * REQUESTS_PER_SECOND)
    )
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    max_age: float = MAX_AGE_SECONDS
    timeout: tuple[float, float] = TIMEOUT_SECONDS
    company_tickers_url: str = COMPANY_TICKERS_URL
    companyfacts_url: str = COMPANYFACTS_URL

    def __post_init__(self) -> None:
        self.user_agent = checked_user_agent(self.user_agent)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EdgarClient:
        """A client configured from ``ROTATION_SEC_USER_AGENT`` and ``ROTATION_EDGAR_CACHE``;
        raises before any request when the User-Agent is missing or has no contact."""
        env = os.environ if environ is None else environ
        user_agent = checked_user_agent(env.get(ENV_SEC_USER_AGENT))
        if "cache" not in overrides:
            overrides["cache"] = HttpCache(Path(env.get(ENV_EDGAR_CACHE) or DEFAULT_CACHE_DIR))
        return cls(user_agent=user_agent, **overrides)

    def company_tickers(self) -> pd.DataFrame:
        """SEC's ticker list: ``cik, ticker, title`` rows (``files.parse_company_tickers``)."""
        url = self.company_tickers_url
        return parse_company_tickers(self.get_json(url), url)

    def companyfacts(self, cik: int | str) -> dict:
        """One company's companyfacts document, as EDGAR serves it.

        Raises ``NoXbrlFacts`` when SEC has none for the CIK (HTTP 404).
        """
        url = self.companyfacts_url.format(cik=cik10(cik))
        try:
            return self.get_json(url)
        except requests.HTTPError as exc:
            if http_status(exc) == 404:
                raise NoXbrlFacts(
                    f"CIK {cik10(cik)}: SEC has no XBRL financial data for this company "
                    f"(HTTP 404 from {url})"
                ) from None
            raise

    def get_json(self, url: str) -> Any:
        """The JSON at ``url``, from the cache when fresh, else fetched (and cached)."""
        body = self.get(url)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SourceError(f"{url}: SEC answered something that is not JSON ({exc})") from None

    def get(self, url: str) -> bytes:
        """The body at ``url``: a fresh cache entry, or one paced, retried request."""
        if self.cache is not None:
            cached = self.cache.get(url, self.max_age)
            if cached is not None:
                return cached
        response = self._fetch(url)
        if self.cache is not None:
            # A cache that cannot be written (disk full, read-only) only costs a fetch later.
            with contextlib.suppress(OSError):
                self.cache.put(url, response.content)
        return response.content

    def _fetch(self, url: str) -> requests.Response:
        """GET with pacing and retries; a retry waits at least what ``Retry-After`` asked."""
        asked: dict[str, float] = {}

        def attempt() -> requests.Response:
            asked.clear()
            self.limiter.wait()
            response = self.session.get(
                url,
                headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
                timeout=self.timeout,
            )
            if response.status_code in RETRYABLE_STATUS:
                wait = retry_after_header_seconds(
                    response.headers.get("Retry-After"), self.wall_clock()
                )
                if wait is not None:
                    asked["wait"] = wait
            if response.status_code == 403:
                raise EdgarRefused(
                    f"SEC refused {url} (HTTP 403). SEC blocks clients that do not declare a "
                    f"User-Agent with a contact email ({ENV_SEC_USER_AGENT} is "
                    f"{self.user_agent!r}) or that send more than 10 requests a second."
                )
            response.raise_for_status()
            return response

        def pause(delay: float) -> None:
            self.sleep(max(delay, asked.get("wait", 0.0)))

        return retry(attempt, policy=self.policy, is_retryable=is_network_error, sleep=pause)


def fetch_edgar_facts(client: EdgarClient, tickers: Iterable[str]) -> Batch:
    """Every fact version of each ticker (``TICKER_FACT_COLUMNS``); a ticker that fails is
    listed in ``failures`` with its reason, the others load.

    A refused client (403) stops everything at once, and so does a load where no ticker
    got any facts: that is the network or SEC, not the companies.
    """
    wanted = [t.upper() for t in tickers]
    try:
        listing = client.company_tickers()
    except EdgarRefused:
        raise
    except Exception as exc:
        raise SourceUnavailable(
            f"edgar: cannot get SEC's ticker list ({type(exc).__name__}: {exc}). Is the "
            "network up and www.sec.gov reachable?"
        ) from None
    cik_of = {ticker: cik for cik, ticker in ticker_by_cik(listing, wanted).items()}
    listed = dict(zip(listing["ticker"], listing["cik"], strict=True))
    frames, failures = [], {}
    for ticker in wanted:
        cik = cik_of.get(ticker)
        if cik is None:
            failures[ticker] = _unmapped_reason(ticker, listed, cik_of)
            continue
        try:
            facts = parse_companyfacts(client.companyfacts(cik), origin=f"CIK{cik}.json")
        except EdgarRefused:
            raise
        except Exception as exc:
            failures[ticker] = f"{type(exc).__name__}: {exc}"
            continue
        if facts.empty:
            failures[ticker] = f"CIK {cik}: companyfacts hold none of the wanted concepts"
            continue
        frames.append(facts.assign(ticker=ticker))
    if not frames:
        detail = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
        raise SourceUnavailable(f"edgar: no facts at all for {len(wanted)} tickers. {detail}")
    frame = pd.concat(frames, ignore_index=True)[list(TICKER_FACT_COLUMNS)]
    return Batch(frame=frame, failures=failures)


def fetch_edgar_facts_from_env(
    tickers: Iterable[str], environ: Mapping[str, str] | None = None, **overrides: Any
) -> Batch:
    """``fetch_edgar_facts`` with a client from the environment, or ``NotConfigured`` when
    ``ROTATION_SEC_USER_AGENT`` is unset.

    Why skip rather than fail: EDGAR is an addition to a live build, and SEC requires a
    contact we cannot invent; without one the marts fall back to Yahoo's fundamentals and
    say so per figure. A User-Agent that is set but has no email is a mistake and fails.
    """
    env = os.environ if environ is None else environ
    if not (env.get(ENV_SEC_USER_AGENT) or "").strip():
        raise NotConfigured(
            f"edgar: {ENV_SEC_USER_AGENT} is not set, so no SEC EDGAR facts were fetched and "
            "point-in-time GAAP earnings fall back to raw.fundamentals. To enable it, set "
            f"{ENV_SEC_USER_AGENT}='Your Name you@example.com' (SEC requires a contact; "
            f"responses are cached under {ENV_EDGAR_CACHE}, default {DEFAULT_CACHE_DIR})."
        )
    return fetch_edgar_facts(EdgarClient.from_env(env, **overrides), tickers)


def _unmapped_reason(ticker: str, listed: Mapping[str, str], cik_of: Mapping[str, str]) -> str:
    """Why a ticker got no CIK: unknown to SEC, or another class of the same company."""
    cik = listed.get(ticker)
    if cik is None:
        return "not in SEC's company_tickers.json (not an SEC filer under this ticker)"
    sibling = next(t for t, c in cik_of.items() if c == cik)
    return f"same company (CIK {cik}) as {sibling}, whose facts are loaded under {sibling}"
