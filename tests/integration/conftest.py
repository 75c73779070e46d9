from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.build import BuildOutcome, run_build
from dagster_project.settings import Settings

SMALL = {"sample_tickers": 40, "sample_years": 3}


@pytest.fixture
def build(dbt_manifest, warehouse_path):
    """Run the real build job in-process on a small sample, into a temporary warehouse."""

    def _build(**overrides) -> BuildOutcome:
        settings = Settings(warehouse=warehouse_path, **{**SMALL, **overrides})
        with dg.DagsterInstance.ephemeral() as instance:
            return run_build(settings, instance, show_progress=False)

    return _build
