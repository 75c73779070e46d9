import datetime as dt

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.sources.base import Window
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import (
    EDGAR_FACTS,
    FUNDAMENTALS,
    PRICES,
    RATES,
    VALUATION_SNAPSHOTS,
)
from dagster_project.lib.warehouse.versions import partial_answers

LOADED_AT = dt.datetime(2026, 1, 1, 12, 0)


def prices(ticker: str, days: list[str], close: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": [dt.date.fromisoformat(d) for d in days],
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "adj_close": None,
            "volume": 1000.0,
            "dividends": 0.0,
            "splits": 0.0,
        }
    )


@pytest.fixture
def con(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        wh.ensure_raw_schema(con)
        yield con


def test_reloading_a_window_replaces_it_and_leaves_the_rest(con):
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    wh.replace_window(con, PRICES, prices("SPY", days, 100.0), "sample", None, LOADED_AT)
    window = Window(dt.date(2024, 1, 3), dt.date(2024, 1, 4))
    result = wh.replace_window(
        con, PRICES, prices("SPY", days[1:3], 200.0), "sample", window, LOADED_AT
    )
    assert (result.rows_deleted, result.rows_inserted) == (2, 2)
    rows = con.execute("SELECT trade_date, close FROM raw.prices ORDER BY 1").fetchall()
    assert [r[1] for r in rows] == [100.0, 200.0, 200.0, 100.0]


def test_rerunning_the_same_window_never_duplicates(con):
    days = ["2024-01-02", "2024-01-03"]
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    for _ in range(3):
        wh.replace_window(con, PRICES, prices("SPY", days, 1.0), "sample", window, LOADED_AT)
    assert con.execute("SELECT count(*) FROM raw.prices").fetchone()[0] == 2


def test_a_ticker_missing_from_a_reload_keeps_its_rows(con):
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    both = pd.concat([prices("SPY", ["2024-01-02"], 1.0), prices("IWM", ["2024-01-02"], 2.0)])
    wh.replace_window(con, PRICES, both, "sample", window, LOADED_AT)
    wh.replace_window(con, PRICES, prices("SPY", ["2024-01-02"], 3.0), "sample", window, LOADED_AT)
    rows = dict(con.execute("SELECT ticker, close FROM raw.prices").fetchall())
    assert rows == {"SPY": 3.0, "IWM": 2.0}


def test_rows_outside_the_window_are_refused_and_nothing_changes(con):
    wh.replace_window(con, PRICES, prices("SPY", ["2024-01-02"], 1.0), "sample", None, LOADED_AT)
    window = Window(dt.date(2024, 1, 3), dt.date(2024, 1, 4))
    with pytest.raises(wh.SchemaMismatchError, match="outside the window"):
        wh.replace_window(
            con, PRICES, prices("SPY", ["2024-01-02"], 9.0), "sample", window, LOADED_AT
        )
    assert con.execute("SELECT close FROM raw.prices").fetchall() == [(1.0,)]


def test_a_failed_insert_rolls_back_the_delete(con):
    days = ["2024-01-02", "2024-01-03"]
    wh.replace_window(con, PRICES, prices("SPY", days, 1.0), "sample", None, LOADED_AT)
    bad = prices("SPY", days, 2.0)
    bad["trade_date"] = [dt.date(2024, 1, 2), None]  # violates NOT NULL during the insert
    with pytest.raises(duckdb.Error):
        wh.replace_window(con, PRICES, bad, "sample", None, LOADED_AT)
    assert con.execute("SELECT sum(close) FROM raw.prices").fetchone()[0] == 2.0


def test_every_row_records_source_and_load_time(con):
    wh.replace_window(con, PRICES, prices("SPY", ["2024-01-02"], 1.0), "sample", None, LOADED_AT)
    assert con.execute("SELECT source, loaded_at FROM raw.prices").fetchone() == (
        "sample",
        LOADED_AT,
    )


def test_a_frame_with_the_wrong_columns_is_refused_by_name(con):
    frame = prices("SPY", ["2024-01-02"], 1.0).drop(columns=["close"]).assign(price=1.0)
    with pytest.raises(
        wh.SchemaMismatchError, match=r"missing \['close'\].*unexpected \['price'\]"
    ):
        wh.replace_window(con, PRICES, frame, "sample", None, LOADED_AT)


def test_a_second_source_is_refused(tmp_path, con):
    rates = pd.DataFrame({"series_id": ["DFF"], "obs_date": [dt.date(2024, 1, 2)], "value": [5.3]})
    wh.replace_window(con, RATES, rates, "sample", None, LOADED_AT)
    wh.assert_single_source(con, tmp_path / "w.duckdb", "sample")
    with pytest.raises(wh.MixedSourceError, match="already holds data from source sample"):
        wh.assert_single_source(con, tmp_path / "w.duckdb", "live")


def test_publish_makes_a_readable_copy_and_replaces_it_atomically(tmp_path):
    source = tmp_path / "w.duckdb"
    with wh.connect(source) as con:
        wh.ensure_raw_schema(con)
        wh.replace_window(
            con, PRICES, prices("SPY", ["2024-01-02"], 1.0), "sample", None, LOADED_AT
        )
    target = wh.published_path(source)
    wh.publish(source, target)
    with wh.connect(source) as con:
        wh.replace_window(
            con, PRICES, prices("IWM", ["2024-01-02"], 1.0), "sample", None, LOADED_AT
        )
    wh.publish(source, target)
    with wh.connect(target, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.prices").fetchone()[0] == 2
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_opening_a_missing_published_copy_says_to_build_first(tmp_path):
    missing = tmp_path / "nope.duckdb"
    with (
        pytest.raises(wh.WarehouseError, match="run `rotation build` first"),
        wh.connect(missing, read_only=True),
    ):
        pass


def test_a_file_that_is_not_duckdb_gets_a_clear_error(tmp_path):
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(wh.WarehouseError, match="corrupt.duckdb"), wh.connect(path):
        pass


def test_each_key_can_replace_a_window_of_its_own(con):
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    both = pd.concat([prices("SPY", days, 1.0), prices("NVDA", days, 1.0)])
    wh.replace_window(con, PRICES, both, "live", None, LOADED_AT)
    window = Window(dt.date(2024, 1, 2), dt.date(2024, 1, 5))
    incoming = pd.concat([prices("SPY", days[2:], 2.0), prices("NVDA", days, 3.0)])
    result = wh.replace_window(
        con,
        PRICES,
        incoming,
        "live",
        window,
        LOADED_AT,
        key_windows={"SPY": Window(dt.date(2024, 1, 4), dt.date(2024, 1, 5))},
    )
    assert (result.rows_deleted, result.rows_inserted) == (6, 6)
    rows = con.execute("SELECT ticker, close FROM raw.prices ORDER BY 1, trade_date").fetchall()
    assert rows == [("NVDA", 3.0)] * 4 + [("SPY", 1.0), ("SPY", 1.0), ("SPY", 2.0), ("SPY", 2.0)]


def test_a_row_outside_its_keys_window_is_refused(con):
    key_windows = {"SPY": Window(dt.date(2024, 1, 4), dt.date(2024, 1, 5))}
    with pytest.raises(wh.SchemaMismatchError, match=r"outside the window 2024-01-04\.\.2024"):
        wh.replace_window(
            con, PRICES, prices("SPY", ["2024-01-03"], 1.0), "live", None, LOADED_AT, key_windows
        )


def test_held_prices_are_the_latest_rows_of_each_ticker(con):
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    both = pd.concat([prices("SPY", days, 1.0), prices("IWM", days[:1], 2.0)])
    wh.replace_window(con, PRICES, both, "live", None, LOADED_AT)
    tail = wh.held_prices(con, depth=2).tail
    assert list(zip(tail["ticker"], tail["trade_date"].dt.day, strict=True)) == [
        ("IWM", 2),
        ("SPY", 3),
        ("SPY", 4),
    ]


# --- append-only fact versions (raw.edgar_facts) -------------------------------------


def fact_versions(quarters: int, accn: str = "0000000001-24-000001") -> pd.DataFrame:
    """``quarters`` NetIncomeLoss versions of one company, plus nothing else; the first is
    an instant fact (NULL period_start) so NULL keys are exercised."""
    ends = pd.date_range("2015-03-31", periods=quarters, freq="QE")
    frame = pd.DataFrame(
        {
            "ticker": "AAPL",
            "cik": "0000320193",
            "taxonomy": "us-gaap",
            "concept": "NetIncomeLoss",
            "unit": "USD",
            "period_start": ends - pd.Timedelta(days=90),
            "period_end": ends,
            "value": 1.0,
            "fy": pd.array([e.year for e in ends], dtype="Int64"),
            "fp": "Q1",
            "form": "10-Q",
            "filed": ends + pd.Timedelta(days=30),
            "accn": accn,
            "frame": None,
        }
    )
    frame.loc[0, ["taxonomy", "concept", "unit", "period_start"]] = [
        "dei",
        "EntityCommonStockSharesOutstanding",
        "shares",
        pd.NaT,
    ]
    return frame


def test_append_new_versions_inserts_only_keys_not_held(con):
    first = wh.append_new_versions(con, EDGAR_FACTS, fact_versions(20), "files:x", LOADED_AT)
    second = wh.append_new_versions(con, EDGAR_FACTS, fact_versions(27), "files:x", LOADED_AT)
    third = wh.append_new_versions(con, EDGAR_FACTS, fact_versions(27), "files:x", LOADED_AT)
    assert [r.rows_inserted for r in (first, second, third)] == [20, 7, 0]
    assert [r.keys for r in (first, second, third)] == [1, 1, 0]
    assert all(r.rows_deleted == 0 for r in (first, second, third))
    assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == 27


def test_a_partial_later_answer_deletes_nothing_held(con):
    wh.append_new_versions(con, EDGAR_FACTS, fact_versions(27), "files:x", LOADED_AT)
    # A later answer holding five old versions and one new filing of the first quarter:
    # only the new version goes in, the 22 versions it lacks stay.
    later = fact_versions(5)
    restated = later.iloc[[1]].assign(value=2.0, accn="0000000001-25-000009")
    result = wh.append_new_versions(
        con, EDGAR_FACTS, pd.concat([later, restated]), "files:x", LOADED_AT
    )
    assert (result.rows_deleted, result.rows_inserted) == (0, 1)
    assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == 28
    values = con.execute(
        "SELECT value FROM raw.edgar_facts WHERE period_end = DATE '2015-06-30' ORDER BY accn"
    ).fetchall()
    assert values == [(1.0,), (2.0,)]  # the first version is kept beside the restatement


def test_append_new_versions_collapses_repeats_inside_one_frame(con):
    twice = pd.concat([fact_versions(3), fact_versions(3)], ignore_index=True)
    result = wh.append_new_versions(con, EDGAR_FACTS, twice, "files:x", LOADED_AT)
    assert result.rows_inserted == 3


# --- restatable versions (raw.fundamentals, raw.valuation_snapshots) ------------------

NEXT_LOAD = dt.datetime(2026, 1, 2, 12, 0)


def quarters(ticker: str, ends: list[str], eps: float = 1.0, **columns) -> pd.DataFrame:
    """``raw.fundamentals`` payload rows: one quarter per period end, reported 30 days on."""
    period_ends = pd.to_datetime(ends)
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "period_end": period_ends,
            "report_date": period_ends + pd.Timedelta(days=30),
            "eps": eps,
            "eps_estimate": 0.9,
            "shares_outstanding": 100.0,
        }
    )
    return frame.assign(**columns)[list(FUNDAMENTALS.payload)]


def held_versions(con) -> list[tuple]:
    return con.execute(
        "SELECT ticker, period_end::VARCHAR, eps, report_date::VARCHAR, loaded_at "
        "FROM raw.fundamentals ORDER BY ticker, period_end, loaded_at"
    ).fetchall()


def test_a_fetch_adds_a_version_only_where_the_figures_changed(con):
    ends = ["2024-03-31", "2024-06-30", "2024-09-30"]
    first = wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ends), "live", LOADED_AT)
    restated = quarters("AAA", ends)
    restated.loc[1, "eps"] = 1.5  # the June quarter restated
    second = wh.append_new_versions(con, FUNDAMENTALS, restated, "live", NEXT_LOAD)
    third = wh.append_new_versions(con, FUNDAMENTALS, restated, "live", NEXT_LOAD)
    assert [r.rows_inserted for r in (first, second, third)] == [3, 1, 0]
    assert all(r.rows_deleted == 0 for r in (first, second, third))
    june = [v for v in held_versions(con) if v[1] == "2024-06-30"]
    # both versions kept, each with its fetch time
    assert [(v[2], v[4]) for v in june] == [(1.0, LOADED_AT), (1.5, NEXT_LOAD)]


def test_a_change_back_to_an_earlier_figure_is_a_new_version(con):
    """Compared with the latest held version, not with any: A, B, A is three versions."""
    for eps, at in ((1.0, LOADED_AT), (1.5, NEXT_LOAD), (1.0, NEXT_LOAD + dt.timedelta(days=1))):
        wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ["2024-03-31"], eps), "l", at)
    assert [v[2] for v in held_versions(con)] == [1.0, 1.5, 1.0]


def test_a_shorter_answer_deletes_nothing(con):
    """Before: the load replaced the ticker's window, so an answer with one quarter left
    one quarter."""
    ends = ["2023-12-31", "2024-03-31", "2024-06-30", "2024-09-30"]
    wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ends), "live", LOADED_AT)
    wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ends[-1:]), "live", NEXT_LOAD)
    assert len(held_versions(con)) == 4


def test_nulls_compare_equal_so_a_repeat_with_missing_figures_adds_nothing(con):
    frame = quarters("AAA", ["2024-03-31"], eps_estimate=None, report_date=pd.NaT)
    wh.append_new_versions(con, FUNDAMENTALS, frame, "live", LOADED_AT)
    again = wh.append_new_versions(con, FUNDAMENTALS, frame, "live", NEXT_LOAD)
    assert again.rows_inserted == 0


def test_a_snapshot_fetched_twice_a_day_keeps_both_versions(con):
    def snapshot(pe: float) -> pd.DataFrame:
        row = {"ticker": "SPY", "snapshot_date": pd.Timestamp("2026-01-02"), "trailing_pe": pe}
        return pd.DataFrame([{**row, "forward_pe": 20.0, "market_cap": None}])

    wh.append_new_versions(con, VALUATION_SNAPSHOTS, snapshot(25.0), "live", LOADED_AT)
    wh.append_new_versions(con, VALUATION_SNAPSHOTS, snapshot(25.0), "live", NEXT_LOAD)
    wh.append_new_versions(con, VALUATION_SNAPSHOTS, snapshot(25.5), "live", NEXT_LOAD)
    rows = con.execute("SELECT trailing_pe FROM raw.valuation_snapshots ORDER BY loaded_at")
    assert rows.fetchall() == [(25.0,), (25.5,)]


def test_latest_versions_are_the_newest_of_each_key_for_the_asked_tickers(con):
    wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ["2024-03-31"]), "l", LOADED_AT)
    wh.append_new_versions(con, FUNDAMENTALS, quarters("AAA", ["2024-03-31"], 2.0), "l", NEXT_LOAD)
    wh.append_new_versions(con, FUNDAMENTALS, quarters("BBB", ["2024-03-31"]), "l", LOADED_AT)
    latest = wh.latest_versions(con, FUNDAMENTALS, ["AAA"])
    assert latest[["ticker", "eps"]].values.tolist() == [["AAA", 2.0]]
    assert list(latest.columns) == [*FUNDAMENTALS.payload, "loaded_at"]


# --- partial answers -------------------------------------------------------------------

HELD_ENDS = ["2023-09-30", "2023-12-31", "2024-03-31", "2024-06-30"]


def test_an_answer_missing_a_held_quarter_inside_its_span_is_partial():
    held = quarters("AAA", HELD_ENDS)
    answer = quarters("AAA", ["2023-09-30", "2024-03-31", "2024-06-30"])
    reasons = partial_answers(FUNDAMENTALS, answer, held)
    assert reasons == {
        "AAA": "PartialAnswer: AAA: the answer holds less than the warehouse: 3 rows where 4 "
        "are held between 2023-09-30 and 2024-06-30 (period_end 2023-12-31 missing). "
        "Nothing held was changed"
    }


def test_quarters_outside_the_answers_span_do_not_count():
    """Yahoo's calendar keeps 100 reports: the oldest falls off each quarter, which is not
    a partial answer (the warehouse keeps it)."""
    answer = quarters("AAA", [*HELD_ENDS[1:], "2024-09-30"])
    assert partial_answers(FUNDAMENTALS, answer, quarters("AAA", HELD_ENDS)) == {}


def test_an_answer_dropping_held_report_dates_or_eps_is_partial():
    answer = quarters("AAA", HELD_ENDS)
    answer.loc[[0, 1, 2], "report_date"] = pd.NaT
    answer.loc[3, "eps"] = None
    reasons = partial_answers(FUNDAMENTALS, answer, quarters("AAA", HELD_ENDS))
    assert (
        "no report_date where one is held (period_end 2023-09-30, 2023-12-31, 2024-03-31)"
        in (reasons["AAA"])
    )
    assert "no eps where one is held (period_end 2024-06-30)" in reasons["AAA"]


def test_new_figures_new_quarters_and_new_tickers_are_not_partial():
    held = quarters("AAA", HELD_ENDS, report_date=pd.NaT)
    answer = pd.concat(
        [
            quarters("AAA", [*HELD_ENDS, "2024-09-30"], eps=2.0),  # restated, report dates new
            quarters("BBB", ["2024-06-30"]),  # nothing held yet
        ]
    )
    assert partial_answers(FUNDAMENTALS, answer, held) == {}


def test_a_snapshot_that_lost_its_pe_is_partial():
    day = {"ticker": "SPY", "snapshot_date": pd.Timestamp("2026-01-02"), "market_cap": None}
    held = pd.DataFrame([{**day, "trailing_pe": 25.0, "forward_pe": 20.0}])
    answer = pd.DataFrame([{**day, "trailing_pe": 25.0, "forward_pe": None}])
    reasons = partial_answers(VALUATION_SNAPSHOTS, answer, held)
    assert set(reasons) == {"SPY"} and "no forward_pe where one is held" in reasons["SPY"]
