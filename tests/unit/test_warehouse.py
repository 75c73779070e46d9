import datetime as dt

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.sources.base import Window
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import EDGAR_FACTS, PRICES, RATES

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
