"""The benchmark harness, end to end at a small scale, so it cannot rot unnoticed.

The end-to-end tests are marked ``slow`` (a few minutes: the full build and the nightly).
No timing is asserted (the machine is shared and the scale tiny): only that every figure
is there, that the floor and the peer agree with the project's marts, and that the
results files are written. The instance comparison (three more whole builds) is checked
here for what it runs, under which instance; that a build succeeds on an instance other
than the project's is what the Postgres-instance and in-process integration tests show.
Offline: the sample source needs no network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report, run
from benchmarks.buildlog import parse_build_log
from benchmarks.queries import readme_queries
from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME

FIGURES = ("full_build", "nightly", "floor", "peer", "queries", "claims_cli")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = ["--tickers", "40", "--years", "3", "--repeats", "3", "--out", str(out)]
    argv += ["--scratch", str(out / "scratch"), "--keep", "--no-instances", "--no-edgar"]
    exit_code = run.main(argv)
    result = json.loads((out / "results" / "40x3y.json").read_text())
    return exit_code, result, out


@pytest.mark.slow
def test_the_harness_measures_all_five_figures(small_run):
    exit_code, result, _ = small_run
    assert exit_code == 0, run.failed(result)
    for name in FIGURES:
        assert name in result["figures"], name
    for name in ("full_build", "nightly", "floor", "peer", "claims_cli"):
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
    for name in ("build_over_floor", "peer_over_build", "nightly_over_build"):
        assert result["ratios"][name] > 0
    text = (out / "RESULTS.md").read_text()
    assert report.BEGIN in text and "40 tickers x 3 years" in text


def test_the_instance_comparison_builds_the_default_sample_under_each_instance(
    tmp_path, monkeypatch
):
    """Stock: an empty DAGSTER_HOME (Dagster's defaults); Postgres: our Postgres config with
    the URL in DAGSTER_PG_URL; each the same `rotation build` of the instance sample."""
    calls = {}

    def fake_measured(name, command, scratch, env):
        home = Path(env["DAGSTER_HOME"])
        calls[name] = {
            "command": command,
            "config": (home / "dagster.yaml").read_text()
            if (home / "dagster.yaml").exists()
            else None,
            "pg_url": env.get("DAGSTER_PG_URL"),
        }
        return {"seconds": 1.0, "cpu_seconds": 1.0, "returncode": 0}

    monkeypatch.setattr(run, "measured", fake_measured)
    args = run.argparse.Namespace(instance_sample="30x1", postgres_url="postgresql://u@h/db")
    figures = run.instance_comparison(args, tmp_path)

    assert set(figures) == set(run.INSTANCES)
    stock = calls["sample_build_stock_instance"]
    project = calls["sample_build_project_instance"]
    pg = calls["sample_build_postgres_instance"]
    assert stock["config"] is None  # Dagster's defaults, nothing of ours
    assert project["config"] == (DEFAULT_DAGSTER_HOME / "dagster.yaml").read_text()
    assert pg["config"] == (DEFAULT_DAGSTER_HOME / "postgres" / "dagster.yaml").read_text()
    # the bare URL `.ci/start-postgres` prints, with the driver dagster-postgres installs
    assert pg["pg_url"] == "postgresql+psycopg2://u@h/db" and stock["pg_url"] is None
    for call in calls.values():
        assert call["command"][-4:] == ["--tickers", "30", "--years", "1"]
        assert call["command"][2:4] == ["dagster_project.cli", "build"]
    figures["project_instance"] = {"seconds": 2.0, "returncode": 0}
    ratios = report.ratios(figures, None)
    assert ratios["stock_over_project_instance"] == pytest.approx(0.5)
    assert ratios["postgres_over_project_instance"] == pytest.approx(0.5)


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
    # dbt run by itself (the EDGAR models) prefixes its lines with the time of day
    stdout.write_text(
        "07:46:50  6 of 6 OK created sql table model marts.stock_valuation_daily ..... "
        "[OK in 13.19s]\n07:46:51  Finished running 1 table model in 0 hours 0 minutes and "
        "14.47 seconds (14.47s).\n"
    )
    profile = parse_build_log([stdout])
    assert profile["dbt_models_seconds"] == {"marts.stock_valuation_daily": 13.19}
    assert profile["dbt_seconds"] == 14.47


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


def test_edgar_companyfacts_round_trip_and_load_through_the_one_writer(tmp_path):
    """The sample's fact versions written as EDGAR serves them read back as the same rows
    (files source's reader), clones included, and load into raw.edgar_facts."""
    import duckdb
    import pandas as pd

    from benchmarks import edgar
    from dagster_project.lib.sources.sample.edgar import edgar_facts_frame
    from dagster_project.lib.warehouse.schemas import EDGAR_FACTS

    quarters = pd.DataFrame(
        {
            "ticker": ["AAA"] * 4 + ["BBB"] * 4,
            "period_end": pd.to_datetime(
                ["2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31"] * 2
            ),
            "report_date": pd.to_datetime(
                ["2023-05-01", "2023-08-01", "2023-11-01", "2024-02-15"] * 2
            ),
            "eps": [1.0, 1.1, 1.2, 1.3, -0.5, 0.25, 0.5, 0.75],
            "eps_estimate": float("nan"),
            "shares_outstanding": [1e6] * 4 + [2.5e6] * 4,
        }
    )
    facts = edgar_facts_frame(quarters, ["AAA", "BBB"])
    summary = edgar.write_companyfacts(tmp_path / "edgar", facts, filers=5)
    # two stocks with 8 versions each; filers 3-5 clone them in turn (AAA, BBB, AAA)
    assert (summary["filers"], summary["fact_versions"]) == (5, 5 * 8)
    read = edgar.read_edgar_dir(tmp_path / "edgar")
    assert sorted(read["ticker"].unique()) == ["AAA", "BBB", "F000002", "F000003", "F000004"]
    columns = list(EDGAR_FACTS.payload)
    key = ["cik", "concept", "period_start", "period_end", "accn"]
    own = read[read["ticker"].isin(["AAA", "BBB"])][columns].sort_values(key, ignore_index=True)
    expected = facts[columns].sort_values(key, ignore_index=True)
    for frame in (own, expected):  # no SEC frame: None in one, NaN in the other
        frame["frame"] = frame["frame"].astype(object).where(frame["frame"].notna(), None)
    pd.testing.assert_frame_equal(own, expected, check_dtype=False)

    warehouse = tmp_path / "w.duckdb"
    done = edgar.load(warehouse, tmp_path / "edgar", "sample")
    assert done["rows_inserted"] == done["rows_read"] == summary["fact_versions"]
    assert done["filers"] == 5
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == len(read)


def test_edgar_figures_reach_the_ratios_and_results():
    figures = {
        "edgar_load": {
            "seconds": 3.0,
            "peak_rss_bytes": 5 * 10**8,
            "returncode": 0,
            "output": {"read_seconds": 2.0, "write_seconds": 1.0, "rows_inserted": 9},
        },
        "edgar_models": {
            "seconds": 4.0,
            "peak_rss_bytes": 3 * 10**9,
            "returncode": 0,
            "profile": {"dbt_models_seconds": {"marts.stock_valuation_daily": 2.5}},
        },
        "full_build": {
            "seconds": 60.0,
            "peak_rss_bytes": 10**9,
            "returncode": 0,
            "profile": {
                "steps_seconds": {"raw__edgar_facts": 1.5},
                "dbt_models_seconds": {"intermediate.int_edgar_companies": 0.1},
            },
        },
    }
    ratios = report.ratios(figures, None)
    met = report.targets(ratios)
    assert met["edgar_load_peak_rss_gb"]["met"] and not met["edgar_models_peak_rss_gb"]["met"]
    scale = {"edgar": {"filers": 5, "fact_versions": 9, "bytes": 2**20}}
    line = report.edgar_line({"figures": figures, "scale": scale})
    assert "5 filers, 9 fact versions" in line and "stock_valuation_daily 2.5s" in line
    assert "raw__edgar_facts 1.5s" in line and "int_edgar_companies 0.1s" in line
