"""How the live source talks to Yahoo through yfinance: the session, and yfinance's caches.

``new_session`` is the one place a session is made, so tests replace it with a
``requests.Session`` that replays recorded responses. In production it returns None and
yfinance builds its own (curl_cffi impersonating a browser, which Yahoo tolerates best);
any ``requests.Session`` works too (yfinance accepts both; set ``YF_DISABLE_CURL_CFFI=1``
to make plain ``requests`` its backend everywhere).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import requests

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.live.retry import is_network_error


class EmptyHistory(SourceError):
    """Yahoo answered without a single value for the ticker."""


def worth_retrying(error: BaseException) -> bool:
    """Yahoo's own errors (throttling, "possibly delisted", which a throttled request can
    look like), empty answers and network errors: yes. Anything else is a bug: no."""
    from yfinance.exceptions import YFException

    return isinstance(error, YFException | EmptyHistory) or is_network_error(error)


def new_session() -> requests.Session | None:
    """The session every Yahoo request of one load goes through (None: yfinance's own)."""
    return None


def forget_cached_responses() -> None:
    """Drop yfinance's in-process response cache.

    yfinance memoises GETs whose date range lies in the past (``YfData.cache_get``). A
    long-lived process (``dagster dev``, a test session) would otherwise be served
    yesterday's answer for a history it re-fetches to pick up a new split.
    """
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()


@contextmanager
def raising_errors():
    """Let yfinance raise instead of logging and returning an empty frame.

    ``history(raise_errors=True)`` is the per-call switch; yfinance marks it deprecated in
    favour of a process-wide config flag, which would leak into concurrent callers.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
