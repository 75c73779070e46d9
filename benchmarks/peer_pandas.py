"""The peer: what an analyst would otherwise write, the three core marts in plain pandas.

``python -m benchmarks.peer_pandas DATA_DIR OUT_DIR`` reads the raw Parquet files the
harness wrote, computes ``fct_daily_prices``, ``relative_performance`` and
``pe_discount`` with the same definitions as the dbt models (see ``floor.sql`` for them
in SQL), writes each to ``OUT_DIR/<mart>.parquet`` and prints a JSON summary on stdout.

Idiomatic pandas, no DuckDB: groupby/shift/cumprod for the adjustment, merges for the
pairs, rolling windows for the relative returns and the correlation, ``merge_asof`` for
the point-in-time splits and fundamentals, expanding windows for the percentile and the
median. Nothing here is tuned beyond what a careful pandas user would do (categorical
tickers, one sort, ``sort=False`` groupbys).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.lib.settings import DBT_PROJECT_DIR

LOOKBACKS = {"1m": 21, "3m": 63, "6m": 126, "12m": 252}
CORRELATION_WINDOW = 63
FUNDAMENTALS_MAX_AGE_DAYS = 270
PE_MIN_COVERAGE = 0.5
SNAPSHOT_MAX_AGE_DAYS = 7
BENCHMARKS = {"small": "IWM", "large": "SPY"}


# --- fct_daily_prices -----------------------------------------------------------------


def daily_prices(raw: pd.DataFrame) -> pd.DataFrame:
    """Back-adjusted closes, daily returns and a total return index per ticker."""
    prices = raw[raw["close"].notna() & (raw["close"] > 0)].copy()
    prices["dividends"] = prices["dividends"].fillna(0.0)
    splits = prices.pop("splits")
    prices["split_ratio"] = splits.where(splits > 0, 1.0).fillna(1.0)
    prices = prices.sort_values(["ticker", "trade_date"], ignore_index=True)

    by_ticker = prices.groupby("ticker", sort=False, observed=True)
    previous_close = by_ticker["close"].shift()
    dividend_factor = np.where(
        (prices["dividends"] > 0) & (previous_close > prices["dividends"]),
        1.0 - prices["dividends"] / previous_close,
        1.0,
    )
    factor = pd.Series(dividend_factor / prices["split_ratio"], index=prices.index)
    # product of the factors of every later row: a reversed cumulative product, shifted
    reversed_factor = factor.iloc[::-1]
    later = (
        reversed_factor.groupby(prices["ticker"].iloc[::-1], sort=False, observed=True)
        .cumprod()
        .iloc[::-1]
    )
    prices["adj_close"] = prices["close"] * (
        later.groupby(prices["ticker"], sort=False, observed=True).shift(-1).fillna(1.0)
    )
    by_ticker = prices.groupby("ticker", sort=False, observed=True)["adj_close"]
    prices["daily_return"] = (prices["adj_close"] / by_ticker.shift() - 1.0).round(12)
    prices["total_return_index"] = (
        100.0 * prices["adj_close"] / by_ticker.transform("first")
    ).round(10)
    return prices


# --- relative_performance -------------------------------------------------------------


def two_year_yield_daily(rates: pd.DataFrame) -> pd.Series:
    """DGS2 on every calendar day from the first to the last observation, forward-filled."""
    observed = rates[rates["value"].notna()].copy()
    observed["series_id"] = observed["series_id"].str.strip().str.upper()
    calendar = pd.date_range(observed["obs_date"].min(), observed["obs_date"].max(), freq="D")
    dgs2 = observed[observed["series_id"] == "DGS2"].groupby("obs_date")["value"].max()
    return dgs2.reindex(calendar).ffill()


def relative_performance(prices: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    pairs = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "relative_pairs.csv", dtype=str)
    dgs2 = two_year_yield_daily(rates)
    needed = set(pairs["numerator"]) | set(pairs["denominator"])
    index_by_ticker = {
        str(ticker): frame.set_index("trade_date")["total_return_index"]
        for ticker, frame in prices[prices["ticker"].isin(needed)].groupby("ticker", observed=True)
    }
    frames = []
    for pair in pairs.itertuples(index=False):
        if pair.numerator not in index_by_ticker or pair.denominator not in index_by_ticker:
            continue
        legs = pd.concat(
            [
                index_by_ticker[pair.numerator].rename("numerator_index"),
                index_by_ticker[pair.denominator].rename("denominator_index"),
            ],
            axis=1,
            join="inner",
        ).sort_index()
        frames.append(pair_history(pair, legs, dgs2))
    return pd.concat(frames, ignore_index=True)


def pair_history(pair, legs: pd.DataFrame, dgs2: pd.Series) -> pd.DataFrame:
    out = legs.reset_index()
    ratio = out["numerator_index"] / out["denominator_index"]
    spread = out["numerator_index"].pct_change(fill_method=None) - out[
        "denominator_index"
    ].pct_change(fill_method=None)
    dgs2_change = dgs2.reindex(out["trade_date"]).reset_index(drop=True).diff()
    correlation = spread.rolling(CORRELATION_WINDOW, min_periods=CORRELATION_WINDOW).corr(
        dgs2_change
    )
    year = out["trade_date"].dt.year
    year_end = ratio.groupby(year).last()
    out.insert(0, "pair", pair.pair)
    out.insert(2, "numerator", pair.numerator)
    out.insert(3, "denominator", pair.denominator)
    out["ratio"] = ratio.round(12)
    for horizon, rows in LOOKBACKS.items():
        out[f"rel_return_{horizon}"] = (ratio / ratio.shift(rows) - 1.0).round(12)
    out["rel_return_ytd"] = (ratio / (year - 1).map(year_end) - 1.0).round(12)
    out["ratio_drawdown"] = (ratio / ratio.cummax() - 1.0).round(12).clip(upper=0.0)
    out["spread_daily_return"] = spread.round(12)
    out["dgs2_change"] = dgs2_change.round(6)
    out["spread_dgs2_corr_63d"] = correlation.where(np.isfinite(correlation)).round(12)
    return out


# --- pe_discount ----------------------------------------------------------------------


def split_factors(prices: pd.DataFrame) -> pd.DataFrame:
    """Every split with the cumulative product of the ticker's splits so far."""
    splits = prices.loc[prices["split_ratio"] != 1.0, ["ticker", "trade_date", "split_ratio"]]
    splits = splits.assign(
        split_factor=splits.groupby("ticker", observed=True)["split_ratio"].cumprod()
    )
    return splits.drop(columns="split_ratio").sort_values("trade_date", ignore_index=True)


def earnings_states(fundamentals: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Per reported quarter: base shares, TTM and forward earnings in dollars, known from."""
    quarters = fundamentals.copy()
    quarters["available_date"] = quarters["report_date"].fillna(
        quarters["period_end"] + pd.Timedelta(days=45)
    )
    quarters = pd.merge_asof(
        quarters.sort_values("period_end"),
        splits.rename(columns={"trade_date": "split_date"}),
        left_on="period_end",
        right_on="split_date",
        by="ticker",
    ).drop(columns="split_date")
    quarters["split_factor"] = quarters["split_factor"].fillna(1.0)
    quarters = quarters.sort_values(["ticker", "period_end"], ignore_index=True)
    by_ticker = quarters.groupby("ticker", sort=False, observed=True)
    quarters["base_shares"] = (
        (quarters["shares_outstanding"] / quarters["split_factor"])
        .groupby(quarters["ticker"], sort=False, observed=True)
        .ffill()
    )
    for column in ("period_end", "eps_estimate", "split_factor"):
        quarters[f"next_{column}"] = by_ticker[column].shift(-1)

    reported = quarters[quarters["eps"].notna()].reset_index(drop=True)
    reported["earnings_usd"] = reported["eps"] * reported["base_shares"] * reported["split_factor"]
    by_ticker = reported.groupby("ticker", sort=False, observed=True)
    ttm = by_ticker["earnings_usd"].rolling(4, min_periods=4).sum().reset_index(drop=True)
    first_period_end = by_ticker["period_end"].shift(3)
    reported["ttm_earnings_usd"] = ttm.where(
        (reported["period_end"] - first_period_end).dt.days <= 300
    )
    reported["known_from"] = pd.concat(
        [by_ticker["available_date"].shift(lag) for lag in range(4)], axis=1
    ).max(axis=1)
    has_next = reported["next_eps_estimate"].notna() & (
        (reported["next_period_end"] - reported["period_end"]).dt.days <= 100
    )
    reported["forward_earnings_usd"] = (
        4.0
        * reported["next_eps_estimate"]
        * reported["base_shares"]
        * reported["next_split_factor"]
    ).where(has_next)
    states = reported.sort_values(["ticker", "known_from", "period_end"]).drop_duplicates(
        ["ticker", "known_from"], keep="last"
    )
    return states[
        [
            "ticker",
            "period_end",
            "known_from",
            "base_shares",
            "ttm_earnings_usd",
            "forward_earnings_usd",
        ]
    ].sort_values("known_from", ignore_index=True)


def stock_valuations(
    prices: pd.DataFrame, universe: pd.DataFrame, splits: pd.DataFrame, states: pd.DataFrame
) -> pd.DataFrame:
    """Every basket stock on every day: market cap and the earnings known that day."""
    members = universe[
        (universe["kind"].str.lower() == "stock")
        & universe["size"].str.lower().isin(["large", "small"])
    ].assign(size_bucket=lambda u: u["size"].str.lower())[
        ["ticker", "size_bucket", "is_magnificent_7"]
    ]
    members = members.assign(ticker=members["ticker"].astype(prices["ticker"].dtype))
    stocks = prices[["ticker", "trade_date", "close"]].merge(members, on="ticker")
    stocks = stocks.sort_values("trade_date", ignore_index=True)
    stocks = pd.merge_asof(
        stocks,
        splits.rename(columns={"trade_date": "split_date"}),
        left_on="trade_date",
        right_on="split_date",
        by="ticker",
    )
    stocks["split_factor"] = stocks["split_factor"].fillna(1.0)
    stocks = pd.merge_asof(stocks, states, left_on="trade_date", right_on="known_from", by="ticker")
    fresh = (stocks["trade_date"] - stocks["period_end"]).dt.days <= FUNDAMENTALS_MAX_AGE_DAYS
    stocks["market_cap"] = (stocks["close"] * stocks["base_shares"] * stocks["split_factor"]).where(
        fresh
    )
    stocks["ttm_earnings_usd"] = stocks["ttm_earnings_usd"].where(fresh)
    stocks["forward_earnings_usd"] = stocks["forward_earnings_usd"].where(fresh)
    return stocks


def basket_pe(stocks: pd.DataFrame, universe_counts: pd.Series) -> pd.DataFrame:
    has_trailing = stocks["market_cap"].notna() & stocks["ttm_earnings_usd"].notna()
    has_forward = stocks["market_cap"].notna() & stocks["forward_earnings_usd"].notna()
    ex_mag7 = has_trailing & ~stocks["is_magnificent_7"].astype(bool)
    parts = pd.DataFrame(
        {
            "trade_date": stocks["trade_date"],
            "size_bucket": stocks["size_bucket"],
            "n_priced": 1,
            "n_trailing": has_trailing.astype(int),
            "n_forward": has_forward.astype(int),
            "market_cap": stocks["market_cap"].where(has_trailing),
            "ttm_earnings": stocks["ttm_earnings_usd"].where(has_trailing),
            "forward_market_cap": stocks["market_cap"].where(has_forward),
            "forward_earnings": stocks["forward_earnings_usd"].where(has_forward),
            "market_cap_ex_mag7": stocks["market_cap"].where(ex_mag7),
            "ttm_earnings_ex_mag7": stocks["ttm_earnings_usd"].where(ex_mag7),
        }
    )
    days = parts.groupby(["trade_date", "size_bucket"], sort=False).sum(min_count=1)
    days = days.reset_index()
    trailing_ok = days["n_trailing"] >= PE_MIN_COVERAGE * days["n_priced"]
    forward_ok = days["n_forward"] >= PE_MIN_COVERAGE * days["n_priced"]
    days["trailing_pe"] = (days["market_cap"] / days["ttm_earnings"]).where(
        trailing_ok & (days["ttm_earnings"] > 0)
    )
    days["forward_pe"] = (days["forward_market_cap"] / days["forward_earnings"]).where(
        forward_ok & (days["forward_earnings"] > 0)
    )
    days["trailing_pe_ex_mag7"] = (days["market_cap_ex_mag7"] / days["ttm_earnings_ex_mag7"]).where(
        trailing_ok & (days["ttm_earnings_ex_mag7"] > 0)
    )
    days["constituents"] = days["size_bucket"].map(universe_counts)
    return days


def expanding_stats(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Percentile (cume_dist) and median of the non-null values up to each day."""
    present = values.dropna()
    expanding = present.expanding()
    return (
        expanding.rank(method="max", pct=True).reindex(values.index),
        expanding.median().reindex(values.index),
    )


def latest_snapshot(
    days: pd.Series, snapshots: pd.DataFrame, ticker: str
) -> tuple[pd.Series, pd.Series]:
    """Trailing and forward P/E of a ticker's latest snapshot at most 7 days old."""
    own = snapshots[snapshots["ticker"] == ticker].sort_values("snapshot_date")
    joined = pd.merge_asof(
        days.to_frame("trade_date"), own, left_on="trade_date", right_on="snapshot_date"
    )
    fresh = (joined["trade_date"] - joined["snapshot_date"]).dt.days <= SNAPSHOT_MAX_AGE_DAYS
    return joined["trailing_pe"].where(fresh), joined["forward_pe"].where(fresh)


def pe_discount(
    prices: pd.DataFrame,
    fundamentals: pd.DataFrame,
    universe: pd.DataFrame,
    snapshots: pd.DataFrame,
) -> pd.DataFrame:
    splits = split_factors(prices)
    states = earnings_states(fundamentals, splits)
    stocks = stock_valuations(prices, universe, splits, states)
    members = universe[universe["kind"].str.lower() == "stock"]
    counts = members["size"].str.lower().value_counts()
    baskets = basket_pe(stocks, counts).set_index(["size_bucket", "trade_date"])

    out = pd.DataFrame({"trade_date": np.sort(prices["trade_date"].unique())})
    for bucket in ("small", "large"):
        side = (
            baskets.xs(bucket, level="size_bucket")
            if bucket in baskets.index.levels[0]
            else (baskets.iloc[0:0].droplevel("size_bucket"))
        )
        side = side.reindex(out["trade_date"]).reset_index(drop=True)
        out[f"{bucket}_constituents"] = side["constituents"].fillna(0).astype(int)
        out[f"{bucket}_names_priced"] = side["n_priced"].fillna(0).astype(int)
        out[f"{bucket}_names_trailing"] = side["n_trailing"].fillna(0).astype(int)
        out[f"{bucket}_names_forward"] = side["n_forward"].fillna(0).astype(int)
        out[f"{bucket}_market_cap"] = side["market_cap"]
        out[f"{bucket}_ttm_earnings"] = side["ttm_earnings"]
        out[f"{bucket}_trailing_pe"] = side["trailing_pe"]
        out[f"{bucket}_forward_earnings"] = side["forward_earnings"]
        out[f"{bucket}_forward_pe"] = side["forward_pe"]
        if bucket == "large":
            out["large_ex_mag7_trailing_pe"] = side["trailing_pe_ex_mag7"].round(10)
    out["discount"] = out["small_trailing_pe"] / out["large_trailing_pe"] - 1.0
    out["forward_discount"] = out["small_forward_pe"] / out["large_forward_pe"] - 1.0
    for name in ("discount", "forward_discount"):
        percentile, median = expanding_stats(out[name])
        out[f"{name}_percentile"] = percentile.round(12)
        out[f"{name}_median_to_date"] = median.round(12)
        out[name] = out[name].round(12)
    for column in (
        "small_trailing_pe",
        "small_forward_pe",
        "large_trailing_pe",
        "large_forward_pe",
    ):
        out[column] = out[column].round(10)
    for bucket, ticker in BENCHMARKS.items():
        trailing, forward = latest_snapshot(out["trade_date"], snapshots, ticker)
        out[f"{bucket}_snapshot_ticker"] = ticker
        out[f"{bucket}_snapshot_trailing_pe"] = trailing
        out[f"{bucket}_snapshot_forward_pe"] = forward
    large_trailing = out["large_snapshot_trailing_pe"].replace(0.0, np.nan)
    large_forward = out["large_snapshot_forward_pe"].replace(0.0, np.nan)
    out["snapshot_discount"] = (out["small_snapshot_trailing_pe"] / large_trailing - 1.0).round(12)
    out["snapshot_forward_discount"] = (
        out["small_snapshot_forward_pe"] / large_forward - 1.0
    ).round(12)
    return out


# --- driver ---------------------------------------------------------------------------


def read(
    data_dir: Path, table: str, tickers: pd.CategoricalDtype, columns: list[str] | None = None
) -> pd.DataFrame:
    """A raw table, its tickers as one shared categorical (merge_asof's ``by`` needs it)."""
    frame = pd.read_parquet(data_dir / f"{table}.parquet", columns=columns)
    if "ticker" in frame.columns:
        names = frame["ticker"]
        frame["ticker"] = names.astype(tickers)
        if frame["ticker"].isna().any() and names.notna().all():
            raise ValueError(f"{table} has tickers missing from the universe")
    return frame


def write(frame: pd.DataFrame, path: Path) -> None:
    """Parquet with dates as dates (the marts' type) and plain string keys."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("trade_date",):
        if name in table.column_names:
            index = table.column_names.index(name)
            table = table.set_column(index, name, table.column(name).cast(pa.date32()))
    if "ticker" in table.column_names:
        index = table.column_names.index("ticker")
        table = table.set_column(index, "ticker", table.column("ticker").cast(pa.string()))
    pq.write_table(table, path)


def without_held_out(prices: pd.DataFrame, held_out: Path) -> pd.DataFrame:
    """The price rows the build's quality gates did not quarantine (their verdicts are an
    input: the peer computes the marts, not the gates)."""
    held = pd.read_parquet(held_out, columns=["ticker", "trade_date"])
    if held.empty:
        return prices
    keys = pd.MultiIndex.from_frame(held.astype({"ticker": str}))
    mine = pd.MultiIndex.from_arrays(
        [prices["ticker"].astype(str), pd.to_datetime(prices["trade_date"])]
    )
    keys = keys.set_levels(pd.to_datetime(keys.levels[1]), level=1)
    return prices[~mine.isin(keys)].reset_index(drop=True)


def run_peer(data_dir: Path, out_dir: Path, held_out: Path) -> dict:
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    universe = pd.read_parquet(data_dir / "universe.parquet")
    tickers = pd.CategoricalDtype(sorted(universe["ticker"].unique()))
    columns = ["ticker", "trade_date", "close", "dividends", "splits"]
    prices = daily_prices(without_held_out(read(data_dir, "prices", tickers, columns), held_out))
    rates = pd.read_parquet(data_dir / "rates.parquet")
    fundamentals = read(data_dir, "fundamentals", tickers)
    snapshots = read(data_dir, "valuation_snapshots", tickers)
    marts = {
        "relative_performance": relative_performance(prices, rates),
        "pe_discount": pe_discount(prices, fundamentals, universe, snapshots),
    }
    write(prices, out_dir / "fct_daily_prices.parquet")
    rows = {"fct_daily_prices": len(prices)}
    for name, frame in marts.items():
        write(frame, out_dir / f"{name}.parquet")
        rows[name] = len(frame)
    return {"seconds": time.perf_counter() - started, "rows": rows, "output": str(out_dir)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("held_out", type=Path, help="Parquet: ticker-days the gates held out")
    args = parser.parse_args(argv)
    json.dump(run_peer(args.data_dir, args.out_dir, args.held_out), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
