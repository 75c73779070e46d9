"""The live source fails fast and clearly: no network, a FRED that never answers.

Every "network" here is local or simulated: adapters and fake sessions that raise what
requests and curl_cffi raise when a name does not resolve, and a local port that accepts
connections and never answers. Nothing touches the network.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest
import requests
from curl_cffi.requests import exceptions as curl
from requests.adapters import BaseAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError

from dagster_project.lib.sources.base import SourceUnavailable, Window
from dagster_project.lib.sources.live import LiveSource, fred, yahoo_session
from dagster_project.lib.sources.live.fred import FredClient, RateLimiter, fetch_rates
from dagster_project.lib.sources.live.network import NoNetwork
from dagster_project.lib.sources.live.retry import NO_WAIT
from tests.replay.fred import VALID_KEY, stalled_fred

WINDOW = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))
RATE_WINDOW = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))


def dns_error(url: str) -> requests.ConnectionError:
    host = url.split("/")[2]
    resolution = NameResolutionError(host, None, socket.gaierror(-3, "Temporary failure"))
    return requests.ConnectionError(MaxRetryError(None, url, resolution))


class NoDns(BaseAdapter):
    """Every request fails as with no DNS; ``answer_first`` requests are answered first."""

    def __init__(self, answer_first: int = 0) -> None:
        super().__init__()
        self.answer_first, self.urls = answer_first, []

    def send(self, request, **kwargs):
        self.urls.append(f"{request.method} {request.url}")
        if len(self.urls) <= self.answer_first:
            response = requests.Response()
            response.status_code, response._content, response.url = 404, b"", request.url
            response.request = request
            return response
        raise dns_error(request.url)

    def close(self) -> None:
        pass

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session


class CurlNoDns:
    """A curl_cffi-like session whose every request fails with curl error 6."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def head(self, url, **kwargs):
        self.urls.append(url)
        host = url.split("/")[2]
        raise curl.DNSError(f"Failed to perform, curl: (6) Could not resolve host: {host}", code=6)

    get = head


@pytest.mark.parametrize("load", ["prices", "fundamentals", "valuations"])
def test_no_dns_stops_every_yahoo_load_at_once_naming_the_hosts(yahoo, monkeypatch, load):
    adapter = NoDns()
    monkeypatch.setattr(yahoo_session, "new_session", adapter.session)
    source = LiveSource()
    call = {
        "prices": lambda: source.prices(WINDOW),
        "fundamentals": lambda: source.fundamentals(WINDOW),
        "valuations": lambda: source.valuation_snapshots(dt.date(2024, 10, 1)),
    }[load]
    with pytest.raises(NoNetwork) as raised:
        call()
    message = str(raised.value)
    assert message.startswith("no network: could not resolve query1.finance.yahoo.com (DNS)")
    assert "query2.finance.yahoo.com (DNS)" in message and "finance.yahoo.com (DNS)" in message
    assert isinstance(raised.value, SourceUnavailable)
    # One probe per host, then nothing: no ticker was tried, let alone retried.
    assert [u.split()[0] for u in adapter.urls] == ["HEAD"] * 3


def test_no_dns_through_curl_cffi_stops_the_load_the_same_way(yahoo, monkeypatch):
    session = CurlNoDns()
    monkeypatch.setattr(yahoo_session, "new_session", lambda: session)
    with pytest.raises(NoNetwork, match=r"could not resolve query1\.finance\.yahoo\.com \(DNS\)"):
        LiveSource().prices(WINDOW)
    assert len(session.urls) == 3


@pytest.mark.parametrize("tickers", [["SPY"], ["SPY", "IWM"]], ids=["one", "a-batch"])
def test_a_network_lost_mid_load_stops_it_instead_of_retrying_each_ticker(
    yahoo, monkeypatch, tmp_path, tickers
):
    adapter = NoDns(answer_first=1)  # the first probe answers, then DNS is gone
    monkeypatch.setattr(yahoo_session, "new_session", adapter.session)
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "tickers:\n" + "".join(f'  - {{ticker: "{t}", kind: etf}}\n' for t in tickers)
    )
    with pytest.raises(NoNetwork, match="no network: could not resolve"):
        LiveSource(universe_file=universe).prices(WINDOW)
    # One round of requests (yfinance's cookie attempts, at most a chart per ticker), one
    # probe that answered and one that found no host: no retry, no second round.
    heads = [u for u in adapter.urls if u.startswith("HEAD")]
    assert len(heads) == 4
    assert len([u for u in adapter.urls if "/v8/finance/chart/SPY" in u]) <= 1


def fred_client(root: str, key=None, **kwargs) -> FredClient:
    return FredClient(
        api_key=key,
        api_root=f"{root}/fred",
        csv_url=f"{root}/graph/fredgraph.csv",
        limiter=RateLimiter(60_000),
        policy=NO_WAIT,
        **kwargs,
    )


def test_no_dns_for_fred_stops_the_rates_load_before_any_series(monkeypatch):
    adapter = NoDns()
    monkeypatch.setattr(fred, "timed_fred", lambda *a: pytest.fail("fredapi was called"))
    client = FredClient(api_key=VALID_KEY, session_factory=adapter.session, policy=NO_WAIT)
    with pytest.raises(NoNetwork) as raised:
        fetch_rates(client, ["DFF", "DGS2", "DGS10"], RATE_WINDOW)
    message = str(raised.value)
    assert "no rates at all" in message and "could not resolve api.stlouisfed.org (DNS)" in message
    assert VALID_KEY not in message
    assert len(adapter.urls) == 1 and "api_key" not in adapter.urls[0]


def test_a_refused_connection_to_fred_is_no_network_too():
    client = fred_client("http://127.0.0.1:9")
    with pytest.raises(
        NoNetwork, match=r"could not connect to 127\.0\.0\.1:9 \(connection refused"
    ):
        fetch_rates(client, ["DFF"], RATE_WINDOW)


def finishes(call, within: float = 60.0):
    """``call()`` on a thread: its result or error, or a failure if it is still running
    after ``within`` seconds (a guard against a hang, not a timing assertion)."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    if thread.is_alive():
        pytest.fail("the load hung: a request without a timeout")
    return outcome


@pytest.mark.parametrize("key", [None, VALID_KEY], ids=["keyless-csv", "fredapi"])
def test_a_fred_that_never_answers_fails_with_a_timeout_instead_of_hanging(key):
    with stalled_fred() as root:
        client = fred_client(root, key, timeout=0.2)
        outcome = finishes(lambda: fetch_rates(client, ["DFF"], RATE_WINDOW))
    error = outcome.get("error")
    assert isinstance(error, SourceUnavailable), outcome
    assert "no rates at all" in str(error) and "DFF" in str(error)
    assert "timed out" in str(error).lower() or "timeout" in str(error).lower()
    if key:
        assert "did not answer within 0.2s" in str(error) and key not in str(error)


def test_fredapi_still_has_the_hook_its_timeout_is_added_at():
    from fredapi import Fred

    assert callable(Fred._Fred__fetch_data)  # fredapi 0.5.2's one HTTP read


def test_fred_asking_to_retry_after_n_seconds_is_waited_for(fred_server):
    fred_server.throttle = 1
    waits: list[float] = []
    client = fred_client(fred_server.root, VALID_KEY, sleep=waits.append)
    batch = fetch_rates(client, ["DFF"], RATE_WINDOW)
    assert batch.failures == {} and not batch.frame.empty
    assert waits == [7.0]  # Retry-After: 7, not NO_WAIT's 0
