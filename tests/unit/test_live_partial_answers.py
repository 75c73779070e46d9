"""Live fundamentals lose nothing: replayed partial Yahoo answers through the load asset.

A complete load first, then a second load of the same window whose Yahoo answer for one
ticker is partial: nothing held is lost or changed, the ticker is listed among the
load's failures, and the non-blocking fetch check warns.

Each case runs twice. ``as shipped``: the live source itself recognises the missing piece
(``yahoo_fundamentals.missing_pieces``). ``thin answer taken``: that recognition is
switched off, as it was before issue 16 and as it would be for a partial answer the
source has no rule for; the warehouse must then hold on by itself: the answer is compared
with the held versions (``lib.warehouse.versions``) and the table is append-only.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.ingest.loads import raw_fundamentals
from dagster_project.defs.quality.fetch_failures import fetch_failure_checks
from dagster_project.defs.resources import SourceResource, WarehouseResource
from dagster_project.lib.sources.live import yahoo_fundamentals

START, END = "2023-01-01", "2024-09-30"
FUNDAMENTALS_CHECK = next(
    c for c in fetch_failure_checks if c.node_def.name.endswith("_fundamentals_all_fetched")
)
HELD_SQL = (
    "SELECT ticker, period_end, report_date, eps, eps_estimate, shares_outstanding, loaded_at "
    "FROM raw.fundamentals ORDER BY ALL"
)


@pytest.fixture(params=["as shipped", "thin answer taken"])
def source_check(request, monkeypatch) -> str:
    if request.param == "thin answer taken":
        monkeypatch.setattr(yahoo_fundamentals, "missing_pieces", lambda *_: [])
    return request.param


def load(warehouse, instance) -> tuple[dict, dg.AssetCheckEvaluation]:
    """Materialize raw/fundamentals and its fetch check; (metadata, check evaluation)."""
    result = dg.materialize(
        [raw_fundamentals, FUNDAMENTALS_CHECK],
        resources={
            "source": SourceResource(spec="live", start=START, end=END),
            "warehouse": WarehouseResource(path=str(warehouse)),
        },
        instance=instance,
    )
    assert result.success
    (event,) = result.asset_materializations_for_node(raw_fundamentals.op.name)
    (check,) = result.get_asset_check_evaluations()
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}, check


def held(warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(HELD_SQL).fetchall()


@pytest.fixture
def loaded(yahoo, tmp_path):
    """A warehouse after one complete live load, and the instance it ran in."""
    warehouse = tmp_path / "w.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        metadata, check = load(warehouse, instance)
        assert metadata["failures"] == {} and check.passed
        assert {r[0] for r in held(warehouse)} == {"AAPL", "CMC", "JPM", "NVDA"}
        yield warehouse, instance


def assert_nothing_changed_and_reported(loaded, ticker: str, before: list[tuple]) -> str:
    warehouse, instance = loaded
    metadata, check = load(warehouse, instance)
    assert held(warehouse) == before  # nothing lost, nothing overwritten, nothing added
    assert set(metadata["failures"]) == {ticker}
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert ticker in check.description
    return metadata["failures"][ticker]


def test_a_calendar_page_without_its_table_changes_nothing_held(loaded, yahoo, source_check):
    """Before: JPM's quarters were replaced by four without report dates."""
    before = held(loaded[0])
    yahoo.no_calendar.add("JPM")
    reason = assert_nothing_changed_and_reported(loaded, "JPM", before)
    if source_check == "as shipped":
        assert "the earnings calendar page has no table" in reason
    else:
        assert "no report_date where one is held" in reason
        assert "Nothing held was changed" in reason


def test_a_throttled_income_statement_changes_nothing_held(loaded, yahoo, source_check):
    """Yahoo answers NVIDIA's income statement with HTTP 429: yfinance returns it empty.
    Without the statement its fiscal months are unknown, so the calendar's reports land on
    calendar quarter ends. Before: NVDA's held quarters were replaced by misdated ones."""
    before = held(loaded[0])
    yahoo.throttled_income.add("NVDA")
    reason = assert_nothing_changed_and_reported(loaded, "NVDA", before)
    if source_check == "as shipped":
        assert "the quarterly income statement is empty" in reason
    else:
        assert "period_end 2023-10-31, 2024-01-31, 2024-04-30 missing" in reason


def test_a_complete_answer_again_adds_nothing(loaded):
    before = held(loaded[0])
    metadata, check = load(*loaded)
    assert metadata["rows_loaded"] == 0 and metadata["failures"] == {} and check.passed
    assert held(loaded[0]) == before
