"""Fail fast when there is no network: probe each host once before any retry loop.

Why: a load with no network (no DNS, a laptop offline, a firewall refusing) would
otherwise retry every ticker and series with backoff, minutes of waiting for an answer
that cannot come, while yfinance logs "Cookie/crumb fetch failed (DNSError), continuing
without crumb" and carries on. A name that does not resolve, or a connection refused,
for every host a load needs is not transient: the load stops with one ``NoNetwork``
naming the cause, within seconds.

Only failures to reach a host count (``retry.connection_failure``). Any answer, even an
HTTP error page, proves the network is there, and so does a timeout or a TLS failure:
those are the host's trouble, which the retries handle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from dagster_project.lib.sources.base import SourceUnavailable
from dagster_project.lib.sources.live.retry import connection_failure

PROBE_TIMEOUT = 8.0
"""Seconds one probe may take: a resolver or a refusal answers in well under that, and
three hosts probed in turn stay within about 30 seconds."""

YAHOO_HOSTS = (
    "https://query1.finance.yahoo.com/",
    "https://query2.finance.yahoo.com/",
    "https://finance.yahoo.com/",
)
"""The hosts yfinance reads: the chart and crumb API, quoteSummary and fundamentals, the
earnings calendar page. (``fc.yahoo.com``, the cookie host, is left out: yfinance works
without it, and ad blockers often hide it from DNS.)"""


class NoNetwork(SourceUnavailable):
    """No host of a source could be reached at all: DNS, refused connections, no route."""


def unreachable_reason(url: str, cause: str) -> str:
    """``could not resolve query1.finance.yahoo.com (DNS)``: the host and how it failed."""
    host = urlsplit(url).netloc or url
    verb = "resolve" if cause == "DNS" else "connect to"
    return f"could not {verb} {host} ({cause})"


def probe_hosts(
    urls: Sequence[str], head: Callable[[str, float], object], timeout: float = PROBE_TIMEOUT
) -> None:
    """Raise ``NoNetwork`` when not one of ``urls`` can be reached; return at the first
    host that answers anything (or fails in a way that is not "unreachable").

    ``head(url, timeout)`` makes one request (a HEAD through the load's own session, so
    its proxies and backend are the ones tested).
    """
    reasons = []
    for url in urls:
        try:
            head(url, timeout)
        except Exception as exc:
            cause = connection_failure(exc)
            if cause is None:
                return
            reasons.append(unreachable_reason(url, cause))
            continue
        return
    raise NoNetwork(
        "no network: "
        + "; ".join(reasons)
        + ". Check the connection (DNS, proxy, firewall) and run again."
    )


def session_head(session) -> Callable[[str, float], object]:
    """``head(url, timeout)`` through a requests- or curl_cffi-style session."""
    return lambda url, timeout: session.head(url, timeout=timeout, allow_redirects=False)
