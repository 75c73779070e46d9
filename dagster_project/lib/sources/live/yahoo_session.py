"""How the live source talks to Yahoo through yfinance: the session, errors and caches.

``new_session`` is the one place a session is made, so tests replace it with a
``requests.Session`` that replays recorded responses. In production it returns None and
yfinance builds its own (curl_cffi impersonating a browser, which Yahoo tolerates best);
any ``requests.Session`` works too (yfinance accepts both; set ``YF_DISABLE_CURL_CFFI=1``
to make plain ``requests`` its backend everywhere).

Timeouts: yfinance passes one to every request it makes (ours: ``YAHOO_TIMEOUT`` for
prices; its default of 30 seconds for the fundamentals scrapers, the cookie and crumb).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import requests

from dagster_project.lib.sources.base import SourceError
from dagster_project.lib.sources.live.network import YAHOO_HOSTS, probe_hosts, session_head
from dagster_project.lib.sources.live.retry import is_network_error

YAHOO_TIMEOUT = 30
"""Seconds any one Yahoo request may take."""


class EmptyHistory(SourceError):
    """Yahoo answered without a single value for the ticker."""


class UnknownSymbol(SourceError):
    """Yahoo answered HTTP 404 for the ticker: delisted, renamed or misspelled. A second
    try gets the same answer, so it is not retried."""


class PartialAnswer(SourceError):
    """Yahoo answered a ticker with some pieces empty or missing.

    Why an error: an empty income statement or share count is how a throttled or half-
    broken Yahoo answers too, and rows built from the rest would replace the complete
    history a warehouse holds with less. ``missing`` names the pieces.
    """

    def __init__(self, ticker: str, missing: list[str]) -> None:
        self.ticker, self.missing = ticker, tuple(missing)
        super().__init__(f"{ticker}: Yahoo's answer is incomplete: {'; '.join(missing)}")


def worth_retrying(error: BaseException) -> bool:
    """Yahoo's own errors (throttling, "possibly delisted", which a throttled request can
    look like), empty or partial answers and network errors: yes. Anything else is a
    bug: no."""
    from yfinance.exceptions import YFException

    return isinstance(error, YFException | EmptyHistory | PartialAnswer) or is_network_error(error)


def new_session() -> requests.Session | None:
    """The session every Yahoo request of one load goes through (None: yfinance's own)."""
    return None


def check_network(session) -> None:
    """Raise ``NoNetwork`` when no Yahoo host can be reached (DNS, refused), before any
    yfinance call: yfinance would log the failed cookie and crumb fetch and carry on."""
    probe_hosts(YAHOO_HOSTS, session_head(session if session is not None else requests.Session()))


def forget_cached_responses() -> None:
    """Drop yfinance's in-process response cache.

    yfinance memoises GETs whose date range lies in the past (``YfData.cache_get``). A
    long-lived process (``dagster dev``, a test session) would otherwise be served
    yesterday's answer for a history it re-fetches to pick up a new split.
    """
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()


_raising_lock = threading.Lock()
_raising_depth = 0
_raising_saved: object = None


@contextmanager
def raising_errors():
    """Let yfinance raise instead of logging and returning an empty frame.

    yfinance deprecated ``history(raise_errors=True)`` for its process-wide switch
    ``yf.config.debug.hide_exceptions``. The switch is turned off while any caller is
    inside this block and restored when the last one leaves (counted under a lock, so
    threads nest safely); ``yf.download`` catches per-ticker errors itself either way.
    """
    import yfinance as yf

    global _raising_depth, _raising_saved
    with _raising_lock:
        if _raising_depth == 0:
            _raising_saved = yf.config.debug.hide_exceptions
            yf.config.debug.hide_exceptions = False
        _raising_depth += 1
    try:
        yield
    finally:
        with _raising_lock:
            _raising_depth -= 1
            if _raising_depth == 0:
                yf.config.debug.hide_exceptions = _raising_saved
