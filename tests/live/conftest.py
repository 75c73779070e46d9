"""The live canary's fixtures: never in CI, a skip that names the host when offline.

The canary (``pytest -m live``) calls Yahoo, FRED and SEC EDGAR through the project's own
adapters and checks the shapes the parsers rely on, so a change on their side is caught
the day it happens; ``ROTATION_RECORD_FIXTURES`` (``tests/replay/recording.py``) also
rewrites the replay fixtures from the answers. The default run deselects it
(``-m "not live"`` in pyproject's addopts).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
import requests

from dagster_project.lib.sources.live.network import NoNetwork, probe_hosts, session_head
from tests.replay.recording import record_root


@pytest.fixture(scope="session", autouse=True)
def not_in_ci():
    if os.environ.get("CI"):
        pytest.skip("live canary: CI is set, and the canary never runs in CI (no network there)")


def require_hosts(what: str, urls: Sequence[str]) -> None:
    """Skip, naming the hosts and the cause, when none of ``urls`` can be reached (DNS,
    refused): offline is not a change on the provider's side. Seconds, not minutes."""
    with requests.Session() as session:
        try:
            probe_hosts(urls, session_head(session))
        except NoNetwork as exc:
            pytest.skip(f"live canary ({what}) offline: {exc}")


@pytest.fixture(scope="session")
def record_dir():
    """Where to re-record the replay fixtures (None: not recording)."""
    return record_root()
