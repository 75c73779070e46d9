"""Retrying flaky calls: exponential backoff with jitter, and which errors deserve it.

Yahoo answers bursts with HTTP 429 and both Yahoo and FRED drop connections now and
then; waiting longer each time (with a random share of the wait, so parallel clients do
not retry in lockstep) usually gets through. Errors that will not change on a second try
(a bad API key, a series that does not exist) are not retried.
"""

from __future__ import annotations

import random
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently to retry: ``attempts`` calls in all."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry).

        Exponential (base * 2**retry, capped), of which a random half is jitter: the wait
        lies in [cap/2, cap], so it always grows but never in lockstep with other clients.
        """
        cap = min(self.max_delay, self.base_delay * 2**retry)
        return cap / 2 + rng.uniform(0, cap / 2)


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
) -> T:
    """``call()``, retried per ``policy`` while it raises retryable errors.

    The last error is re-raised once the attempts are spent, or at once when it is not
    retryable. ``on_retry(attempt, error, delay)`` is told about each retry (for logs).
    """
    rng = rng or random.Random()
    for attempt in range(policy.attempts):
        try:
            return call()
        except Exception as error:
            if attempt + 1 >= policy.attempts or not is_retryable(error):
                raise
            delay = policy.delay(attempt, rng)
            if on_retry is not None:
                on_retry(attempt + 1, error, delay)
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def http_status(error: BaseException) -> int | None:
    """The HTTP status an error carries (requests or urllib), if any."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is None and isinstance(error, urllib.error.HTTPError):
        status = error.code
    return status


def is_network_error(error: BaseException) -> bool:
    """Connection failures, timeouts, 429 and 5xx: worth another try after a pause."""
    if http_status(error) in RETRYABLE_STATUS:
        return True
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(
        error,
        requests.ConnectionError
        | requests.Timeout
        | urllib.error.URLError
        | ConnectionError
        | TimeoutError,
    )
