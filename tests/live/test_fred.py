"""FRED, live: two series through the project's client, keyed (fredapi) when FRED_API_KEY
is set, else FRED's keyless graph CSV, as ``rotation build --source live`` chooses."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import requests

from dagster_project.lib.sources.base import Window
from dagster_project.lib.sources.live import fred
from dagster_project.lib.sources.live.config import ENV_FRED_API_KEY
from dagster_project.lib.warehouse.schemas import RATES
from tests.live.conftest import require_hosts
from tests.replay.recording import Recorder, write_fred

pytestmark = pytest.mark.live

SERIES = {"DFF": (0.0, 25.0), "DGS10": (0.0, 25.0)}
"""Series -> the range its percent values must lie in."""
RECORD_WINDOW = Window(dt.date(2024, 7, 1), dt.date(2024, 9, 30))
"""The span the replay fixtures cover (tests/fixtures/make_fixtures.py)."""


@pytest.fixture(scope="module")
def client() -> fred.FredClient:
    key = os.environ.get(ENV_FRED_API_KEY) or None
    require_hosts("FRED", [fred.FRED_API_ROOT if key else fred.FRED_GRAPH_CSV])
    return fred.FredClient(api_key=key)


@pytest.mark.parametrize("series_id", SERIES)
def test_recent_observations(client, series_id):
    window = Window(dt.date.today() - dt.timedelta(days=400), dt.date.today())
    frame = client.observations(series_id, window)
    assert list(frame.columns) == list(RATES.payload), client.via
    assert str(frame["obs_date"].dtype).startswith("datetime64")
    assert frame["value"].dtype == "float64" and len(frame) > 200
    assert (frame["series_id"] == series_id).all()
    low, high = SERIES[series_id]
    assert frame["value"].between(low, high).all()
    last = frame["obs_date"].max().date()
    assert (dt.date.today() - last).days <= 10, f"{series_id} via {client.via}: latest {last}"


def test_record_the_replay_fixtures(record_dir):
    """With ROTATION_RECORD_FIXTURES: the keyless CSV of the fixture span, written as the
    XML the local FRED serves (tests/replay/fred.py)."""
    if record_dir is None:
        pytest.skip("not recording (set ROTATION_RECORD_FIXTURES=1 or a folder)")
    require_hosts("FRED", [fred.FRED_GRAPH_CSV])
    recorder = Recorder()
    keyless = fred.FredClient(session_factory=lambda: recorder.wrap(requests.Session()))
    texts = {}
    for series_id in SERIES:
        keyless.observations(series_id, RECORD_WINDOW)
        texts[series_id] = recorder.ok()[-1].text
    written = write_fred(texts, record_dir / "fred")
    assert [p.name for p in written] == [f"{s}.xml" for s in SERIES]
