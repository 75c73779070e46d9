"""Retrying flaky calls: exponential backoff with jitter, and which errors deserve it.

Yahoo answers bursts with HTTP 429 and both Yahoo and FRED drop connections now and
then; waiting longer each time (with a random share of the wait, so parallel clients do
not retry in lockstep) usually gets through. Errors that will not change on a second try
(a bad API key, a series that does not exist) are not retried, and neither is a wait a
server asks for that is longer than a load can afford.

Three HTTP stacks raise here, each with its own exception classes: ``requests`` (the
keyless FRED CSV, tests' replay sessions), ``urllib`` (fredapi) and ``curl_cffi`` (the
sessions yfinance makes in production). ``curl_cffi``'s exceptions derive from
``OSError`` but not from ``requests``' or the built-in ``ConnectionError``, so each stack
is classified explicitly.
"""

from __future__ import annotations

import email.utils
import errno
import functools
import random
import socket
import time
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import requests

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUS = frozenset({429, 503})
"""The statuses whose ``Retry-After`` header says when to come back (RFC 9110 10.2.3)."""


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently to retry: ``attempts`` calls in all.

    The defaults wait 29 to 58 seconds in all over four retries: Yahoo's throttling
    usually lifts within a minute, and a shorter budget gives up while it still holds.
    ``max_retry_after`` is the longest ``Retry-After`` worth honouring; a server asking
    for more will not answer within this load, so the error is raised at once.
    """

    attempts: int = 5
    base_delay: float = 4.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry).

        Exponential (base * 2**retry, capped), of which a random half is jitter: the wait
        lies in [cap/2, cap], so it always grows but never in lockstep with other clients.
        """
        cap = min(self.max_delay, self.base_delay * 2**retry)
        return cap / 2 + rng.uniform(0, cap / 2)

    def total_wait(self) -> tuple[float, float]:
        """The least and the most seconds all retries together wait (without Retry-After)."""
        caps = [min(self.max_delay, self.base_delay * 2**n) for n in range(self.attempts - 1)]
        return sum(caps) / 2, float(sum(caps))


NO_WAIT = Backoff(attempts=3, base_delay=0.0, max_delay=0.0)
"""For tests: retry at once."""


def retry(
    call: Callable[[], T],
    *,
    policy: Backoff,
    is_retryable: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    wait_hint: Callable[[BaseException], float | None] | None = None,
) -> T:
    """``call()``, retried per ``policy`` while it raises retryable errors.

    The last error is re-raised once the attempts are spent, or at once when it is not
    retryable. ``on_retry(attempt, error, delay)`` is told about each retry (for logs).
    A server's ``Retry-After`` (read by ``wait_hint``, by default ``retry_after_seconds``)
    lengthens the wait to what it asked for; one beyond ``policy.max_retry_after`` ends
    the retries.
    """
    rng = rng or random.Random()
    wait_hint = wait_hint or retry_after_seconds
    for attempt in range(policy.attempts):
        try:
            return call()
        except Exception as error:
            if attempt + 1 >= policy.attempts or not is_retryable(error):
                raise
            delay = policy.delay(attempt, rng)
            asked = wait_hint(error)
            if asked is not None:
                if asked > policy.max_retry_after:
                    raise
                delay = max(delay, asked)
            if on_retry is not None:
                on_retry(attempt + 1, error, delay)
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def http_status(error: BaseException) -> int | None:
    """The HTTP status an error carries (requests, curl_cffi or urllib), if any."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is None and isinstance(error, urllib.error.HTTPError):
        status = error.code
    return status


def retry_after_seconds(error: BaseException, now: float | None = None) -> float | None:
    """The seconds a 429/503 answer's ``Retry-After`` header asks to wait, if it has one.

    The header is a number of seconds or an HTTP date (RFC 9110); a date in the past
    means "now" (0). ``now`` (Unix seconds) is for tests. Errors without a response, or
    whose status is not 429/503, have no hint.
    """
    if http_status(error) not in RETRY_AFTER_STATUS:
        return None
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None and isinstance(error, urllib.error.HTTPError):
        headers = error.headers
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@functools.cache
def _curl_errors() -> dict[str, tuple[type[BaseException], ...]]:
    """curl_cffi's exception classes by kind (empty when curl_cffi is not installed)."""
    try:
        from curl_cffi.requests import exceptions as curl
    except ImportError:  # pragma: no cover - yfinance installs it
        return {"transient": (), "never": (), "any": ()}
    return {
        "transient": (curl.ConnectionError, curl.Timeout, curl.IncompleteRead),
        "never": (curl.CertificateVerifyError,),
        "any": (curl.RequestException,),
    }


CURL_TRANSIENT_CODES = frozenset({16, 18, 52, 55, 56, 92})
"""curl codes of a dropped exchange: HTTP/2 framing (16, 92), a partial body (18), an
empty reply (52), a failed send or receive (55, 56). curl_cffi maps some of them to its
``HTTPError`` or base class, not to ``ConnectionError``."""


def is_network_error(error: BaseException) -> bool:
    """Connection failures, timeouts, 429 and 5xx: worth another try after a pause."""
    if http_status(error) in RETRYABLE_STATUS:
        return True
    if isinstance(error, urllib.error.HTTPError):
        return False
    curl = _curl_errors()
    if isinstance(error, curl["any"]):
        if isinstance(error, curl["never"]):
            return False
        return isinstance(error, curl["transient"]) or getattr(error, "code", 0) in (
            CURL_TRANSIENT_CODES
        )
    return isinstance(
        error,
        requests.ConnectionError
        | requests.Timeout
        | requests.exceptions.ChunkedEncodingError
        | urllib.error.URLError
        | ConnectionError
        | TimeoutError
        | socket.gaierror,
    )


CURL_NO_ROUTE = {5: "DNS", 6: "DNS", 7: "connection refused"}
"""curl's codes for a host it cannot even reach: could not resolve the proxy (5) or the
host (6), could not connect (7)."""


def connection_failure(error: BaseException) -> str | None:
    """Why no connection could be made at all, or None for any other error.

    "DNS" (the name does not resolve), "connection refused" or "network unreachable":
    failures of the first packet, before any server answered. Searched through the
    chain of causes, since each stack wraps them (requests: ``ConnectionError`` >
    ``MaxRetryError`` > ``NameResolutionError`` > ``socket.gaierror``; urllib:
    ``URLError(reason=gaierror)``; curl_cffi: ``DNSError`` with curl code 6).
    """
    from urllib3.exceptions import NameResolutionError

    curl_any = _curl_errors()["any"]
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror | NameResolutionError):
            return "DNS"
        if curl_any and isinstance(cause, curl_any):
            kind = CURL_NO_ROUTE.get(int(getattr(cause, "code", 0) or 0))
            if kind:
                return kind
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts, ``reason`` and exception args."""
    stack: list[object] = [error]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(item.args)
