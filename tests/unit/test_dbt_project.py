"""Builds the dbt project against a tiny hand-made raw dataset and checks mart values.

Everything happens inside ``tmp_path``: the DuckDB warehouse, dbt's target and log
directories, so parallel runs never clash and the repo's ``dbt/`` stays clean. The
expected numbers are computed by hand in the comments next to each assertion.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator

import duckdb
import pytest

from tests.unit.dbt_build import dbt_built_warehouse

D1, D2, D3, D4 = (
    dt.date(2023, 12, 28),
    dt.date(2023, 12, 29),
    dt.date(2024, 1, 2),
    dt.date(2024, 1, 3),
)

# ticker -> [(trade_date, close, dividends, splits)], as traded.
PRICES = {
    # A 1.30 dividend goes ex on D3 against a previous close of 52: factor 1 - 1.3/52 = 0.975.
    "IWM": [
        (D1, 50.0, 0.0, None),
        (D2, 52.0, None, 0.0),
        (D3, 50.7, 1.3, None),
        (D4, 51.0, 0.0, None),
    ],
    # No events (splits 0 / NULL mean none).
    "SPY": [
        (D1, 400.0, 0.0, 0.0),
        (D2, 404.0, 0.0, None),
        (D3, 404.0, 0.0, 0.0),
        (D4, 408.0, 0.0, None),
    ],
    # A 2-for-1 split on D3: the close halves, the total return does not.
    "IWB": [
        (D1, 200.0, 0.0, None),
        (D2, 202.0, 0.0, None),
        (D3, 101.0, 0.0, 2.0),
        (D4, 102.0, 0.0, None),
    ],
}

# Fed target range: 5.25-5.50 until 2024-01-04, 5.50-5.75 from 01-05 (a hike decided
# 01-04), 5.25-5.50 again from 01-08 (a cut decided 01-07). FRED's range series move
# the day after the decision.
RANGES = [
    (dt.date(2024, 1, 1), 5.25, 5.50),
    (dt.date(2024, 1, 5), 5.50, 5.75),
    (dt.date(2024, 1, 8), 5.25, 5.50),
]
RATE_DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(10)]


def _range_on(day: dt.date) -> tuple[float, float]:
    return [(lo, hi) for start, lo, hi in RANGES if start <= day][-1]


def _fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    loaded_at = dt.datetime(2024, 1, 10)
    for ticker, rows in PRICES.items():
        for day, close, dividends, splits in rows:
            con.execute(
                "INSERT INTO raw.prices (ticker, trade_date, close, dividends, splits, source,"
                " loaded_at) VALUES (?, ?, ?, ?, ?, 'test', ?)",
                [ticker, day, close, dividends, splits, loaded_at],
            )
    for ticker, size in [("IWM", "small"), ("SPY", "large"), ("IWB", "large")]:
        con.execute(
            "INSERT INTO raw.universe (ticker, name, kind, size, style, sector,"
            " is_magnificent_7, source, loaded_at) VALUES (?, ?, 'etf', ?, 'blend', NULL,"
            " false, 'test', ?)",
            [ticker, ticker, size, loaded_at],
        )
    rates = []
    for day in RATE_DAYS:
        lower, upper = _range_on(day)
        rates += [("DFEDTARL", day, lower), ("DFEDTARU", day, upper)]
        if day.weekday() < 5:
            rates += [("DFF", day, 5.33), ("DGS2", day, 4.25), ("DGS10", day, 4.0)]
    rates.append(("T10Y2Y", dt.date(2024, 1, 1), -0.2))
    con.executemany(
        "INSERT INTO raw.rates VALUES (?, ?, ?, 'test', ?)",
        [(*row, loaded_at) for row in rates],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    with dbt_built_warehouse(
        tmp_path_factory.mktemp("dbt_project"), _fill_raw, unit_tests=True
    ) as con:
        yield con


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()


def test_models_land_in_plain_schemas(warehouse):
    tables = {
        (schema, name)
        for schema, name in warehouse.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    assert ("marts", "fct_daily_prices") in tables
    assert ("marts", "relative_performance") in tables
    assert ("marts", "fed_policy_daily") in tables
    assert ("staging", "stg_raw__prices") in tables
    assert ("intermediate", "int_prices_adjusted") in tables


def test_total_return_index_after_dividend(warehouse):
    rows = warehouse.execute(
        "SELECT trade_date, adj_close, daily_return, total_return_index"
        " FROM marts.fct_daily_prices WHERE ticker = 'IWM' ORDER BY trade_date"
    ).fetchall()
    # Days before the ex-date are scaled by 0.975: 48.75, 50.7; then 50.7, 51.
    assert [r[1] for r in rows] == pytest.approx([48.75, 50.7, 50.7, 51.0])
    assert rows[0][2] is None
    # The ex-date: the price fell 1.3 but the total return is 50.7 / 50.7 - 1 = 0.
    assert rows[2][2] == pytest.approx(0.0, abs=1e-12)
    # 100 * 51 / 48.75 = 104.6153846...
    assert rows[0][3] == pytest.approx(100.0)
    assert rows[3][3] == pytest.approx(100 * 51 / 48.75, rel=1e-10)


def test_split_is_not_a_loss(warehouse):
    close, adj_close, daily_return = _one(
        warehouse,
        "SELECT close, adj_close, daily_return FROM marts.fct_daily_prices"
        " WHERE ticker = 'IWB' AND trade_date = ?",
        [D3],
    )
    # 202 -> 101 on a 2-for-1 split: adjusted 101 -> 101, a zero return.
    assert close == 101.0
    assert adj_close == pytest.approx(101.0)
    assert daily_return == pytest.approx(0.0, abs=1e-12)
    first_adj = _one(
        warehouse,
        "SELECT adj_close FROM marts.fct_daily_prices WHERE ticker = 'IWB' AND trade_date = ?",
        [D1],
    )[0]
    assert first_adj == pytest.approx(100.0)


def test_relative_performance_ratio(warehouse):
    rows = warehouse.execute(
        "SELECT trade_date, ratio, rel_return_1m, rel_return_ytd, ratio_drawdown"
        " FROM marts.relative_performance WHERE pair = 'IWM/SPY' ORDER BY trade_date"
    ).fetchall()
    assert [r[0] for r in rows] == [D1, D2, D3, D4]
    ratios = [r[1] for r in rows]
    # IWM TRI: 100, 104, 104, 104.615...; SPY TRI: 100, 101, 101, 102.
    expected = [1.0, 104 / 101, 104 / 101, (100 * 51 / 48.75) / 102]
    assert ratios == pytest.approx(expected, rel=1e-10)
    # 21 common days of history do not exist yet.
    assert all(r[2] is None for r in rows)
    # YTD from the last 2023 ratio (D2): None in 2023, then ratio / (104/101) - 1.
    assert rows[0][3] is None and rows[1][3] is None
    assert rows[2][3] == pytest.approx(0.0, abs=1e-12)
    assert rows[3][3] == pytest.approx(expected[3] / expected[1] - 1, rel=1e-9)
    # Drawdown from the D2 peak: 0 up to D3, then ratio_D4 / ratio_D2 - 1 < 0.
    assert [r[4] for r in rows[:3]] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert rows[3][4] == pytest.approx(expected[3] / expected[1] - 1, rel=1e-9)
    # Pairs whose legs have no prices produce no rows.
    pairs = {
        r[0]
        for r in warehouse.execute(
            "SELECT DISTINCT pair FROM marts.relative_performance"
        ).fetchall()
    }
    assert pairs == {"IWM/SPY", "IWM/IWB"}


def test_fed_policy_regime(warehouse):
    rows = {
        r[0]: r[1:]
        for r in warehouse.execute(
            "SELECT calendar_date, target_mid, last_move_date, last_move_bp, regime, slope_2s10s"
            " FROM marts.fed_policy_daily ORDER BY calendar_date"
        ).fetchall()
    }
    assert min(rows) == dt.date(2024, 1, 1) and max(rows) == dt.date(2024, 1, 10)
    assert len(rows) == 10
    # Before the first move in the data the regime is unknown, not "hold".
    assert rows[dt.date(2024, 1, 3)][3] == "unknown"
    # The hike first shows on 01-05, so it was decided on 01-04.
    assert rows[dt.date(2024, 1, 4)][1:4] == (dt.date(2024, 1, 4), 25.0, "tightening")
    assert rows[dt.date(2024, 1, 5)][0] == pytest.approx(5.625)
    # The cut first shows on 01-08: decided 01-07, easing from then on.
    assert rows[dt.date(2024, 1, 7)][1:4] == (dt.date(2024, 1, 7), -25.0, "easing")
    assert rows[dt.date(2024, 1, 10)][3] == "easing"
    # Weekend yields are carried forward: 4.00 - 4.25 = -0.25.
    assert rows[dt.date(2024, 1, 6)][4] == pytest.approx(-0.25)


def test_parsing_keeps_dbt_partial_parse_state_and_leaves_no_scratch_folder(tmp_path):
    from dagster_project.defs.transform.project import (
        ensure_manifest,
        finish_run_target,
        parse_state_path,
        prepare_run_target,
    )
    from dagster_project.lib.settings import DBT_PROJECT_DIR

    target = DBT_PROJECT_DIR / "target"
    (target / ".parse-left-by-a-killed-process").mkdir(parents=True, exist_ok=True)
    manifest = ensure_manifest(force=True)
    assert manifest.exists()
    assert (target / "partial_parse.msgpack").exists()  # the next parse starts from it
    assert not list(target.glob(".parse-*"))

    # A warehouse never built here starts from the project's state; after its run, it
    # keeps its own (dbt re-parses everything when the warehouse path differs).
    warehouse = tmp_path / "w.duckdb"
    run_target = prepare_run_target(warehouse, "0123456789abcdef")
    seeded = run_target / "partial_parse.msgpack"
    assert seeded.read_bytes() == (target / "partial_parse.msgpack").read_bytes()
    seeded.write_bytes(b"state written by a run for w.duckdb")
    finish_run_target(run_target, warehouse)
    assert not run_target.exists()
    assert parse_state_path(warehouse).read_bytes() == b"state written by a run for w.duckdb"
    again = prepare_run_target(warehouse, "fedcba9876543210")
    assert (again / "partial_parse.msgpack").read_bytes() == b"state written by a run for w.duckdb"
    assert parse_state_path(tmp_path / "other.duckdb") != parse_state_path(warehouse)
    shutil.rmtree(again)
    parse_state_path(warehouse).unlink()


def test_the_dbt_launcher_answers_the_version_and_runs_every_other_command(tmp_path, monkeypatch):
    import subprocess
    import sys
    from importlib.metadata import version

    from dagster_project.defs.transform import project

    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(f"#!{sys.executable}\nimport sys\nprint('dbt got', sys.argv[1:])\n")
    fake_dbt.chmod(0o755)
    monkeypatch.setattr(project, "installed_dbt", lambda: str(fake_dbt))
    launcher = project.dbt_launcher(tmp_path / "target")

    answer = subprocess.run([launcher, "--version"], capture_output=True, text=True, check=True)
    assert f"installed: {version('dbt-core')}" in answer.stdout  # what dagster-dbt parses
    forwarded = subprocess.run(
        [launcher, "build", "--select", "fqn:*"], capture_output=True, text=True, check=True
    )
    assert forwarded.stdout.strip() == "dbt got ['build', '--select', 'fqn:*']"
    assert project.dbt_launcher(tmp_path / "target") == launcher  # rewritten only on change
