"""The dbt project as Dagster sees it, and the manifest it needs before loading.

dagster-dbt builds its assets from ``target/manifest.json``. ``dagster dev`` re-parses on
start (``prepare_if_dev``); every other entry point (CLI, tests, ``definitions validate``)
calls ``ensure_manifest`` so a fresh clone never fails on a missing or stale manifest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR, DEFAULT_WAREHOUSE, ENV_WAREHOUSE

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def manifest_is_stale(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when the manifest is missing or older than any dbt source file.

    Comparing modification times is enough here: the manifest only has to follow the
    files in this checkout, and a needless re-parse costs seconds, not correctness.
    """
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for folder in ("models", "seeds", "macros", "tests", "analyses", "snapshots"):
        for path in (project_dir / folder).rglob("*"):
            if path.suffix in _SOURCE_SUFFIXES and path.stat().st_mtime > built:
                return True
    return any(
        (project_dir / name).stat().st_mtime > built
        for name in ("dbt_project.yml", "profiles.yml")
        if (project_dir / name).exists()
    )


def ensure_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing or stale; return the manifest path.

    Parsing goes to a temporary target folder and the manifest is moved into place, so a
    concurrent reader (``dagster dev`` next to the CLI) never sees a half-written file.
    """
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not force and not manifest_is_stale():
        return manifest
    from dbt.cli.main import dbtRunner

    os.environ.setdefault(ENV_WAREHOUSE, str(DEFAULT_WAREHOUSE))
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=manifest.parent, prefix=".parse-") as tmp:
        result = dbtRunner().invoke(
            [
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                tmp,
            ]
        )
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        os.replace(Path(tmp) / "manifest.json", manifest)
        for extra in ("semantic_manifest.json",):
            if (Path(tmp) / extra).exists():
                shutil.move(str(Path(tmp) / extra), manifest.parent / extra)
    return manifest


if __name__ == "__main__":
    print(ensure_manifest(force=True))
