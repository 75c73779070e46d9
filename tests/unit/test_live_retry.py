"""Which errors the live source retries, how long it waits, and when it stops at once.

Errors are built the way each HTTP stack raises them: ``requests`` (tests' replays, the
keyless FRED CSV), ``urllib`` (fredapi) and ``curl_cffi`` (yfinance's sessions in
production), whose exceptions are neither ``requests``' nor built-in ones.
"""

from __future__ import annotations

import email.message
import errno
import io
import random
import socket
import urllib.error

import pytest
import requests
from curl_cffi.requests import exceptions as curl
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from dagster_project.lib.sources.live.network import NoNetwork, probe_hosts
from dagster_project.lib.sources.live.retry import (
    Backoff,
    connection_failure,
    is_network_error,
    retry,
    retry_after_seconds,
)
from tests.unit.test_live_helpers import Flaky

NOW = 1_727_740_800.0  # 2024-10-01 00:00:00 UTC


def curl_error(cls, code: int, message: str) -> BaseException:
    return cls(f"Failed to perform, curl: ({code}) {message}", code=code)


def requests_http_error(status: int, headers: dict | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return requests.HTTPError(response=response)


def urllib_http_error(status: int, headers: dict | None = None) -> urllib.error.HTTPError:
    message = email.message.Message()
    for key, value in (headers or {}).items():
        message[key] = value
    return urllib.error.HTTPError("https://x/", status, "err", message, io.BytesIO(b""))


def requests_dns_error(host: str = "query1.finance.yahoo.com") -> requests.ConnectionError:
    """What requests raises when a name does not resolve (urllib3 2.x)."""
    resolution = NameResolutionError(host, None, socket.gaierror(-3, "Temporary failure"))
    return requests.ConnectionError(MaxRetryError(None, f"https://{host}/", resolution))


@pytest.mark.parametrize(
    "error",
    [
        curl_error(curl.ConnectionError, 7, "Failed to connect: Connection refused"),
        curl_error(curl.Timeout, 28, "Operation timed out after 30001 milliseconds"),
        curl_error(curl.DNSError, 6, "Could not resolve host: query1.finance.yahoo.com"),
        curl_error(curl.HTTPError, 92, "HTTP/2 stream 1 was not closed cleanly"),
        curl_error(curl.RequestException, 56, "Recv failure: Connection reset by peer"),
        urllib.error.URLError(ConnectionResetError("reset")),
        urllib_http_error(503),
        requests.exceptions.ChunkedEncodingError("broken"),
    ],
    ids=[
        "curl-refused",
        "curl-timeout",
        "curl-dns",
        "curl-http2",
        "curl-recv",
        "urllib",
        "urllib-503",
        "chunked",
    ],
)
def test_dropped_connections_of_every_stack_are_retried(error):
    # Before: curl_cffi's errors derive from neither requests' nor the built-in classes.
    assert is_network_error(error)


@pytest.mark.parametrize(
    "error",
    [
        curl_error(curl.CertificateVerifyError, 60, "SSL certificate problem"),
        curl_error(curl.InvalidURL, 3, "URL using bad/illegal format"),
        urllib_http_error(404),
        ValueError("bad"),
    ],
    ids=["curl-certificate", "curl-bad-url", "urllib-404", "value-error"],
)
def test_what_a_second_try_cannot_change_is_not_retried(error):
    assert not is_network_error(error)


def test_retry_after_in_seconds_or_as_a_date_on_429_and_503():
    assert retry_after_seconds(requests_http_error(429, {"Retry-After": "12"})) == 12.0
    dated = urllib_http_error(503, {"Retry-After": "Tue, 01 Oct 2024 00:00:45 GMT"})
    assert retry_after_seconds(dated, now=NOW) == pytest.approx(45.0)
    past = requests_http_error(503, {"Retry-After": "Mon, 30 Sep 2024 23:00:00 GMT"})
    assert retry_after_seconds(past, now=NOW) == 0.0
    assert retry_after_seconds(requests_http_error(500, {"Retry-After": "12"})) is None
    assert retry_after_seconds(requests_http_error(429)) is None
    assert retry_after_seconds(requests_http_error(429, {"Retry-After": "soon"})) is None
    assert retry_after_seconds(ConnectionError("no response")) is None


def test_retry_waits_as_long_as_retry_after_asks():
    waits: list[float] = []
    call = Flaky([requests_http_error(429, {"Retry-After": "40"})])
    policy = Backoff(attempts=3, base_delay=1.0, max_delay=2.0)
    assert retry(call, policy=policy, is_retryable=is_network_error, sleep=waits.append) == "ok"
    assert waits == [40.0]  # not the 0.5..1 s its backoff alone would wait


def test_retry_after_beyond_what_a_load_can_wait_stops_at_once():
    call = Flaky([requests_http_error(503, {"Retry-After": "3600"})])
    with pytest.raises(requests.HTTPError):
        retry(call, policy=Backoff(), is_retryable=is_network_error, sleep=pytest.fail)
    assert call.calls == 1


def test_the_default_backoff_outlasts_a_minute_of_throttling_with_jitter():
    least, most = Backoff().total_wait()
    assert least >= 25.0 and 50.0 <= most <= 75.0
    waits: list[float] = []
    call = Flaky([requests_http_error(429)] * 4)
    assert (
        retry(
            call,
            policy=Backoff(),
            is_retryable=is_network_error,
            sleep=waits.append,
            rng=random.Random(3),
        )
        == "ok"
    )
    assert least <= sum(waits) <= most and len(set(waits)) == 4


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (requests_dns_error(), "DNS"),
        (curl_error(curl.DNSError, 6, "Could not resolve host: query1.finance.yahoo.com"), "DNS"),
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "DNS"),
        (
            requests.ConnectionError(
                MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))
            ),
            None,  # a message alone is not evidence; the refusal is in the chain below
        ),
        (
            urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "refused")),
            "connection refused",
        ),
        (
            curl_error(curl.ConnectionError, 7, "Failed to connect: Connection refused"),
            "connection refused",
        ),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
        (curl_error(curl.Timeout, 28, "Operation timed out"), None),
        (requests_http_error(503), None),
    ],
    ids=[
        "requests-dns",
        "curl-dns",
        "urllib-dns",
        "requests-message",
        "urllib-refused",
        "curl-refused",
        "unreachable",
        "timeout",
        "http-503",
    ],
)
def test_a_host_that_cannot_be_reached_at_all_is_told_apart(error, cause):
    assert connection_failure(error) == cause


def test_no_host_reachable_is_one_error_naming_each_host_and_cause():
    tried: list[str] = []

    def head(url, timeout):
        tried.append(url)
        raise requests_dns_error(url.split("/")[2])

    with pytest.raises(
        NoNetwork,
        match=r"no network: could not resolve query1\.finance\.yahoo"
        r"\.com \(DNS\); could not resolve query2",
    ):
        probe_hosts(
            ["https://query1.finance.yahoo.com/", "https://query2.finance.yahoo.com/"], head
        )
    assert len(tried) == 2


def test_any_answer_or_a_timeout_means_the_network_is_there():
    def refused_then_answer(url, timeout):
        if "first" in url:
            raise urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
        return "404 page"

    probe_hosts(["http://first/", "http://second/"], refused_then_answer)

    def timeout(url, timeout):
        raise curl_error(curl.Timeout, 28, "Operation timed out")

    probe_hosts(["http://slow/"], timeout)  # slow is the host's trouble: retries handle it
