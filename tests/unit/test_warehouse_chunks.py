"""A load delivered in chunks is written as one transaction, exactly like one frame."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dagster_project.lib.sources.base import FrameChunks, Window
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import PRICES, UNIVERSE

LOADED_AT = dt.datetime(2026, 1, 1, 12, 0)
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]
WINDOW = Window(dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def prices(ticker: str, days: list[str], close: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": pd.to_datetime(days),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "adj_close": float("nan"),
            "volume": 1000.0,
            "dividends": 0.0,
            "splits": 0.0,
        }
    )


def chunks_of(*frames: pd.DataFrame) -> FrameChunks:
    return FrameChunks(lambda: iter(frames))


@pytest.fixture
def con(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        wh.ensure_raw_schema(con)
        yield con


def held(con) -> list[tuple]:
    return con.execute(
        "SELECT ticker, trade_date, close FROM raw.prices ORDER BY ticker, trade_date"
    ).fetchall()


def test_chunks_write_the_same_rows_as_one_frame(tmp_path):
    spy, iwm = prices("SPY", DAYS, 1.0), prices("IWM", DAYS, 2.0)
    contents = []
    for name, frame in [("one", pd.concat([spy, iwm])), ("chunks", chunks_of(spy, iwm))]:
        with wh.connect(tmp_path / f"{name}.duckdb") as con:
            wh.ensure_raw_schema(con)
            wh.replace_window(con, PRICES, prices("SPY", DAYS, 9.0), "sample", WINDOW, LOADED_AT)
            result = wh.replace_window(con, PRICES, frame, "sample", WINDOW, LOADED_AT)
            assert (result.rows_deleted, result.rows_inserted, result.keys) == (3, 6, 2)
            contents.append(held(con))
    assert contents[0] == contents[1]


def test_an_error_in_the_second_chunk_leaves_the_table_as_it_was(con):
    wh.replace_window(con, PRICES, prices("SPY", DAYS, 1.0), "sample", WINDOW, LOADED_AT)
    wh.replace_window(con, PRICES, prices("IWM", DAYS, 2.0), "sample", WINDOW, LOADED_AT)
    before = held(con)

    def failing_chunks():
        yield prices("SPY", DAYS, 5.0)  # deleted SPY's window and inserted, in the transaction
        raise RuntimeError("the source broke while making the second chunk")

    with pytest.raises(RuntimeError, match="second chunk"):
        wh.replace_window(con, PRICES, FrameChunks(failing_chunks), "sample", WINDOW, LOADED_AT)
    assert held(con) == before


def test_a_bad_second_chunk_is_refused_and_nothing_is_written(con):
    wh.replace_window(con, PRICES, prices("SPY", DAYS, 1.0), "sample", WINDOW, LOADED_AT)
    before = held(con)
    outside = prices("IWM", ["2024-02-01"], 2.0)  # dated outside the window
    with pytest.raises(wh.SchemaMismatchError, match="outside the window"):
        wh.replace_window(
            con,
            PRICES,
            chunks_of(prices("SPY", DAYS, 5.0), outside),
            "sample",
            WINDOW,
            LOADED_AT,
        )
    assert held(con) == before
    # the connection is usable again: the transaction was rolled back, not left open
    wh.replace_window(con, PRICES, prices("SPY", DAYS, 3.0), "sample", WINDOW, LOADED_AT)
    assert [r[2] for r in held(con)] == [3.0, 3.0, 3.0]


def test_a_key_split_across_chunks_keeps_the_rows_of_its_first_chunk(con):
    wh.replace_window(con, PRICES, prices("SPY", DAYS, 1.0), "sample", WINDOW, LOADED_AT)
    frame = chunks_of(prices("SPY", DAYS[:1], 7.0), prices("SPY", DAYS[1:], 8.0))
    result = wh.replace_window(con, PRICES, frame, "sample", WINDOW, LOADED_AT)
    assert (result.rows_deleted, result.rows_inserted, result.keys) == (3, 3, 1)
    assert [r[2] for r in held(con)] == [7.0, 8.0, 8.0]


def test_chunks_of_a_table_without_dates_replace_each_key_once(con):
    def universe(ticker: str, name: str) -> pd.DataFrame:
        row = {column: None for column in UNIVERSE.payload}
        row |= {"ticker": ticker, "name": name, "kind": "etf", "is_magnificent_7": False}
        return pd.DataFrame([row])

    wh.replace_window(con, UNIVERSE, universe("SPY", "old"), "sample", None, LOADED_AT)
    frame = chunks_of(universe("SPY", "new"), universe("IWM", "small caps"))
    result = wh.replace_window(con, UNIVERSE, frame, "sample", None, LOADED_AT)
    assert (result.rows_deleted, result.rows_inserted, result.keys) == (1, 2, 2)
    names = con.execute("SELECT ticker, name FROM raw.universe ORDER BY 1").fetchall()
    assert names == [("IWM", "small caps"), ("SPY", "new")]
