import datetime as dt

import pandas as pd
import pytest

from dagster_project.cli import (
    FLAG_VARIABLES,
    carry_warehouse,
    main,
    rotation_command,
    sample_minimum_tickers,
    warehouse_flag,
)
from dagster_project.lib import settings as cfg
from dagster_project.lib.settings import DEFAULT_WAREHOUSE, DuckDBSettings, Settings, SettingsError
from dagster_project.lib.sources import Window, build_source, default_window, sample_span
from dagster_project.lib.sources.base import as_frame
from dagster_project.lib.sources.sample import extremes
from dagster_project.lib.sources.sample.universe import load_universe, scale_universe


def test_settings_default_to_the_sample_and_the_project_warehouse():
    settings = Settings.from_env({})
    assert settings.source == "sample"
    assert settings.warehouse.name == "warehouse.duckdb"
    assert settings.start is None and settings.sample_seed == 42


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ROTATION_SOURCE": "yahoo"}, "ROTATION_SOURCE='yahoo' is not a source"),
        ({"ROTATION_START": "2024-13-01"}, "ROTATION_START='2024-13-01' is not a date"),
        ({"ROTATION_SAMPLE_TICKERS": "many"}, "ROTATION_SAMPLE_TICKERS='many' is not a whole"),
        ({"ROTATION_SAMPLE_YEARS": "0"}, "ROTATION_SAMPLE_YEARS='0' must be positive"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_sample_span_does_not_move_with_the_loaded_window():
    full = Settings(sample_years=3)
    narrow = Settings(sample_years=3, start=dt.date(2025, 6, 2), end=dt.date(2025, 6, 30))
    assert sample_span(full) == sample_span(narrow)
    assert default_window(narrow).start == dt.date(2025, 6, 2)
    assert default_window(full).start == dt.date(2022, 12, 31)


def test_a_later_end_extends_the_sample_without_moving_its_start():
    # A nightly past the sample's default end (2025-12-31) must continue the same history.
    later = Settings(sample_years=12, start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 2))
    assert sample_span(later).start == sample_span(Settings(sample_years=12)).start
    assert sample_span(later) == Window(dt.date(2013, 12, 31), dt.date(2026, 1, 2))


def test_a_nightly_past_the_default_end_continues_the_sample_history():
    held = build_source(Settings(sample_years=2, sample_tickers=30))
    nightly = build_source(Settings(sample_years=2, sample_tickers=30, end=dt.date(2026, 1, 5)))
    december = Window(dt.date(2025, 12, 1), dt.date(2025, 12, 31))

    def without_lagging_index(frame):
        # ^RUT's series ends 8 sessions before the sample's end (sample/extremes.py): its
        # late sessions arrive once the end moves on, as a lagging index file's would
        lagging = extremes.EARLY_INDEX_END.ticker
        return frame[frame["ticker"] != lagging].reset_index(drop=True)

    pd.testing.assert_frame_equal(
        without_lagging_index(as_frame(held.prices(december))),
        without_lagging_index(as_frame(nightly.prices(december))),
    )


@pytest.fixture
def isolated_env(monkeypatch):
    """The CLI writes its flags into the environment; restore it after each test.

    Set first, then deleted: monkeypatch only restores a variable it has recorded, and
    ``delenv`` of an unset one records nothing, so a flag written by the CLI would leak.
    """
    for name in ("ROTATION_WAREHOUSE", *(env for _, env in FLAG_VARIABLES)):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_sql_without_a_published_copy_says_to_build_first(tmp_path, capsys, isolated_env):
    warehouse = tmp_path / "w.duckdb"
    code = main(["sql", "select 1", "--warehouse", str(warehouse)])
    assert code == 1
    assert f"run `rotation build --warehouse {warehouse}` first" in capsys.readouterr().err


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if a build got as far as setting up Dagster (where a run starts)."""

    def refuse():
        raise AssertionError("a Dagster run was about to start")

    monkeypatch.setattr(cfg, "ensure_dagster_home", refuse)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--source", "nonsense"],
            "rotation: --source 'nonsense' is not a source (sample, live, files:DIR)\n",
        ),
        (["--tickers", "0"], "rotation: --tickers must be positive (got 0)\n"),
        (["--years", "-1"], "rotation: --years must be positive (got -1)\n"),
        (["--start", "2024-13-01"], "rotation: --start '2024-13-01' is not a date"),
        (
            ["--tickers", "20"],
            "rotation: --tickers 20 is too few: the sample always keeps its 29 index proxies, "
            "sector funds and megacaps; use 29 or more\n",
        ),
        (
            ["--start", "2030-01-01"],
            "rotation: --start 2030-01-01 is after the last day of the sample market "
            "(2025-12-31): nothing to load; give --end too to extend it\n",
        ),
        (
            ["--start", "2024-02-01", "--end", "2024-01-31"],
            "rotation: --end 2024-01-31 is before --start 2024-02-01: the window is empty\n",
        ),
    ],
)
def test_bad_build_flags_are_refused_before_a_run_naming_the_flag(
    flags, message, tmp_path, capsys, isolated_env, no_run
):
    warehouse = tmp_path / "w.duckdb"
    assert main(["build", *flags, "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert "ROTATION_" not in err
    assert not warehouse.exists()


def test_a_bad_value_from_the_environment_names_the_variable(
    tmp_path, capsys, isolated_env, no_run, monkeypatch
):
    monkeypatch.setenv("ROTATION_SAMPLE_TICKERS", "20")
    assert main(["build", "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("rotation: ROTATION_SAMPLE_TICKERS=20 is too few")
    monkeypatch.setenv("ROTATION_SOURCE", "nonsense")
    assert main(["build", "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "rotation: ROTATION_SOURCE='nonsense' is not a source" in capsys.readouterr().err


def test_the_live_source_refuses_a_start_after_today(tmp_path, capsys, isolated_env, no_run):
    start = dt.date.today() + dt.timedelta(days=2)
    flags = ["--source", "live", "--start", start.isoformat()]
    assert main(["build", *flags, "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert f"--start {start} is after today" in capsys.readouterr().err


def test_the_sample_minimum_is_the_one_the_universe_enforces():
    minimum = sample_minimum_tickers()
    assert len(scale_universe(load_universe(), minimum)) == minimum
    with pytest.raises(ValueError, match="too few"):
        scale_universe(load_universe(), minimum - 1)


def test_settings_errors_reword_for_the_flag_they_came_from():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"ROTATION_SAMPLE_TICKERS": "0"})
    assert caught.value.variable == "ROTATION_SAMPLE_TICKERS"
    assert str(caught.value) == "ROTATION_SAMPLE_TICKERS='0' must be positive"
    assert caught.value.for_flag("--tickers") == "--tickers must be positive (got 0)"


def test_hints_carry_the_users_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine.duckdb"
    query = '"select 1"'
    assert rotation_command(f"sql {query}", mine) == (
        'uv run rotation sql "select 1" --warehouse mine.duckdb'
    )
    assert rotation_command("claims", DEFAULT_WAREHOUSE) == "uv run rotation claims"
    elsewhere = tmp_path.parent / "my data" / "w.duckdb"
    assert warehouse_flag(elsewhere) == f" --warehouse '{elsewhere}'"
    assert carry_warehouse("run `rotation build` first; or `uv run rotation sql`", mine) == (
        "run `rotation build --warehouse mine.duckdb` first; "
        "or `uv run rotation sql --warehouse mine.duckdb`"
    )
    assert carry_warehouse("run `rotation build` first", DEFAULT_WAREHOUSE) == (
        "run `rotation build` first"
    )


def test_duckdb_settings_default_to_a_bounded_budget_and_read_the_environment(tmp_path):
    default = DuckDBSettings.from_env({})
    assert default.config(tmp_path / "w.duckdb") == {
        "memory_limit": "800MB",
        "temp_directory": str(tmp_path / "w.duckdb.tmp"),
    }
    chosen = DuckDBSettings.from_env(
        {"ROTATION_DUCKDB_MEMORY_LIMIT": "4GB", "ROTATION_DUCKDB_THREADS": "1"}
    )
    assert chosen.config()["memory_limit"] == "4GB" and chosen.config()["threads"] == "1"
    assert chosen.environment()["ROTATION_DUCKDB_MEMORY_LIMIT"] == "4GB"
    with pytest.raises(SettingsError, match="ROTATION_DUCKDB_MEMORY_LIMIT"):
        DuckDBSettings.from_env({"ROTATION_DUCKDB_MEMORY_LIMIT": "lots"})


def test_full_refresh_reaches_the_dbt_step_as_valid_run_config(tmp_path):
    import dagster as dg

    from dagster_project.build import build_run_config
    from dagster_project.definitions import BUILD_JOB_NAME, build_definitions

    assert build_run_config(show_progress=False, full_refresh=False) is None
    config = build_run_config(show_progress=True, full_refresh=True)
    assert config["ops"]["rotation_dbt_models"]["config"] == {"full_refresh": True}
    assert config["loggers"]["console"]["config"]["log_level"] == "CRITICAL"
    job = build_definitions(Settings(warehouse=tmp_path / "w.duckdb")).resolve_job_def(
        BUILD_JOB_NAME
    )
    assert dg.validate_run_config(job, config)  # the op and its config field exist


def test_the_build_command_passes_full_refresh_on(monkeypatch, tmp_path, isolated_env):
    import dagster_project.build as build

    seen = {}

    def fake_run_build(settings, instance, printer=None, full_refresh=False):
        seen["full_refresh"] = full_refresh
        raise SystemExit(0)

    monkeypatch.setattr(build, "run_build", fake_run_build)
    with pytest.raises(SystemExit):
        main(["build", "--full-refresh", "--warehouse", str(tmp_path / "w.duckdb")])
    assert seen == {"full_refresh": True}
