"""Child processes for the reliability tests: a writer killed mid-load, a writer that
publishes generation after generation, and a reader that queries the published copy.

Run as ``python -m tests.integration.reliability_children <role> ...``. They talk to the
test through files in a shared folder, so every step the test waits for is an event, not
a delay.
"""

import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.lib.sources.base import Window
from dagster_project.lib.warehouse import store as wh
from dagster_project.lib.warehouse.schemas import PRICES, RATES

LOADED_AT = dt.datetime(2026, 1, 1, 12, 0)
WAIT_LIMIT_SECONDS = 120
"""A guard against a hung test, never a timing assertion."""


def price_frame(tickers: int, days: int, close: float, start: str = "2020-01-01") -> pd.DataFrame:
    """``tickers`` x ``days`` rows of ``raw.prices`` payload, every price ``close``."""
    names = [f"T{i:04d}" for i in range(tickers)]
    dates = pd.bdate_range(start, periods=days)
    frame = pd.DataFrame(
        {
            "ticker": np.repeat(names, days),
            "trade_date": np.tile(dates.to_numpy(), tickers),
        }
    )
    for column in ("open", "high", "low", "close"):
        frame[column] = close
    frame["adj_close"] = np.nan
    frame["volume"] = 1000.0
    frame["dividends"] = 0.0
    frame["splits"] = 0.0
    return frame[list(PRICES.payload)]


def rate_frame(days: int, value: float, start: str = "2020-01-01") -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=days)
    return pd.DataFrame({"series_id": "DFF", "obs_date": dates, "value": value})


def window_of(frame: pd.DataFrame, column: str) -> Window:
    return Window(frame[column].min().date(), frame[column].max().date())


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.01)


class HangBeforeCommit:
    """A connection that, when asked to commit, says so through ``ready`` and hangs.

    The transaction has then deleted the old window and inserted every new row (DuckDB has
    written the large insert's blocks to the file already), but not committed: the test
    kills the process at exactly that moment.
    """

    def __init__(self, con, ready: Path) -> None:
        self._con, self._ready = con, ready

    def _hang(self) -> None:
        self._ready.write_text("about to commit")
        time.sleep(3600)

    def execute(self, sql, *args):
        if isinstance(sql, str) and sql.strip().upper() == "COMMIT":
            self._hang()
        return self._con.execute(sql, *args)

    def commit(self):
        self._hang()

    def __getattr__(self, name):
        return getattr(self._con, name)


def crash_mid_load(warehouse: Path, ready: Path, tickers: int, days: int) -> None:
    """Replace the whole window with new prices, hanging before the commit."""
    frame = price_frame(tickers, days, close=2.0)
    with wh.connect(warehouse) as con:
        wh.replace_window(
            HangBeforeCommit(con, ready),
            PRICES,
            frame,
            "sample",
            window_of(frame, "trade_date"),
            LOADED_AT,
        )
    raise AssertionError("the load committed: the hook never ran")


def crash_mid_publish(warehouse: Path, ready: Path, tickers: int, days: int) -> None:
    """Commit new prices, then publish them, hanging just before the atomic rename: the
    new copy is complete in its temporary file but not swapped in."""
    import os

    frame = price_frame(tickers, days, close=3.0)
    with wh.connect(warehouse) as con:
        wh.replace_window(con, PRICES, frame, "sample", window_of(frame, "trade_date"), LOADED_AT)

    def hang(*_args, **_kwargs):
        ready.write_text("about to swap")
        time.sleep(3600)

    os.replace = hang  # this process exists only to be killed here
    wh.publish(warehouse, wh.published_path(warehouse))
    raise AssertionError("the copy was swapped in: the hook never ran")


def publish_generations(warehouse: Path, folder: Path, generations: int, tickers: int) -> None:
    """Load and publish generation 1..N; before each, wait until the reader has seen the
    previous one, so the reader provably queries while the next is being written."""
    published = wh.published_path(warehouse)
    for generation in range(1, generations + 1):
        wait_for(folder / f"seen-{generation - 1}")
        prices = price_frame(tickers, 250, close=float(generation))
        rates = rate_frame(250, value=float(generation))
        with wh.connect(warehouse) as con:
            wh.replace_window(
                con, PRICES, prices, "sample", window_of(prices, "trade_date"), LOADED_AT
            )
            wh.replace_window(con, RATES, rates, "sample", window_of(rates, "obs_date"), LOADED_AT)
        wh.publish(warehouse, published)
    wait_for(folder / f"seen-{generations}")
    (folder / "writer-done").write_text("done")


SNAPSHOT_SQL = """
SELECT (SELECT count(*) FROM raw.prices), (SELECT min(close) FROM raw.prices),
       (SELECT max(close) FROM raw.prices), (SELECT count(*) FROM raw.rates),
       (SELECT min(value) FROM raw.rates), (SELECT max(value) FROM raw.rates)
"""


def read_published(warehouse: Path, folder: Path) -> None:
    """Query the published copy, each time through a new read-only connection (as
    ``rotation sql`` does), until the writer is done; record every answer or error."""
    published = wh.published_path(warehouse)
    results = []
    while True:
        done = (folder / "writer-done").exists()
        try:
            with wh.connect(published, read_only=True) as con:
                row = con.execute(SNAPSHOT_SQL).fetchall()[0]
            results.append({"row": list(row)})
            (folder / f"seen-{int(row[1])}").touch()
        except Exception as exc:
            results.append({"error": f"{type(exc).__name__}: {exc}"})
        if done:
            break
    (folder / "reads.json").write_text(json.dumps(results))


def main(argv: list[str]) -> None:
    role, *rest = argv
    if role == "crash":
        warehouse, ready, tickers, days = rest
        crash_mid_load(Path(warehouse), Path(ready), int(tickers), int(days))
    elif role == "crash-publish":
        warehouse, ready, tickers, days = rest
        crash_mid_publish(Path(warehouse), Path(ready), int(tickers), int(days))
    elif role == "publish":
        warehouse, folder, generations, tickers = rest
        publish_generations(Path(warehouse), Path(folder), int(generations), int(tickers))
    elif role == "read":
        warehouse, folder = rest
        read_published(Path(warehouse), Path(folder))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
