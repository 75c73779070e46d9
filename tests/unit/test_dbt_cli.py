"""The dbt CLI resource skips dagster-dbt's version probe and adapter, and still runs dbt."""

import functools
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dbt.version import get_installed_version

from dagster_project.dbt_cli import RotationDbtCliResource, dbt_executable
from dagster_project.dbt_project import dbt_project


def test_the_overridden_methods_still_exist_in_dagster_dbt():
    # if dagster-dbt renames them, the overrides silently stop saving anything
    assert isinstance(DbtCliResource.__dict__["_cli_version"], functools.cached_property)
    assert callable(DbtCliResource.__dict__["_initialize_dbt_core_adapter"])


def test_the_version_is_the_one_the_dbt_executable_reports():
    # the executable is this environment's dbt-core, so its version is the package's (what
    # `dbt --version` prints as installed; that command would also ask PyPI for the latest)
    assert Path(dbt_executable()).parent == Path(sys.executable).parent
    resource = RotationDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    installed = get_installed_version().to_version_string(skip_matcher=True)
    assert str(resource._cli_version) == installed


def test_no_adapter_is_opened():
    resource = RotationDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert resource._initialize_dbt_core_adapter(["build"]) is None
