"""The benchmark harness, end to end at a small scale, so it cannot rot unnoticed.

The end-to-end tests are marked ``slow`` (a few minutes: two builds). No timing is
asserted (the machine is shared and the scale tiny): only that every figure is there,
that the floor and the peer agree with the project's marts, and that the results files
are written. Offline: the sample source needs no network.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import report, run
from benchmarks.buildlog import parse_build_log
from benchmarks.queries import readme_queries

FIGURES = (
    "full_build",
    "nightly",
    "floor",
    "peer",
    "queries",
    "project_instance",
    "stock_instance",
)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = ["--tickers", "40", "--years", "3", "--repeats", "3", "--out", str(out)]
    argv += ["--scratch", str(out / "scratch"), "--keep", "--instance-sample", "30x1"]
    exit_code = run.main(argv)
    result = json.loads((out / "results" / "40x3y.json").read_text())
    return exit_code, result, out


@pytest.mark.slow
def test_the_harness_measures_all_five_figures(small_run):
    exit_code, result, _ = small_run
    assert exit_code == 0, run.failed(result)
    for name in FIGURES:
        assert name in result["figures"], name
    for name in ("full_build", "nightly", "floor", "peer", "project_instance", "stock_instance"):
        figure = result["figures"][name]
        assert figure["returncode"] == 0, figure["log"]
        assert figure["seconds"] > 0 and figure["peak_rss_bytes"] > 0
    queries = result["figures"]["queries"]
    assert len(queries["queries"]) == len(readme_queries())
    assert queries["p50_ms"] > 0 and queries["p95_ms"] >= queries["p50_ms"]


@pytest.mark.slow
def test_floor_and_peer_agree_with_the_project(small_run):
    _, result, _ = small_run
    agreement = result["agreement"]
    assert agreement["ok"], json.dumps(agreement, indent=1)
    assert agreement["inputs"]["ok"]
    for side in ("floor", "peer"):
        for mart, check in agreement[side].items():
            assert check["rows_actual"] == check["rows_expected"] > 0, (side, mart)
            assert check["values_compared"] > 0, (side, mart)


@pytest.mark.slow
def test_the_nightly_adds_the_last_session(small_run):
    _, result, _ = small_run
    assert result["nightly_day"] == result["scale"]["window"][1]
    nightly = result["figures"]["nightly"]
    assert "--start" in nightly["command"] and result["nightly_day"] in nightly["command"]
    profile = result["figures"]["full_build"]["profile"]
    assert profile["steps_seconds"] and profile["dbt_models_seconds"]


@pytest.mark.slow
def test_results_are_written_with_ratios_and_targets(small_run):
    _, result, out = small_run
    assert set(result["targets"]) == set(report.TARGETS)
    for name in (
        "build_over_floor",
        "peer_over_build",
        "nightly_over_build",
        "stock_over_project_instance",
    ):
        assert result["ratios"][name] > 0
    stock_home = out / "scratch" / "stock_instance"
    assert not (stock_home / "dagster.yaml").exists()  # Dagster's defaults, nothing of ours
    assert (stock_home / "history" / "runs.db").exists()  # where stock SQLite keeps runs
    text = (out / "RESULTS.md").read_text()
    assert report.BEGIN in text and "40 tickers x 3 years" in text


def test_ratios_include_the_history_comparison():
    figures = {
        "full_build": {"seconds": 100.0, "peak_rss_bytes": 10**9, "returncode": 0},
        "nightly": {"seconds": 12.0, "returncode": 0},
        "floor": {"seconds": 40.0, "returncode": 0},
        "peer": {"seconds": 400.0, "returncode": 0},
        "queries": {"queries": [{}], "worst_query_p50_ms": 5.0},
    }
    history = {"years": 12, "nightly": {"seconds": 8.0, "returncode": 0}}
    ratios = report.ratios(figures, history)
    assert ratios["build_over_floor"] == pytest.approx(2.5)
    assert ratios["peer_over_build"] == pytest.approx(4.0)
    assert ratios["nightly_growth_when_history_doubles"] == pytest.approx(0.5)
    met = report.targets(ratios)
    assert met["build_over_floor"]["met"] and met["peer_over_build"]["met"]
    assert not met["nightly_over_build"]["met"]
    assert not met["nightly_growth_when_history_doubles"]["met"]


def test_build_log_parsing(tmp_path):
    stderr, stdout = tmp_path / "b.log", tmp_path / "b.log.out"
    stderr.write_text(
        "[    0.2s] ▶ raw__prices\n[    1.7s] ✔ raw__prices\n"
        "[    1.8s] ▶ rotation_dbt_models\n[   30.0s] ✔ rotation_dbt_models\n"
    )
    stdout.write_text(
        "68 of 280 OK created sql table model marts.fct_daily_prices ..... "
        "[\x1b[32mOK\x1b[0m in 3.25s]\n"
        "70 of 280 PASS not_null_fct_daily_prices_ticker ........ [\x1b[32mPASS\x1b[0m in 0.50s]\n"
        "Finished running 1 seed, 12 table models in 0 hours 0 minutes and 20.00 seconds "
        "(20.00s).\n"
    )
    profile = parse_build_log([stderr, stdout], wall_seconds=40.0)
    assert profile["steps_seconds"] == {"rotation_dbt_models": 28.2, "raw__prices": 1.5}
    assert profile["dbt_models_seconds"] == {"marts.fct_daily_prices": 3.25}
    assert profile["dbt_tests"] == 1 and profile["dbt_seconds"] == 20.0
    assert profile["outside_run_seconds"] == pytest.approx(10.0)


def test_the_peer_drops_the_ticker_days_the_gates_held_out(tmp_path):
    import pandas as pd

    from benchmarks.peer_pandas import without_held_out

    held = tmp_path / "held_out.parquet"
    pd.DataFrame({"ticker": ["IJR"], "trade_date": pd.to_datetime(["2013-11-07"]).date}).to_parquet(
        held
    )
    prices = pd.DataFrame(
        {
            "ticker": pd.Categorical(["IJR", "IJR", "SPY"]),
            "trade_date": pd.to_datetime(["2013-11-06", "2013-11-07", "2013-11-07"]),
            "close": [100.0, 1000.0, 170.0],
        }
    )
    kept = without_held_out(prices, held)
    assert list(zip(kept["ticker"], kept["close"], strict=True)) == [("IJR", 100.0), ("SPY", 170.0)]
