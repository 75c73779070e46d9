"""Pytest fixtures that point the live source at the replays: no test touches the network."""

from __future__ import annotations

import pytest

from tests.replay.fred import local_fred
from tests.replay.yahoo import FIXTURES, YahooReplay

TEST_UNIVERSE = FIXTURES / "universe.yaml"


@pytest.fixture(scope="session")
def yfinance_cache(tmp_path_factory):
    """yfinance keeps time-zone and cookie caches on disk (one call moves both): keep them
    in a temp folder."""
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture
def yahoo(monkeypatch, yfinance_cache) -> YahooReplay:
    """Every Yahoo request of the live source answered from ``tests/fixtures/yahoo``."""
    from dagster_project.lib.sources.live import source, yahoo_session
    from dagster_project.lib.sources.live.retry import NO_WAIT

    replay = YahooReplay()
    monkeypatch.setattr(yahoo_session, "new_session", replay.session)
    monkeypatch.setattr(source, "DEFAULT_BACKOFF", NO_WAIT)
    monkeypatch.setattr(source, "UNIVERSE_FILE", TEST_UNIVERSE)
    return replay


@pytest.fixture
def fred_server(monkeypatch):
    """A local FRED on 127.0.0.1 set as fredapi's root and the keyless CSV URL."""
    from dagster_project.lib.sources.live import fred

    with local_fred() as server:
        monkeypatch.setattr(fred, "FRED_API_ROOT", f"{server.root}/fred")
        monkeypatch.setattr(fred, "FRED_GRAPH_CSV", f"{server.root}/graph/fredgraph.csv")
        monkeypatch.setattr(fred, "REQUESTS_PER_MINUTE", 60_000)
        monkeypatch.delenv("FRED_API_KEY", raising=False)
        yield server
