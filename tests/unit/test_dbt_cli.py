"""The dbt CLI resource skips dagster-dbt's version probe and adapter, and still runs dbt."""

import functools
import re
import subprocess

from dagster_dbt import DbtCliResource

from dagster_project.dbt_cli import RotationDbtCliResource, dbt_executable
from dagster_project.dbt_project import dbt_project


def test_the_overridden_methods_still_exist_in_dagster_dbt():
    # if dagster-dbt renames them, the overrides silently stop saving anything
    assert isinstance(DbtCliResource.__dict__["_cli_version"], functools.cached_property)
    assert callable(DbtCliResource.__dict__["_initialize_dbt_core_adapter"])


def test_the_version_is_the_one_the_dbt_executable_reports():
    resource = RotationDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    output = subprocess.check_output([dbt_executable(), "--version"], text=True)
    reported = re.search(r"(\d+\.\d+\.\d+)", output).group(1)
    assert str(resource._cli_version) == reported


def test_no_adapter_is_opened():
    resource = RotationDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert resource._initialize_dbt_core_adapter(["build"]) is None
