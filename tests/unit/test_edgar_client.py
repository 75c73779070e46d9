"""The live EDGAR client against recorded answers: no test touches the network or the clock.

``EdgarReplay`` is a ``requests`` adapter serving ``tests/fixtures/edgar`` the way SEC
does (``www.sec.gov/files/company_tickers.json``, ``data.sec.gov/api/xbrl/companyfacts/``;
a CIK without a file gets SEC's 404), with scripted failures in front when a test asks.
Time is a ``FakeTime``: waits advance it instead of passing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from dagster_project.lib.sources.base import NotConfigured, SourceError, SourceUnavailable
from dagster_project.lib.sources.edgar.client import (
    ENV_EDGAR_CACHE,
    ENV_SEC_USER_AGENT,
    MAX_RETRY_AFTER_SECONDS,
    EdgarClient,
    EdgarRefused,
    HttpCache,
    NoXbrlFacts,
    checked_user_agent,
    fetch_edgar_facts,
    fetch_edgar_facts_from_env,
    retry_after_header_seconds,
)
from dagster_project.lib.sources.live.fred import RateLimiter
from dagster_project.lib.sources.live.retry import Backoff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"
USER_AGENT = "Jane Analyst jane@example.com"
APPLE_FACTS = "https://data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json"
NO_SUCH_KEY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    "<Message>The specified key does not exist.</Message></Error>"
)


class FakeTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class EdgarReplay(BaseAdapter):
    """Answers EDGAR URLs from the fixtures; ``script[url]`` holds (status, headers) answers
    to give first, one per request."""

    def __init__(self, time: FakeTime, fixtures: Path = FIXTURES) -> None:
        super().__init__()
        self.time, self.fixtures = time, fixtures
        self.script: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        self.requests: list[dict] = []

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", self)
        return session

    def send(self, request, **kwargs):
        self.requests.append(
            {
                "url": request.url,
                "at": self.time.clock(),
                "user_agent": request.headers.get("User-Agent"),
                "timeout": kwargs.get("timeout"),
            }
        )
        if self.script[request.url]:
            status, headers = self.script[request.url].pop(0)
            return self._response(request, status, b"", headers)
        url = urlsplit(request.url)
        if url.hostname == "www.sec.gov" and url.path == "/files/company_tickers.json":
            return self._file(request, self.fixtures / "company_tickers.json")
        if url.hostname == "data.sec.gov" and url.path.startswith("/api/xbrl/companyfacts/"):
            return self._file(request, self.fixtures / url.path.rsplit("/", 1)[-1])
        return self._response(request, 404, NO_SUCH_KEY.encode(), {})

    def close(self) -> None:
        pass

    def _file(self, request, path: Path):
        if not path.exists():
            headers = {"Content-Type": "application/xml"}
            return self._response(request, 404, NO_SUCH_KEY.encode(), headers)
        headers = {"Content-Type": "application/json"}
        return self._response(request, 200, path.read_bytes(), headers)

    def _response(self, request, status: int, body: bytes, headers: dict):
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url
        response.request = request
        response.reason = {200: "OK", 403: "Forbidden", 404: "Not Found"}.get(status, "Error")
        return response


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(start=1_700_000_000.0)


@pytest.fixture
def replay(time) -> EdgarReplay:
    return EdgarReplay(time)


def make_client(replay: EdgarReplay, time: FakeTime, cache_dir: Path | None = None, **kw):
    """A client on the replay whose waits (pacing and retries) all run on fake time."""
    defaults = {
        "session": replay.session(),
        "limiter": RateLimiter(per_minute=600, clock=time.clock, sleep=time.sleep),
        "policy": Backoff(attempts=3, base_delay=1.0, max_delay=1.0),
        "sleep": time.sleep,
        "wall_clock": time.clock,
        "cache": None if cache_dir is None else HttpCache(cache_dir, clock=time.clock),
    }
    return EdgarClient(user_agent=USER_AGENT, **{**defaults, **kw})


# --- declaring who asks ---------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {ENV_SEC_USER_AGENT: ""}, {ENV_SEC_USER_AGENT: "Jane"}])
def test_no_request_is_sent_without_a_user_agent_with_a_contact(environ, replay):
    with pytest.raises(SourceError) as raised:
        EdgarClient.from_env(environ, session=replay.session())
    message = str(raised.value)
    assert ENV_SEC_USER_AGENT in message and "contact email" in message
    assert "SEC" in message and "10 requests a second" in message
    assert replay.requests == []


@pytest.mark.parametrize("environ", [{}, {ENV_SEC_USER_AGENT: "  "}])
def test_without_a_user_agent_a_live_load_skips_edgar_and_says_how_to_enable_it(environ, replay):
    with pytest.raises(NotConfigured) as raised:
        fetch_edgar_facts_from_env(["AAPL"], environ, session=replay.session())
    message = str(raised.value)
    assert f"{ENV_SEC_USER_AGENT} is not set" in message and "To enable it" in message
    assert "fall back to raw.fundamentals" in message
    assert replay.requests == []


def test_with_a_user_agent_a_live_load_fetches_edgar(replay, time):
    batch = fetch_edgar_facts_from_env(
        ["AAPL"],
        {ENV_SEC_USER_AGENT: USER_AGENT},
        session=replay.session(),
        cache=None,
        limiter=RateLimiter(per_minute=600, clock=time.clock, sleep=time.sleep),
    )
    assert set(batch.frame["ticker"]) == {"AAPL"} and not batch.failures


def test_a_library_default_user_agent_is_refused():
    with pytest.raises(SourceError, match=ENV_SEC_USER_AGENT):
        EdgarClient(user_agent="python-requests/2.32.3")
    assert checked_user_agent("  Acme Research admin@acme.com ") == "Acme Research admin@acme.com"


def test_every_request_declares_the_user_agent_and_a_timeout(replay, time, tmp_path):
    client = EdgarClient.from_env(
        {ENV_SEC_USER_AGENT: USER_AGENT, ENV_EDGAR_CACHE: str(tmp_path)},
        session=replay.session(),
        limiter=RateLimiter(per_minute=600, clock=time.clock, sleep=time.sleep),
    )
    assert client.cache is not None and client.cache.directory == tmp_path
    client.company_tickers()
    client.companyfacts(320193)
    assert [r["user_agent"] for r in replay.requests] == [USER_AGENT, USER_AGENT]
    assert all(r["timeout"] is not None for r in replay.requests)


# --- ticker -> CIK -> companyfacts ----------------------------------------------------------


def test_tickers_map_to_ciks_and_companyfacts_come_back_as_edgar_serves_them(replay, time):
    client = make_client(replay, time)
    listing = client.company_tickers()
    assert listing.set_index("ticker").loc["AAPL", "cik"] == "0000320193"
    document = client.companyfacts("320193")
    assert document["entityName"] == "Apple Inc."
    assert replay.requests[-1]["url"] == APPLE_FACTS  # 10-digit, zero-padded CIK


def test_a_company_without_xbrl_facts_is_a_typed_failure(replay, time):
    client = make_client(replay, time)
    with pytest.raises(NoXbrlFacts, match="CIK 0001000045.*HTTP 404"):
        client.companyfacts(1000045)
    assert len(replay.requests) == 1  # a 404 is an answer, not worth a retry


def test_fetch_reports_each_failing_ticker_and_loads_the_others(replay, time):
    batch = fetch_edgar_facts(make_client(replay, time), ["AAPL", "NICK", "ZZZZ", "brk-b"])
    assert set(batch.frame["ticker"]) == {"AAPL"}
    assert batch.frame.columns[0] == "ticker" and len(batch.frame) == 27
    assert set(batch.failures) == {"NICK", "ZZZZ", "BRK-B"}
    assert "no XBRL" in batch.failures["NICK"]
    assert "not in SEC's company_tickers.json" in batch.failures["ZZZZ"]
    assert "HTTP 404" in batch.failures["BRK-B"]  # Berkshire has no file in the fixtures


def test_fetch_names_the_sibling_share_class_that_carries_the_facts(replay, time):
    batch = fetch_edgar_facts(make_client(replay, time), ["AAPL", "BRK-B", "BRK-A"])
    assert batch.failures["BRK-A"].startswith("same company (CIK 0001067983) as BRK-B")


def test_fetch_with_no_facts_at_all_is_an_outage(replay, time):
    with pytest.raises(SourceUnavailable, match="no facts at all"):
        fetch_edgar_facts(make_client(replay, time), ["NICK"])
    replay.script["https://www.sec.gov/files/company_tickers.json"] = [(503, {})] * 3
    with pytest.raises(SourceUnavailable, match="ticker list"):
        fetch_edgar_facts(make_client(replay, time), ["AAPL"])


def test_a_refused_client_stops_the_whole_fetch(replay, time):
    replay.script[APPLE_FACTS] = [(403, {})]
    with pytest.raises(EdgarRefused, match=f"HTTP 403.*{ENV_SEC_USER_AGENT}"):
        fetch_edgar_facts(make_client(replay, time), ["AAPL", "NICK"])


# --- the HTTP cache ---------------------------------------------------------------------------


def test_a_cached_answer_saves_the_second_request_until_it_is_a_day_old(replay, time, tmp_path):
    client = make_client(replay, time, cache_dir=tmp_path)
    first = client.companyfacts(320193)
    assert client.companyfacts(320193) == first
    assert [r["url"] for r in replay.requests] == [APPLE_FACTS]
    time.now += 23 * 3600
    client.companyfacts(320193)
    assert len(replay.requests) == 1
    time.now += 2 * 3600  # now older than a day: fetched again
    client.companyfacts(320193)
    assert len(replay.requests) == 2


def test_the_cache_keeps_body_and_fetch_time_by_url_and_survives_the_client(replay, time, tmp_path):
    make_client(replay, time, cache_dir=tmp_path).companyfacts(320193)
    cache = HttpCache(tmp_path, clock=time.clock)
    body_path, meta_path = cache.paths(APPLE_FACTS)
    meta = json.loads(meta_path.read_text())
    assert meta["url"] == APPLE_FACTS and meta["fetched_at"] == time.now
    assert json.loads(cache.get(APPLE_FACTS, max_age=60))["cik"] == 320193
    body_path.write_bytes(b"damaged")  # a damaged entry is a miss, never an error
    assert cache.get(APPLE_FACTS, max_age=60) is None
    make_client(replay, time, cache_dir=tmp_path).companyfacts(320193)
    assert len(replay.requests) == 2


def test_a_failed_request_is_not_cached(replay, time, tmp_path):
    client = make_client(replay, time, cache_dir=tmp_path)
    with pytest.raises(NoXbrlFacts):
        client.companyfacts(1000045)
    assert list(tmp_path.iterdir()) == []


# --- retries and pacing -----------------------------------------------------------------------


def test_a_503_is_retried_after_a_backoff_then_succeeds(replay, time):
    replay.script[APPLE_FACTS] = [(503, {})]
    client = make_client(replay, time)
    assert client.companyfacts(320193)["cik"] == 320193
    assert len(replay.requests) == 2
    assert len(time.sleeps) == 1 and 0.5 <= time.sleeps[0] <= 1.0  # Backoff's first wait


def test_retries_give_up_after_the_policys_attempts(replay, time):
    replay.script[APPLE_FACTS] = [(503, {})] * 3
    with pytest.raises(requests.HTTPError):
        make_client(replay, time).companyfacts(320193)
    assert len(replay.requests) == 3


def test_retry_after_is_honoured_when_longer_than_the_backoff(replay, time):
    replay.script[APPLE_FACTS] = [(429, {"Retry-After": "7"})]
    client = make_client(replay, time)
    client.companyfacts(320193)
    assert time.sleeps == [7.0]
    assert replay.requests[1]["at"] - replay.requests[0]["at"] >= 7.0


def test_retry_after_as_an_http_date():
    now = dt.datetime(2026, 1, 5, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert retry_after_header_seconds(later, now.timestamp()) == 30.0
    assert retry_after_header_seconds("0", now.timestamp()) == 0.0
    assert retry_after_header_seconds("3600", now.timestamp()) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_header_seconds("soon", now.timestamp()) is None
    assert retry_after_header_seconds(None, now.timestamp()) is None


def test_at_most_ten_requests_a_second(replay, time):
    client = make_client(replay, time)
    for cik in range(1, 12):  # 11 distinct requests (404s: answers all the same)
        with pytest.raises(NoXbrlFacts):
            client.companyfacts(cik)
    times = [r["at"] for r in replay.requests]
    assert len(times) == 11
    # (fake time starts at a Unix timestamp: float sums there are exact to ~1e-6 s)
    assert times[-1] - times[0] >= 1.0 - 1e-6
    assert all(b - a >= 0.1 - 1e-6 for a, b in zip(times, times[1:], strict=False))


def test_one_limiter_paces_requests_from_several_threads(replay, time):
    """The limiter is shared: SEC's ceiling is per user, whatever the threads."""
    import threading

    limiter = RateLimiter(per_minute=600, clock=time.clock, sleep=time.sleep)
    clients = [make_client(replay, time, limiter=limiter) for _ in range(2)]

    def work(client, ciks):
        for cik in ciks:
            with pytest.raises(NoXbrlFacts):
                client.companyfacts(cik)

    threads = [
        threading.Thread(target=work, args=(clients[i], range(10 * i + 1, 10 * i + 6)))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replay.requests) == 10
    # The fake clock moves only in the limiter's sleeps, under its lock: with one shared
    # limiter every request after the first waits exactly its 0.1 s, however the threads
    # interleave (the replay's own request times are read outside the lock, so racy).
    assert time.sleeps == pytest.approx([0.1] * 9)
