"""Shared fixtures. Every test is offline: the sample source needs no network."""

from __future__ import annotations

import pytest

from dagster_project.settings import ENV_WAREHOUSE


@pytest.fixture(scope="session")
def dbt_manifest():
    """dagster-dbt builds its assets from the manifest: parse the dbt project once."""
    from dagster_project.dbt_project import ensure_manifest

    return ensure_manifest()


@pytest.fixture
def warehouse_path(tmp_path, monkeypatch):
    """A fresh warehouse file; the env var is restored after the test (dbt reads it)."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv(ENV_WAREHOUSE, str(path))
    return path
