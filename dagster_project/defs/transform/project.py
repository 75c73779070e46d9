"""The dbt project as Dagster sees it, and the manifest it needs before loading.

dagster-dbt builds its assets from ``target/manifest.json``. ``dagster dev`` re-parses on
start (``prepare_if_dev``); every other entry point (CLI, tests, ``definitions validate``)
calls ``ensure_manifest`` so a fresh clone never fails on a missing or stale manifest.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.lib.settings import DBT_PROJECT_DIR, DEFAULT_WAREHOUSE, ENV_WAREHOUSE

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def installed_dbt() -> str:
    """The dbt installed beside this Python, so a run never depends on PATH being set."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


_LAUNCHER = """#!{python}
# Written by dagster_project/defs/transform/project.py (dbt_launcher); do not edit.
# `--version` is answered from the installed package's metadata (milliseconds) instead of
# dbt's CLI (seconds of imports); every other command runs the real dbt.
import os
import sys

if sys.argv[1:] == ["--version"]:
    from importlib.metadata import version

    print("Core:")
    print("  - installed: " + version("dbt-core"))
    sys.exit(0)
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def dbt_launcher(folder: Path = DBT_PROJECT_DIR / "target") -> str:
    """The program the Dagster dbt resource runs: the installed dbt, behind a launcher.

    dagster-dbt runs ``dbt --version`` before every dbt command to pick its code path, and
    dbt's CLI spends about 4 s importing itself to answer, on every build and every run
    launched from the UI. The launcher gives the same answer, the installed dbt-core's
    version, from the package metadata, and hands every other command to the real dbt
    unchanged (``dbt_executable`` is the resource's public setting for which program runs).
    """
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / "dbt-launcher"
    text = _LAUNCHER.format(python=sys.executable, dbt=installed_dbt())
    if not launcher.exists() or launcher.read_text() != text:
        staged = launcher.with_name(f".dbt-launcher.{os.getpid()}.tmp")
        staged.write_text(text)
        staged.chmod(0o755)
        os.replace(staged, launcher)
    return str(launcher)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_launcher())


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


PARSE_ARTIFACTS = ("manifest.json", "partial_parse.msgpack", "semantic_manifest.json")
"""What a parse leaves in ``target/``: the manifest dagster-dbt reads, and the state dbt
(and dagster-dbt, which copies it into each run's target folder) re-parses from."""


def ensure_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing or stale; return the manifest path.

    Parsing runs in a scratch folder seeded with the last ``partial_parse.msgpack`` (so dbt
    re-parses only the files that changed), under a lock so two processes never parse at
    once; the artifacts are then renamed into place one by one, so a concurrent reader
    (``dagster dev`` next to the CLI) never sees a half-written file. The scratch folder
    is always removed, and any left by a killed process is swept up under the lock.
    """
    target = DBT_PROJECT_DIR / "target"
    manifest = target / "manifest.json"
    if not force and not manifest_is_stale():
        return manifest
    os.environ.setdefault(ENV_WAREHOUSE, str(DEFAULT_WAREHOUSE))
    target.mkdir(parents=True, exist_ok=True)
    with _parse_lock(target):
        if not force and not manifest_is_stale():
            return manifest  # another process parsed while we waited
        for leftover in target.glob(".parse-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(dir=target, prefix=".parse-"))
        try:
            _parse_into(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def _parse_into(scratch: Path, target: Path) -> None:
    """``dbt parse`` with ``scratch`` as its target folder, then move its artifacts over."""
    from dbt.cli.main import dbtRunner

    previous = target / "partial_parse.msgpack"
    if previous.exists():
        shutil.copy2(previous, scratch / previous.name)
    result = dbtRunner().invoke(
        [
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(scratch),
            "--log-path",
            str(scratch),
        ]
    )
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    for name in PARSE_ARTIFACTS:
        if (scratch / name).exists():
            os.replace(scratch / name, target / name)


@contextmanager
def _parse_lock(target: Path) -> Iterator[None]:
    """An exclusive lock on ``target/.parse.lock`` (released when the process dies)."""
    with open(target / ".parse.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


KEPT_PARSE_STATES = 8
"""Parse states kept per dbt project (one per warehouse built lately; the oldest go first)."""


def parse_state_path(warehouse: Path) -> Path:
    """Where dbt's parse state for builds into ``warehouse`` is kept between builds.

    dbt throws its whole partial-parse state away when the profile's connection details
    change, and the warehouse path is one of them: with one shared state, every build
    into another warehouse than the last one re-parsed the project from scratch (seconds
    per build). One state per warehouse path keeps each warehouse's builds incremental.
    """
    digest = hashlib.sha1(str(Path(warehouse).resolve()).encode()).hexdigest()[:16]
    return DBT_PROJECT_DIR / "target" / "parse_states" / f"{digest}.msgpack"


def prepare_run_target(warehouse: Path, run_id: str) -> Path:
    """A fresh target folder for one dbt run, seeded with the warehouse's parse state (or
    the project's, from ``ensure_manifest``, for a warehouse never built here)."""
    run_target = DBT_PROJECT_DIR / "target" / f"rotation_dbt_models-{run_id[:8]}"
    shutil.rmtree(run_target, ignore_errors=True)
    run_target.mkdir(parents=True)
    state = parse_state_path(warehouse)
    if not state.exists():
        state = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if state.exists():
        shutil.copy2(state, run_target / "partial_parse.msgpack")
    return run_target


def finish_run_target(run_target: Path, warehouse: Path) -> None:
    """After a successful dbt run: keep its parse state for the warehouse's next build,
    drop its folder (~15 MB of compiled SQL and artifacts); a failed run's folder is kept,
    with its logs."""
    state = run_target / "partial_parse.msgpack"
    if not state.exists():
        return
    kept = parse_state_path(warehouse)
    kept.parent.mkdir(parents=True, exist_ok=True)
    staged = kept.with_suffix(f".{os.getpid()}.tmp")
    shutil.copy2(state, staged)
    os.replace(staged, kept)
    shutil.rmtree(run_target, ignore_errors=True)
    states = sorted(kept.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[KEPT_PARSE_STATES:]:
        old.unlink(missing_ok=True)


if __name__ == "__main__":
    print(ensure_manifest(force=True))
