"""FRED rates: through fredapi when ``FRED_API_KEY`` is set, else FRED's keyless graph CSV.

Both paths go through one client that paces its requests (FRED allows about 120 a minute
per key), retries throttling and dropped connections, and never lets the API key out:
fredapi puts it in every URL, so any error text is scrubbed before it is re-raised or
logged, and the original exception (whose attributes hold that URL) is not chained.
"""

from __future__ import annotations

import threading
import time
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
from dagster_project.lib.sources.live.retry import (
    RETRYABLE_STATUS,
    Backoff,
    http_status,
    is_network_error,
    retry,
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
    """FRED said too many requests; worth retrying after a pause."""


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
        )

    def _via_api(self, series_id: str, window: Window) -> pd.DataFrame:
        from fredapi import Fred

        fred = Fred(api_key=self.api_key)
        fred.root_url = self.api_root
        self.limiter.wait()
        try:
            series = fred.get_series(series_id, window.start, window.end)
        except ValueError as exc:
            raise self._fredapi_error(series_id, exc) from None
        except SyntaxError as exc:  # an HTTP error whose body was not FRED's error XML
            raise self._http_error(series_id, exc.__context__) from None
        except OSError as exc:  # urllib's URLError and socket errors: the network
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
            return FredThrottled(f"FRED series {series_id}: HTTP {status} from FRED")
        return SourceError(f"FRED series {series_id}: HTTP {status or '?'} from FRED")

    def _via_csv(self, series_id: str, window: Window) -> pd.DataFrame:
        params = {"id": series_id, "cosd": window.start.isoformat(), "coed": window.end.isoformat()}
        self.limiter.wait()
        with self.session_factory() as session:
            response = session.get(self.csv_url, params=params, timeout=TIMEOUT_SECONDS)
        if response.status_code in (400, 404):
            raise SourceError(
                f"FRED series {series_id}: FRED has no such series (HTTP {response.status_code})"
            )
        response.raise_for_status()
        return parse_fred_csv(response.text, series_id, f"FRED graph CSV for {series_id}")


def fetch_rates(client: FredClient, series_ids: Sequence[str], window: Window) -> Batch:
    """Every series in the window; a series that fails is reported, the others load.

    A rejected key stops everything at once (no series can succeed), and so does a load
    where every series failed: that is the network or FRED, not the data.
    """
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
