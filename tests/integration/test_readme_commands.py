"""Every command in the README's shell blocks, run as written, so the README cannot drift.

The build runs on a copy of the shared sample build (same scale, set through the
environment as a user would), so it is the README's second build: it must leave every
table's row count as it was. The queries then run on its published copy. Skipped: the
test command itself (this is it) and anything that needs the network (the live canary
covers those).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from dagster_project.lib.settings import (
    ENV_SAMPLE_TICKERS,
    ENV_SAMPLE_YEARS,
    ENV_WAREHOUSE,
    PROJECT_ROOT,
)
from tests.integration.conftest import SMALL, table_counts

pytestmark = pytest.mark.slow

SHELL_BLOCK = re.compile(r"```(?:bash|sh|shell|console)\n(.*?)```", re.DOTALL)
NOT_HERE = ("uv run pytest", "--source live")
"""The suite itself, and commands that need the network."""


def readme_commands(text: str) -> list[str]:
    """The commands of the README's shell blocks, comments dropped; a quoted argument that
    spans lines (a long SQL query) stays one command."""
    commands = []
    for block in SHELL_BLOCK.findall(text):
        pending = ""
        for line in block.splitlines():
            pending += line + "\n"
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # a quote still open: the command goes on
                continue
            if words:
                commands.append(shlex.join(words))
            pending = ""
    return commands


def argv(command: str) -> list[str]:
    """``uv run rotation ...`` as this interpreter runs it (uv has already synced it)."""
    words = shlex.split(command)
    assert words[:3] == ["uv", "run", "rotation"], f"not a rotation command: {command}"
    return [sys.executable, "-m", "dagster_project.cli", *words[3:]]


def test_readme_commands_are_found():
    commands = readme_commands((PROJECT_ROOT / "README.md").read_text())
    assert "uv run rotation build" in commands
    assert sum(c.startswith("uv run rotation sql") for c in commands) >= 2, commands


def test_every_readme_command_runs(built_sample, sample_copy, tmp_path):
    env = {
        **os.environ,
        ENV_WAREHOUSE: str(sample_copy),
        ENV_SAMPLE_TICKERS: str(SMALL["sample_tickers"]),
        ENV_SAMPLE_YEARS: str(SMALL["sample_years"]),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir()
    commands = readme_commands((PROJECT_ROOT / "README.md").read_text())
    ran = []
    for command in commands:
        if any(skip in command for skip in NOT_HERE):
            continue
        done = subprocess.run(
            argv(command), cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
        if " sql " in f" {command} ":
            assert done.stdout.strip() and "(no rows)" not in done.stdout, command
        ran.append(command)
    assert "uv run rotation build" in ran
    # the README's build on a built warehouse is a second build: it changes no row count
    assert table_counts(sample_copy) == table_counts(built_sample.warehouse)
