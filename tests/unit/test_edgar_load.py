"""The ``raw/edgar_facts`` load: fact versions appended through the one writer, per-ticker
failures in its metadata, and a live source without a SEC User-Agent skipped, not failed."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.defs.ingest.loads import raw_edgar_facts
from dagster_project.defs.resources import SourceResource, WarehouseResource
from dagster_project.lib.sources.edgar.client import ENV_SEC_USER_AGENT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"


def load(spec: str, warehouse: Path, **source: int) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_edgar_facts],
        resources={
            "source": SourceResource(spec=spec, **source),
            "warehouse": WarehouseResource(path=str(warehouse)),
        },
    )


def metadata_of(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.asset_materializations_for_node(raw_edgar_facts.op.name)
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}


def held(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0]


def test_a_files_load_appends_new_versions_only_and_lists_stocks_without_a_file(tmp_path):
    root = tmp_path / "data"
    (root / "prices").mkdir(parents=True)
    for ticker in ("AAPL", "MSFT", "SPY"):
        (root / "prices" / f"{ticker}.csv").write_text("Date,Close\n2024-01-02,10\n")
    shutil.copytree(FIXTURES, root / "fundamentals" / "edgar")
    warehouse = tmp_path / "w.duckdb"

    first = metadata_of(load(f"files:{root}", warehouse))
    assert first["rows_loaded"] == 27 and first["rows_replaced"] == 0
    # MSFT is a stock of the universe with no companyfacts file; SPY is a fund, not asked
    assert set(first["failures"]) == {"MSFT"}
    second = metadata_of(load(f"files:{root}", warehouse))
    assert second["rows_loaded"] == 0 and held(warehouse) == 27


def test_a_live_load_without_a_user_agent_is_skipped_with_how_to_enable_it(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_SEC_USER_AGENT, raising=False)
    result = load("live", tmp_path / "w.duckdb")
    assert result.success
    skipped = metadata_of(result)["skipped"]
    assert f"{ENV_SEC_USER_AGENT} is not set" in skipped and "To enable it" in skipped
    assert held(tmp_path / "w.duckdb") == 0


def test_the_sample_loads_companyfacts_shaped_versions_of_its_own_quarters(tmp_path):
    result = load("sample", tmp_path / "w.duckdb", sample_tickers=60, sample_years=1)
    loaded = metadata_of(result)["rows_loaded"]
    assert loaded > 0 and held(tmp_path / "w.duckdb") == loaded
