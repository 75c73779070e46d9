"""``fundamentals/edgar/``: companyfacts files exactly as EDGAR serves them, mapped to
tickers through SEC's own ``company_tickers.json``."""

import json
import shutil
from pathlib import Path

import pytest

from dagster_project.lib.sources.base import EdgarFacts, SourceError
from dagster_project.lib.sources.edgar.files import (
    TICKER_FACT_COLUMNS,
    companyfacts_file_name,
    parse_company_tickers,
    read_edgar_dir,
    ticker_by_cik,
    tickers_with_facts,
)
from dagster_project.lib.sources.files import FilesSource
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edgar"


@pytest.fixture
def edgar_dir(tmp_path) -> Path:
    folder = tmp_path / "fundamentals" / "edgar"
    shutil.copytree(FIXTURES, folder)
    return folder


def test_the_fixture_folder_reads_as_ticker_fact_versions():
    facts = read_edgar_dir(FIXTURES)
    assert list(facts.columns) == list(TICKER_FACT_COLUMNS)
    assert set(facts["ticker"]) == {"AAPL"}  # the only company with a file
    assert len(facts) == 27 and set(facts["cik"]) == {"0000320193"}


def test_company_tickers_parse_in_secs_order():
    listing = parse_company_tickers(json.loads((FIXTURES / "company_tickers.json").read_text()))
    assert listing.columns.tolist() == ["cik", "ticker", "title"]
    assert listing["ticker"].tolist() == ["MSFT", "AAPL", "BRK-B", "BRK-A", "NICK"]
    assert listing.iloc[1].tolist() == ["0000320193", "AAPL", "Apple Inc."]


def test_one_ticker_per_company_preferring_the_universes():
    listing = parse_company_tickers(json.loads((FIXTURES / "company_tickers.json").read_text()))
    assert ticker_by_cik(listing)["0001067983"] == "BRK-B"  # SEC lists it first
    assert ticker_by_cik(listing, ["brk-a", "AAPL"]) == {
        "0000320193": "AAPL",
        "0001067983": "BRK-A",
    }


def test_tickers_restrict_which_files_are_read(edgar_dir):
    (edgar_dir / "CIK0000789019.json").write_text(
        json.dumps({"cik": 789019, "entityName": "MICROSOFT CORPORATION", "facts": {}})
    )
    assert set(read_edgar_dir(edgar_dir, tickers=["MSFT", "AAPL"])["ticker"]) == {"AAPL"}
    with pytest.raises(SourceError, match="no CIK##########.json file for any of 1 tickers"):
        read_edgar_dir(edgar_dir, tickers=["NICK"])


def test_a_cik_column_can_replace_secs_ticker_list(edgar_dir):
    (edgar_dir / "company_tickers.json").unlink()
    with pytest.raises(SourceError, match="company_tickers.json .*is missing"):
        read_edgar_dir(edgar_dir)
    facts = read_edgar_dir(edgar_dir, cik_tickers={"320193": "aapl"})
    assert set(facts["ticker"]) == {"AAPL"}


def test_a_file_holding_another_companys_facts_is_refused(edgar_dir):
    (edgar_dir / "CIK0000320193.json").rename(edgar_dir / companyfacts_file_name(789019))
    with pytest.raises(SourceError, match="CIK0000789019.json: holds the facts of CIK 320193"):
        read_edgar_dir(edgar_dir)


def test_a_damaged_file_is_refused_with_its_path(edgar_dir):
    (edgar_dir / "CIK0000320193.json").write_text('{"cik": 320193, "facts": ')
    with pytest.raises(SourceError, match=r"CIK0000320193.json: not valid JSON"):
        read_edgar_dir(edgar_dir)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(SourceError, match="no such folder"):
        read_edgar_dir(tmp_path / "nowhere")


def test_the_rows_are_exactly_the_payload_of_raw_edgar_facts():
    """What the readers return loads into ``raw.edgar_facts`` as it is: same columns, and
    types DuckDB takes (null frames and instant starts as NULL, fy as INTEGER)."""
    import duckdb

    from dagster_project.lib.warehouse.schemas import EDGAR_FACTS

    facts = read_edgar_dir(FIXTURES)
    assert list(TICKER_FACT_COLUMNS) == list(EDGAR_FACTS.payload)
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(EDGAR_FACTS.ddl())
        con.register("incoming", facts)
        con.execute(
            "INSERT INTO raw.edgar_facts BY NAME SELECT *, 'files' AS source, "
            "now()::TIMESTAMP AS loaded_at FROM incoming"
        )
        loaded = con.execute(
            "SELECT count(*), count(period_start), count(frame), min(fy), max(filed) "
            "FROM raw.edgar_facts"
        ).fetchall()[0]
    assert loaded[:4] == (27, 22, 21, 2022)
    assert str(loaded[4]) == "2024-05-03"


# --- the files source: DIR/fundamentals/edgar/ -------------------------------------------


def prices_folder(root: Path, *tickers: str) -> Path:
    (root / "prices").mkdir(parents=True, exist_ok=True)
    for ticker in tickers:
        (root / "prices" / f"{ticker}.csv").write_text("Date,Close\n2024-01-02,10\n")
    return root


def test_a_files_source_reads_its_edgar_folder_and_lists_tickers_without_a_file(tmp_path):
    root = prices_folder(tmp_path, "AAPL", "MSFT")
    shutil.copytree(FIXTURES, root / "fundamentals" / "edgar")
    source = FilesSource(root)
    assert isinstance(source, EdgarFacts)
    batch = source.edgar_facts(["AAPL", "MSFT"])
    assert list(batch.frame.columns) == list(EDGAR_FACTS.payload)
    assert set(batch.frame["ticker"]) == {"AAPL"} and len(batch.frame) == 27
    assert set(batch.failures) == {"MSFT"}
    assert "no companyfacts file" in batch.failures["MSFT"]


def test_a_files_source_without_an_edgar_folder_has_no_facts_and_no_error(tmp_path):
    batch = FilesSource(prices_folder(tmp_path, "AAPL")).edgar_facts(["AAPL"])
    assert batch.frame.empty and list(batch.frame.columns) == list(EDGAR_FACTS.payload)
    assert not batch.failures


def test_a_ticker_with_edgar_facts_is_a_stock_of_a_files_universe(tmp_path):
    root = prices_folder(tmp_path, "NICK", "QQQQ")
    shutil.copytree(FIXTURES, root / "fundamentals" / "edgar")
    shutil.copy(
        FIXTURES / "CIK0000320193.json", root / "fundamentals" / "edgar" / "CIK0001000045.json"
    )
    assert tickers_with_facts(root / "fundamentals" / "edgar", ["NICK", "QQQQ"]) == {"NICK"}
    kinds = FilesSource(root).universe().set_index("ticker")["kind"]
    assert kinds.to_dict() == {"NICK": "stock", "QQQQ": "etf"}


def test_a_cik_column_of_universe_csv_maps_files_without_secs_ticker_list(tmp_path):
    root = prices_folder(tmp_path, "APPLE")
    folder = root / "fundamentals" / "edgar"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "CIK0000320193.json", folder)  # no company_tickers.json
    (root / "universe.csv").write_text("ticker,kind,size,cik\nAPPLE,stock,large,320193\n")
    batch = FilesSource(root).edgar_facts(["APPLE"])
    assert set(batch.frame["ticker"]) == {"APPLE"} and len(batch.frame) == 27
