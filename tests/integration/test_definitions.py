import subprocess
import sys

import dagster as dg

from dagster_project.lib.settings import PROJECT_ROOT


def test_all_definitions_load(dbt_manifest):
    from dagster_project.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"raw/prices", "raw/rates", "raw/fundamentals", "raw/universe"} <= keys
    assert {
        "marts/fct_daily_prices",
        "marts/relative_performance",
        "marts/fed_policy_daily",
    } <= keys
    assert "published/warehouse" in keys
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "raw_prices_expectations",
        "raw_prices_anomalies",
        "raw_rates_expectations",
        "raw_rates_ranges",
        "fed_inputs_present",
    } <= checks


def test_dagster_cli_validates_the_workspace(dbt_manifest):
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
