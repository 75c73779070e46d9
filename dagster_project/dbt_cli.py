"""The dbt CLI resource: dagster-dbt's, without the two set-up steps this project never uses.

Before every ``dbt build`` dagster-dbt 0.29 (1) runs ``dbt --version`` in a subprocess to
learn which dbt it drives, and (2) opens a dbt-core adapter in the Dagster process, used
only by ``fetch_row_counts`` / ``fetch_column_metadata``. Here the executable is always
the dbt-core installed beside this Python, and neither fetch is called, yet the two cost
~5 s per build (~3.5 s and ~1.5 s measured on the nightly), a tenth of a nightly's dbt step.
Both are private methods of ``DbtCliResource``; ``tests/unit/test_dbt_cli.py`` fails if
a dagster-dbt upgrade renames them, rather than letting the savings vanish silently.
"""

import importlib.metadata
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version


def dbt_executable() -> str:
    """The dbt installed beside this Python, so a run never depends on PATH being set."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


class RotationDbtCliResource(DbtCliResource):
    """``DbtCliResource`` that knows its dbt version and opens no adapter of its own."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt_executable() is the dbt-core of this environment: its version is the package's
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        # only fetch_row_counts / fetch_column_metadata read it; this project calls neither
        return None
