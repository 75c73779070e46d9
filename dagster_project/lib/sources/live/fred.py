"""FRED rates: through fredapi when ``FRED_API_KEY`` is set, else FRED's keyless graph CSV.

Both paths go through one client that paces its requests (FRED allows about 120 a minute
per key), gives every request a timeout (``TIMEOUT_SECONDS``; fredapi has none, see
``timed_fred``), retries throttling and dropped connections (honouring ``Retry-After``),
stops at once when FRED's host cannot be reached at all (``NoNetwork``), and never lets
the API key out: fredapi puts it in every URL, so any error text is scrubbed before it is
re-raised or logged, and the original exception (whose attributes hold that URL) is not
chained.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import requests

from dagster_project.lib.sources.base import (
    Batch,
    SourceError,
    SourceUnavailable,
    Window,
    empty_frame,
)
from dagster_project.lib.sources.fred_csv import parse_fred_csv
from dagster_project.lib.sources.live.network import (
    PROBE_TIMEOUT,
    NoNetwork,
    probe_hosts,
    session_head,
)
from dagster_project.lib.sources.live.retry import (
    RETRYABLE_STATUS,
    Backoff,
    http_status,
    is_network_error,
    retry,
    retry_after_seconds,
)
from dagster_project.lib.sources.symbols import checked_series
from dagster_project.lib.warehouse.schemas import RATES

FRED_API_ROOT = "https://api.stlouisfed.org/fred"
FRED_GRAPH_CSV = "https://fred.stlouisfed.org/graph/fredgraph.csv"
REQUESTS_PER_MINUTE = 100
TIMEOUT_SECONDS = 30


class FredKeyError(SourceError):
    """FRED refused the API key: no series can load, so the whole load stops."""


class FredThrottled(SourceError):
    """FRED said too many requests; worth retrying after a pause (``retry_after`` seconds
    when FRED said how long)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def fred_wait_hint(error: BaseException) -> float | None:
    """The wait FRED asked for: a ``FredThrottled``'s, else the error's ``Retry-After``."""
    asked = getattr(error, "retry_after", None)
    return asked if isinstance(asked, int | float) else retry_after_seconds(error)


def _load_fred_class():
    from fredapi import Fred

    if not callable(getattr(Fred, "_Fred__fetch_data", None)):  # pragma: no cover
        raise SourceError(
            "fredapi changed: Fred.__fetch_data, where TimedFred adds its timeout, is gone"
        )
    return Fred


def timed_fred(api_key: str, timeout: float):
    """A fredapi ``Fred`` whose every request times out after ``timeout`` seconds.

    fredapi 0.5.2 reads every URL in one private helper, ``Fred.__fetch_data``, with
    ``urlopen(url)`` and no timeout: a FRED that accepts the connection and never
    answers hangs the load for good. The subclass overrides that helper (its mangled
    name, ``_Fred__fetch_data``) with the same code plus the timeout, and keeps the
    status and headers of an HTTP error whose body is not FRED's error XML (a proxy's
    503, a 429 with ``Retry-After``). Why not ``socket.setdefaulttimeout`` around the
    call: it is process-wide, so it would change every other thread's sockets too; why
    not a patched ``fredapi.fred.urlopen``: the same, for every fredapi user.
    """
    Fred = _load_fred_class()

    class TimedFred(Fred):
        def _Fred__fetch_data(self, url):  # noqa: N802 (fredapi's name, mangled)
            url += "&api_key=" + self.api_key
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    return ET.fromstring(response.read())
            except urllib.error.HTTPError as exc:
                try:
                    root = ET.fromstring(exc.read())
                except ET.ParseError:
                    raise exc from None
                if exc.code in RETRYABLE_STATUS:
                    raise exc from None
                raise ValueError(root.get("message")) from None

    return TimedFred(api_key=api_key)


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked (no-op without a secret)."""
    return text.replace(secret, "***") if secret else text


class RateLimiter:
    """Spaces calls at least ``60 / per_minute`` seconds apart, across threads.

    Why client-side: FRED answers a burst with 429s; pacing is cheaper than retrying.
    """

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass
class FredClient:
    """Fetches one series' observations in a window, by key (fredapi) or keyless (CSV)."""

    api_key: str | None = field(default=None, repr=False)
    api_root: str = FRED_API_ROOT
    csv_url: str = FRED_GRAPH_CSV
    session_factory: Callable[[], requests.Session] = requests.Session
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(REQUESTS_PER_MINUTE))
    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    timeout: float | None = None
    """Seconds one request may take (None: ``TIMEOUT_SECONDS``, read at each call)."""

    @property
    def via(self) -> str:
        return "fredapi (FRED_API_KEY)" if self.api_key else "FRED's keyless graph CSV"

    def observations(self, series_id: str, window: Window) -> pd.DataFrame:
        """Payload rows of ``raw.rates`` for one series; missing observations are skipped."""
        series_id = checked_series(series_id)
        fetch = self._via_api if self.api_key else self._via_csv
        return retry(
            lambda: fetch(series_id, window),
            policy=self.policy,
            is_retryable=lambda e: isinstance(e, FredThrottled) or is_network_error(e),
            sleep=self.sleep,
            wait_hint=fred_wait_hint,
        )

    def request_timeout(self) -> float:
        """Seconds one request may take."""
        return self.timeout if self.timeout is not None else TIMEOUT_SECONDS

    def check_network(self) -> None:
        """Raise ``NoNetwork`` when FRED's host cannot be reached at all (DNS, refused):
        one probe, without the key, instead of every series' retries."""
        url = self.api_root if self.api_key else self.csv_url
        with self.session_factory() as session:
            probe_hosts([url], session_head(session), min(PROBE_TIMEOUT, self.request_timeout()))

    def _via_api(self, series_id: str, window: Window) -> pd.DataFrame:
        timeout = self.request_timeout()
        fred = timed_fred(self.api_key, timeout)
        fred.root_url = self.api_root
        self.limiter.wait()
        try:
            series = fred.get_series(series_id, window.start, window.end)
        except ValueError as exc:
            raise self._fredapi_error(series_id, exc) from None
        except urllib.error.HTTPError as exc:  # an error page that was not FRED's error XML
            raise self._http_error(series_id, exc) from None
        except SyntaxError:  # an answer that was not XML at all
            raise SourceError(f"FRED series {series_id}: FRED's answer is not XML") from None
        except OSError as exc:  # urllib's URLError and socket errors: the network
            if _timed_out(exc):
                raise TimeoutError(
                    f"FRED series {series_id}: FRED did not answer within {timeout:g}s (timeout)"
                ) from None
            raise ConnectionError(
                f"FRED series {series_id}: cannot reach FRED ({scrub(str(exc), self.api_key)})"
            ) from None
        frame = pd.DataFrame(
            {
                "series_id": series_id,
                "obs_date": pd.to_datetime(series.index).normalize(),
                "value": series.to_numpy(dtype=float),
            }
        )
        return frame[frame["value"].notna()].reset_index(drop=True)[list(RATES.payload)]

    def _fredapi_error(self, series_id: str, exc: ValueError) -> SourceError:
        """fredapi raises ValueError(FRED's message): say which kind of problem it is."""
        message = scrub(str(exc), self.api_key)
        lowered = message.lower()
        if "api_key" in lowered or "api key" in lowered:
            return FredKeyError(
                f"FRED rejected the API key in FRED_API_KEY ({message}). Check the key, or "
                "unset FRED_API_KEY to use FRED's keyless download."
            )
        if "too many requests" in lowered or "rate limit" in lowered:
            return FredThrottled(f"FRED series {series_id}: {message}")
        return SourceError(f"FRED series {series_id}: {message}")

    def _http_error(self, series_id: str, error: BaseException | None) -> SourceError:
        """FRED answered an error page fredapi could not parse: classify it by status."""
        status = http_status(error) if error is not None else None
        if status in RETRYABLE_STATUS:
            return FredThrottled(
                f"FRED series {series_id}: HTTP {status} from FRED",
                retry_after=retry_after_seconds(error) if error is not None else None,
            )
        return SourceError(f"FRED series {series_id}: HTTP {status or '?'} from FRED")

    def _via_csv(self, series_id: str, window: Window) -> pd.DataFrame:
        params = {"id": series_id, "cosd": window.start.isoformat(), "coed": window.end.isoformat()}
        self.limiter.wait()
        with self.session_factory() as session:
            response = session.get(self.csv_url, params=params, timeout=self.request_timeout())
        if response.status_code in (400, 404):
            raise SourceError(
                f"FRED series {series_id}: FRED has no such series (HTTP {response.status_code})"
            )
        response.raise_for_status()
        return parse_fred_csv(response.text, series_id, f"FRED graph CSV for {series_id}")


def _timed_out(error: BaseException) -> bool:
    """A socket timeout, bare (a read) or inside urllib's ``URLError`` (a connect)."""
    reason = getattr(error, "reason", None)
    return isinstance(error, TimeoutError) or isinstance(reason, TimeoutError)


def fetch_rates(client: FredClient, series_ids: Sequence[str], window: Window) -> Batch:
    """Every series in the window; a series that fails is reported, the others load.

    A rejected key stops everything at once (no series can succeed), and so does a FRED
    that cannot be reached at all (checked once, first) and a load where every series
    failed: that is the network or FRED, not the data.
    """
    try:
        client.check_network()
    except NoNetwork as exc:
        raise NoNetwork(
            f"live: no rates at all from {client.via} for {window.start}..{window.end}: "
            f"{exc} Is the network up (FRED reachable)? (FRED_API_KEY is not the cause.)"
        ) from None
    frames, failures = [], {}
    for series_id in series_ids:
        try:
            frames.append(client.observations(series_id, window))
        except FredKeyError:
            raise
        except Exception as exc:
            failures[series_id] = scrub(f"{type(exc).__name__}: {exc}", client.api_key)
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(RATES)
    if frame.empty:
        detail = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
        raise SourceUnavailable(
            f"live: no rates at all from {client.via} for {window.start}..{window.end}. "
            f"Is the network up (FRED reachable) and, if set, FRED_API_KEY valid? {detail}"
        )
    return Batch(frame=frame, failures=failures)
