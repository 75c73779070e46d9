import datetime as dt

import pandas as pd
import pytest

from dagster_project.cli import format_frame, main
from dagster_project.lib.settings import DuckDBSettings, Settings, SettingsError
from dagster_project.lib.sources import Window, build_source, default_window, sample_span
from dagster_project.lib.sources.base import as_frame
from dagster_project.lib.sources.sample import extremes


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


def test_sql_output_prints_dates_as_plain_dates():
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-02"]), "value": [1.5]})
    assert format_frame(frame, "csv") == "day,value\n2024-01-02,1.5"
    assert '"day":"2024-01-02"' in format_frame(frame, "json")
    assert format_frame(frame.iloc[0:0], "table") == "(no rows)"


@pytest.fixture
def isolated_env(monkeypatch):
    """The CLI writes its flags into the environment; restore it after each test.

    Set first, then deleted: monkeypatch only restores a variable it has recorded, and
    ``delenv`` of an unset one records nothing, so a flag written by the CLI would leak.
    """
    for name in ("ROTATION_WAREHOUSE", "ROTATION_SOURCE"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_sql_without_a_published_copy_says_to_build_first(tmp_path, capsys, isolated_env):
    code = main(["sql", "select 1", "--warehouse", str(tmp_path / "w.duckdb")])
    assert code == 1
    assert "run `rotation build` first" in capsys.readouterr().err


def test_a_bad_source_flag_is_a_usage_error(tmp_path, capsys, isolated_env):
    code = main(["build", "--source", "nonsense", "--warehouse", str(tmp_path / "w.duckdb")])
    assert code == 2
    assert "is not a source" in capsys.readouterr().err


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
