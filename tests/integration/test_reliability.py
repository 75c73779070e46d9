"""Reliability: crashes, concurrent readers, network faults, broken or locked files, hygiene.

Every case is offline and deterministic: child processes say through files when they are
where the test needs them, retries run on a fast clock, no assertion is about time.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.build import run_build
from dagster_project.cli import main
from dagster_project.defs.ingest.loads import raw_rates
from dagster_project.defs.resources import SourceResource, WarehouseResource
from dagster_project.lib.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT, Settings
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import PRICES, RATES
from tests.integration.reliability_children import (
    LOADED_AT,
    price_frame,
    rate_frame,
    wait_for,
    window_of,
)
from tests.replay.fred import VALID_KEY, stalled_fred

CHILD = [sys.executable, "-m", "tests.integration.reliability_children"]
CHILD_LIMIT_SECONDS = 300
"""A guard against a hung child, never a timing assertion."""


def child(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [*CHILD, *map(str, args)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=CHILD_LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def state(path: Path) -> dict:
    """Everything a reader could tell about the raw prices: count, keys, checksum."""
    with wh.connect(path, read_only=True) as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT (ticker, trade_date)), sum(close), "
            "min(trade_date), max(trade_date), max(loaded_at) FROM raw.prices"
        ).fetchall()[0]
    return dict(zip(["rows", "keys", "close_sum", "first", "last", "loaded_at"], row, strict=True))


# --- a. a crash mid-load leaves the previous state ---------------------------------------


def test_a_load_killed_before_its_commit_leaves_the_previous_state(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    tickers, days = 300, 1000  # 300,000 rows: DuckDB writes them to the file before commit
    previous = price_frame(tickers, days, close=1.0)
    with wh.connect(warehouse) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(con, PRICES, previous, "sample", None, LOADED_AT)
    before = state(warehouse)
    assert before["rows"] == before["keys"] == tickers * days

    ready = tmp_path / "about-to-commit"
    loader = child("crash", warehouse, ready, tickers, days)
    try:
        wait_for(ready)
        loader.send_signal(signal.SIGKILL)
    finally:
        code, err = finish(loader)
    assert code == -signal.SIGKILL, err

    assert state(warehouse) == before  # opens, and holds exactly the previous state
    frame = price_frame(tickers, days, close=2.0)
    with wh.connect(warehouse) as con:
        wh.replace_window(con, PRICES, frame, "sample", window_of(frame, "trade_date"), LOADED_AT)
    after = state(warehouse)
    assert after["rows"] == after["keys"] == tickers * days  # no duplicates
    assert after["close_sum"] == 2.0 * tickers * days


def test_a_publish_killed_before_its_swap_leaves_the_previous_copy(tmp_path):
    warehouse, tickers, days = tmp_path / "warehouse.duckdb", 20, 100
    published = wh.published_path(warehouse)
    with wh.connect(warehouse) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(
            con, PRICES, price_frame(tickers, days, close=1.0), "sample", None, LOADED_AT
        )
    wh.publish(warehouse, published)
    before = state(published)

    ready = tmp_path / "about-to-swap"
    publisher = child("crash-publish", warehouse, ready, tickers, days)
    try:
        wait_for(ready)
        publisher.send_signal(signal.SIGKILL)
    finally:
        code, err = finish(publisher)
    assert code == -signal.SIGKILL, err

    assert state(published) == before  # readers still get the last complete copy
    assert state(warehouse)["close_sum"] == 3.0 * tickers * days  # the load had committed
    wh.publish(warehouse, published)
    assert state(published) == state(warehouse)
    assert [p.name for p in published.parent.iterdir()] == [published.name]  # no leftovers


# --- b. readers of the published copy never see a mix ------------------------------------


def test_readers_of_the_published_copy_see_whole_snapshots_while_a_build_writes(tmp_path):
    warehouse, tickers, generations = tmp_path / "warehouse.duckdb", 50, 4
    with wh.connect(warehouse) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(con, PRICES, price_frame(tickers, 250, 0.0), "sample", None, LOADED_AT)
        wh.replace_window(con, RATES, rate_frame(250, 0.0), "sample", None, LOADED_AT)
    wh.publish(warehouse, wh.published_path(warehouse))

    reader = child("read", warehouse, tmp_path)
    writer = child("publish", warehouse, tmp_path, generations, tickers)
    writer_code, writer_err = finish(writer)
    reader_code, reader_err = finish(reader)
    assert writer_code == 0, writer_err
    assert reader_code == 0, reader_err

    reads = json.loads((tmp_path / "reads.json").read_text())
    assert [r for r in reads if "error" in r] == []
    seen = set()
    for read in reads:
        prices, low, high, rates, rate_low, rate_high = read["row"]
        # One generation throughout: every price and every rate of the same load.
        assert (prices, rates) == (tickers * 250, 250)
        assert low == high == rate_low == rate_high
        seen.add(int(low))
    assert seen == set(range(generations + 1))


# --- c. network faults: retried, reported, nothing half-written --------------------------


class FastClock:
    """Dagster's step-retry clock, advanced by every sleep instead of waiting it out."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def black_hole():
    """A local port that accepts connections and never answers: every read times out."""
    with stalled_fred() as url:
        yield url


def raw_tables(path: Path) -> dict[str, list]:
    with wh.connect(path, read_only=True) as con:
        return {
            table: con.execute(f"SELECT * FROM raw.{table} ORDER BY ALL").fetchall()
            for table in ("prices", "rates", "fundamentals", "valuation_snapshots")
        }


def test_yahoo_throttling_and_fred_timeouts_fail_the_run_cleanly(
    dbt_manifest, warehouse_path, yahoo, black_hole, tmp_path, monkeypatch, capfd
):
    from dagster._core.execution.plan import active

    from dagster_project.lib.sources.live import fred, source

    monkeypatch.setattr(active, "time", FastClock())
    series = tmp_path / "fred_series.yaml"
    series.write_text("series:\n  - id: DFF\n  - id: DGS2\n")
    monkeypatch.setattr(source, "FRED_SERIES_FILE", series)
    monkeypatch.setattr(fred, "FRED_GRAPH_CSV", f"{black_hole}/graph/fredgraph.csv")
    # the black hole never answers: any timeout times out, and each attempt waits for one
    monkeypatch.setattr(fred, "TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(fred, "REQUESTS_PER_MINUTE", 60_000)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    with wh.connect(warehouse_path) as con:  # what earlier nights loaded
        wh.ensure_raw_schema(con)
        spy = price_frame(1, 20, 500.0, start="2024-06-03").assign(ticker="SPY")
        wh.replace_window(con, PRICES, spy, "live", None, LOADED_AT)
        wh.replace_window(con, RATES, rate_frame(20, 5.33, "2024-06-03"), "live", None, LOADED_AT)
    before = raw_tables(warehouse_path)
    yahoo.outage = True

    settings = Settings(source="live", warehouse=warehouse_path)
    with dg.DagsterInstance.ephemeral() as instance:
        outcome = run_build(settings, instance)
        events = instance.all_logs(outcome.run_id)
    progress = capfd.readouterr().err

    assert not outcome.ok
    report = outcome.failure_report()
    lines = {line.split(":")[0].strip(): line for line in report.splitlines()}
    assert "SourceUnavailable: live: Yahoo returned no prices" in lines["step raw__prices"]
    assert "SourceUnavailable: live: no rates at all" in lines["step raw__rates"]
    assert lines["step raw__prices"].endswith("[Exceeded max_retries of 3]")
    assert "Timeout" in lines["step raw__rates"] and "Is the network up" in report
    restarts = [
        e.step_key for e in events if e.dagster_event_type == dg.DagsterEventType.STEP_RESTARTED
    ]
    assert restarts.count("raw__prices") == 3 and restarts.count("raw__rates") == 3
    assert progress.count("↻ raw__prices will retry in") == 3
    spy_charts = [url for url in yahoo.requests if "/v8/finance/chart/SPY" in url]
    assert len(spy_charts) > 4  # each of the four attempts retried the request itself
    assert not any(key.startswith("marts/") for key in outcome.materialized)
    assert raw_tables(warehouse_path) == before  # nothing half-written


# --- d. a corrupt or locked warehouse: a clear error from the CLI, no traceback ----------

CLI_ENV = (
    "ROTATION_WAREHOUSE",
    "ROTATION_SOURCE",
    "ROTATION_START",
    "ROTATION_END",
    "ROTATION_SAMPLE_TICKERS",
    "ROTATION_SAMPLE_YEARS",
    "ROTATION_SAMPLE_SEED",
)


@pytest.fixture
def cli(tmp_path, monkeypatch, capfd, dbt_manifest):
    """``rotation ...`` in-process against a temporary Dagster home; returns (code, stderr).

    The CLI writes its flags into the environment: each variable is set here first so
    monkeypatch restores it afterwards.
    """
    for name in CLI_ENV:
        monkeypatch.setenv(name, "")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((DEFAULT_DAGSTER_HOME / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    def run(*argv: str) -> tuple[int, str]:
        capfd.readouterr()
        code = main(list(argv))
        return code, capfd.readouterr().err

    return run


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a duckdb file, maybe a half-copied one\n" * 200)
    return path


@pytest.fixture
def holder():
    """Another process holding a DuckDB file open for writing (its lock), until the end."""
    processes = []

    def hold(path: Path) -> None:
        ready = path.with_name(path.name + ".held")
        code = (
            "import duckdb, pathlib, sys, time\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "pathlib.Path(sys.argv[2]).write_text('held')\n"
            "time.sleep(3600)\n"
        )
        processes.append(subprocess.Popen([sys.executable, "-c", code, str(path), str(ready)]))
        wait_for(ready)

    yield hold
    for process in processes:
        process.kill()
        process.wait()


def assert_clear(code: int, err: str, *phrases: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err, err
    for phrase in phrases:
        assert phrase in err, err


def test_a_corrupt_warehouse_gives_a_clear_build_error(cli, tmp_path):
    warehouse = corrupt(tmp_path / "w.duckdb")
    code, err = cli("build", "--warehouse", str(warehouse), "--tickers", "40", "--years", "1")
    assert_clear(code, err, "Build FAILED", f"{warehouse} is not a usable DuckDB file")


def test_a_locked_warehouse_gives_a_clear_build_error(cli, tmp_path, holder):
    warehouse = tmp_path / "w.duckdb"
    holder(warehouse)
    code, err = cli("build", "--warehouse", str(warehouse), "--tickers", "40", "--years", "1")
    assert_clear(code, err, "Build FAILED", f"{warehouse} is locked by another process")


def published_sample(tmp_path: Path) -> Path:
    warehouse = tmp_path / "w.duckdb"
    with wh.connect(warehouse) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(con, PRICES, price_frame(2, 5, 1.0), "sample", None, LOADED_AT)
    wh.publish(warehouse, wh.published_path(warehouse))
    return warehouse


def test_a_corrupt_or_locked_published_copy_gives_a_clear_sql_error(cli, tmp_path, holder):
    warehouse = tmp_path / "w.duckdb"
    published = corrupt(wh.published_path(warehouse))
    code, err = cli("sql", "select 1", "--warehouse", str(warehouse))
    assert_clear(code, err, f"rotation sql: {published} is not a usable DuckDB file")

    published.unlink()
    published_sample(tmp_path)
    holder(published)
    code, err = cli("sql", "select count(*) from raw.prices", "--warehouse", str(warehouse))
    assert_clear(code, err, f"rotation sql: {published} is locked by another process")


# --- e. input hygiene ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["create table x as select 1", "delete from raw.prices", "drop schema raw cascade"],
)
def test_rotation_sql_cannot_change_the_warehouse(cli, tmp_path, statement):
    warehouse = published_sample(tmp_path)
    code, err = cli("sql", statement, "--warehouse", str(warehouse))
    assert_clear(code, err, "is the published read-only copy", "read-only mode")
    assert state(wh.published_path(warehouse))["rows"] == 10
    code, _ = cli("sql", "select count(*) from raw.prices", "--warehouse", str(warehouse))
    assert code == 0


def test_symbols_from_config_are_checked_before_any_source_uses_them(tmp_path):
    from dagster_project.lib.sources.base import SourceError
    from dagster_project.lib.sources.sample.universe import load_universe

    path = tmp_path / "universe.yaml"
    path.write_text('tickers:\n  - {ticker: "SPY\'; DROP TABLE raw.prices; --", kind: etf}\n')
    with pytest.raises(SourceError, match="is not a valid ticker symbol"):
        load_universe(path)


def test_the_claims_file_uses_the_sources_symbol_patterns():
    from dagster_project.lib.claims import validate_claim
    from dagster_project.lib.sources.symbols import SERIES_PATTERN, TICKER_PATTERN

    base = {"id": "x", "text": "t", "start": "2024-01-02", "end": "2024-02-01", "claimed": 0.1}
    bad_ticker = validate_claim({**base, "metric": "return", "ticker": "SPY/../../etc"}, 0)
    assert "not a valid symbol" in bad_ticker.error
    bad_series = validate_claim({**base, "metric": "rate_change", "series": "DFF&api_key=x"}, 0)
    assert "not a valid symbol" in bad_series.error
    assert TICKER_PATTERN.match("^RUT") and SERIES_PATTERN.match("BAMLH0A0HYM2")


def serialized_run(instance: dg.DagsterInstance, run_id: str) -> str:
    """The run's record and every event-log entry (messages, metadata, errors) as stored."""
    from dagster._serdes import serialize_value

    entries = [serialize_value(entry) for entry in instance.all_logs(run_id)]
    return serialize_value(instance.get_run_by_id(run_id)) + "\n".join(entries)


@pytest.mark.parametrize("accepted", [True, False], ids=["valid-key", "rejected-key"])
def test_the_fred_key_never_leaves_the_fred_request(
    accepted, fred_server, yahoo, tmp_path, monkeypatch, capfd, caplog
):
    key = VALID_KEY if accepted else "leakcheck" + "0123456789abcdef0123456"
    monkeypatch.setenv("FRED_API_KEY", key)
    warehouse = tmp_path / "w.duckdb"
    resources = {
        "source": SourceResource(spec="live", start="2024-07-01", end="2024-09-30"),
        "warehouse": WarehouseResource(path=str(warehouse)),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [raw_rates],
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        stored = serialized_run(instance, result.run_id)

    assert result.success is accepted
    assert any(key in path for path in fred_server.seen)  # it did go to FRED
    captured = capfd.readouterr()
    for where, text in {
        "event log and metadata": stored,
        "stdout": captured.out,
        "stderr": captured.err,
        "python logs": caplog.text,
        "warehouse file": warehouse.read_bytes().decode("latin-1") if warehouse.exists() else "",
    }.items():
        assert key not in text, where
    if not accepted:
        assert "FRED rejected the API key in FRED_API_KEY" in stored
