"""The peer: what an analyst would otherwise write, the three core marts in plain pandas.

``python -m benchmarks.peer_pandas DATA_DIR OUT_DIR`` reads the raw Parquet files the
harness wrote, computes ``fct_daily_prices``, ``relative_performance`` and
``pe_discount`` with the same definitions as the dbt models (see ``floor.sql`` for them
in SQL), writes each to ``OUT_DIR/<mart>.parquet`` and prints a JSON summary on stdout.

Idiomatic pandas, no DuckDB: groupby/shift/cumprod for the adjustment, merges for the
pairs, rolling windows for the relative returns and the correlation, ``merge_asof`` for
the point-in-time splits, EDGAR filings, fundamentals, basket spells and snapshots, a
loop over the yearly reconstitutions, expanding windows for the percentile and the
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
PE_MIN_HISTORY_SESSIONS = 756


# --- fct_daily_prices -----------------------------------------------------------------


def return_types(prices: pd.DataFrame, universe: pd.DataFrame) -> pd.Series:
    """'price' for a price index (kind 'index', or a '^' symbol outside the universe),
    whose level leaves dividends out; 'total' otherwise."""
    kinds = universe.assign(kind=universe["kind"].str.lower()).set_index("ticker")["kind"]
    kind = prices["ticker"].astype(str).map(kinds)
    is_index = (kind == "index") | (kind.isna() & prices["ticker"].astype(str).str.startswith("^"))
    return pd.Series(np.where(is_index, "price", "total"), index=prices.index)


def daily_prices(raw: pd.DataFrame, universe: pd.DataFrame) -> pd.DataFrame:
    """Back-adjusted closes, daily returns and a total return index per ticker."""
    prices = raw[raw["close"].notna() & (raw["close"] > 0)].copy()
    prices["dividends"] = prices["dividends"].fillna(0.0)
    splits = prices.pop("splits")
    prices["split_ratio"] = splits.where(splits > 0, 1.0).fillna(1.0)
    prices = prices.sort_values(["ticker", "trade_date"], ignore_index=True)
    prices["return_type"] = return_types(prices, universe)

    by_ticker = prices.groupby("ticker", sort=False, observed=True)
    previous_close = by_ticker["close"].shift()
    # a dividend on a split day is per new share: against the post-split previous close
    post_split_close = previous_close / prices["split_ratio"]
    dividend_factor = np.where(
        (prices["return_type"] == "total")
        & (prices["dividends"] > 0)
        & (post_split_close > prices["dividends"]),
        1.0 - prices["dividends"] / post_split_close,
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


def split_factor_on(
    frame: pd.DataFrame, day: str, splits: pd.DataFrame, name: str = "split_factor"
) -> pd.DataFrame:
    """``frame`` (sorted by ``day``) with the cumulative split factor in force on ``day``."""
    joined = pd.merge_asof(
        frame,
        splits.rename(columns={"trade_date": "_split_date", "split_factor": name}),
        left_on=day,
        right_on="_split_date",
        by="ticker",
    ).drop(columns="_split_date")
    joined[name] = joined[name].fillna(1.0)
    return joined


def next_session(days: pd.Series, sessions: np.ndarray) -> pd.Series:
    """The first session strictly after each day (NaT past the data's last one)."""
    values = days.to_numpy(dtype="datetime64[ns]")
    position = np.searchsorted(sessions, values, side="right")
    found = position < len(sessions)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[found] = sessions[position[found]]
    out[np.isnat(values)] = np.datetime64("NaT")
    return pd.Series(out, index=days.index)


def edgar_ticker_of_cik(facts: pd.DataFrame) -> pd.Series:
    """The symbol each filer's figures load under (one load here: its one symbol)."""
    return facts.assign(ticker=facts["ticker"].astype(str)).groupby("cik")["ticker"].max()


def edgar_quarters(facts: pd.DataFrame, sessions: np.ndarray) -> pd.DataFrame:
    """Quarterly net income as first reported (Q4 = year - nine months when not
    reported), with the first session after its filing."""
    income = facts[
        (facts["taxonomy"] == "us-gaap")
        & (facts["concept"] == "NetIncomeLoss")
        & (facts["unit"] == "USD")
        & facts["period_start"].notna()
    ].copy()
    length = (income["period_end"] - income["period_start"]).dt.days
    income["length"] = np.select(
        [length.between(80, 100), length.between(260, 280), length.between(350, 380)],
        ["quarter", "nine_months", "year"],
        "",
    )
    first = income.sort_values(["filed", "accn"]).drop_duplicates(
        ["cik", "period_start", "period_end"]
    )
    columns = ["cik", "period_start", "period_end", "value", "filed", "accn"]
    reported = first.loc[first["length"] == "quarter", columns].assign(derived=0)
    years = first[first["length"] == "year"]
    nines = first[first["length"] == "nine_months"]
    q4 = years.merge(nines, on=["cik", "period_start"], suffixes=("", "_9"))
    q4 = q4[(q4["period_end"] - q4["period_end_9"]).dt.days.between(80, 100)]
    derived = pd.DataFrame(
        {
            "cik": q4["cik"],
            "period_start": q4["period_end_9"] + pd.Timedelta(days=1),
            "period_end": q4["period_end"],
            "value": q4["value"] - q4["value_9"],
            "filed": q4[["filed", "filed_9"]].max(axis=1),
            "accn": q4["accn"].where(q4["filed"] >= q4["filed_9"], q4["accn_9"]),
            "derived": 1,
        }
    )
    quarters = (
        pd.concat([reported, derived], ignore_index=True)
        .sort_values(["filed", "derived", "accn"])
        .drop_duplicates(["cik", "period_end"])
    )
    quarters["ticker"] = (
        quarters["cik"].map(edgar_ticker_of_cik(facts)).astype(facts["ticker"].dtype)
    )
    quarters["known_from"] = next_session(quarters["filed"], sessions)
    return quarters.reset_index(drop=True)


def edgar_ttm(quarters: pd.DataFrame, companies_per_chunk: int = 250) -> pd.DataFrame:
    """Per company and session a quarter became known: the sum of the latest four
    quarters known then, when they span a year (350-380 days). Each session is paired
    with every quarter of its company (quadratic in a company's quarters), so companies
    go in chunks to bound memory at index scale."""
    known = quarters[quarters["known_from"].notna()]
    ciks = known["cik"].unique()
    chunks = [
        _latest_four(known[known["cik"].isin(chunk)])
        for chunk in np.array_split(ciks, max(1, -(-len(ciks) // companies_per_chunk)))
        if len(chunk)
    ]
    columns = ["ticker", "state_date", "last_period_end", "ttm"]
    if not chunks:
        return known.rename(columns={"known_from": "state_date"}).reindex(columns=columns)
    return pd.concat(chunks, ignore_index=True)[columns]


def _latest_four(known: pd.DataFrame) -> pd.DataFrame:
    states = known[["cik", "ticker", "known_from"]].drop_duplicates()
    states = states.rename(columns={"known_from": "state_date"})
    pairs = states.merge(known.drop(columns="ticker"), on="cik")
    pairs = pairs[pairs["known_from"] <= pairs["state_date"]]
    pairs = pairs.sort_values(["cik", "state_date", "period_end"], ascending=[True, True, False])
    pairs = pairs[pairs.groupby(["cik", "state_date"]).cumcount() < 4]
    latest = pairs.groupby(["cik", "ticker", "state_date"], as_index=False, observed=True).agg(
        n=("value", "size"),
        total=("value", "sum"),
        first_start=("period_start", "min"),
        last_period_end=("period_end", "max"),
    )
    spans_a_year = (latest["last_period_end"] - latest["first_start"]).dt.days.between(350, 380)
    latest["ttm"] = latest["total"].where((latest["n"] == 4) & spans_a_year)
    return latest


def edgar_shares(facts: pd.DataFrame, sessions: np.ndarray) -> pd.DataFrame:
    """Cover-page share counts as first reported, with the first session after filing."""
    counts = facts[
        (facts["taxonomy"] == "dei")
        & (facts["concept"] == "EntityCommonStockSharesOutstanding")
        & (facts["unit"] == "shares")
    ]
    first = counts.sort_values(["filed", "accn"]).drop_duplicates(["cik", "period_end"])
    first = first.rename(columns={"period_end": "as_of", "value": "shares"})
    first = first.assign(
        ticker=first["cik"].map(edgar_ticker_of_cik(facts)).astype(facts["ticker"].dtype),
        known_from=next_session(first["filed"], sessions),
    )
    return first[["ticker", "as_of", "shares", "known_from"]].reset_index(drop=True)


def edgar_share_states(shares: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """The count in force from each session on, in base (pre-split) terms: a late
    amendment (an older cover date) changes nothing; of one session's, the latest."""
    known = shares[shares["known_from"].notna()].sort_values(["ticker", "known_from", "as_of"])
    newest_before = known.groupby("ticker", observed=True)["as_of"].transform(
        lambda as_of: as_of.cummax().shift()
    )
    known = known[newest_before.isna() | (known["as_of"] > newest_before)]
    known = split_factor_on(known.sort_values("as_of"), "as_of", splits, "as_of_factor")
    known["base_shares"] = known["shares"] / known["as_of_factor"]
    known = known.sort_values(["ticker", "known_from", "as_of"]).drop_duplicates(
        ["ticker", "known_from"], keep="last"
    )
    return known[["ticker", "known_from", "as_of", "base_shares"]]


def fallback_states(
    fundamentals: pd.DataFrame,
    facts: pd.DataFrame,
    quarters: pd.DataFrame,
    splits: pd.DataFrame,
    sessions: np.ndarray,
) -> pd.DataFrame:
    """raw.fundamentals' point-in-time states: TTM (four quarters within 300 days) and
    base shares per reported quarter, known from the next session after the latest public
    date of its four quarters (report date, else EDGAR's first filing within 7 days of
    the period end, else the deadline: +90 days for a fiscal Q4, +45 otherwise)."""
    f = fundamentals.assign(has_eps=fundamentals["eps"].notna())
    f = f.sort_values(["ticker", "period_end", "has_eps"]).drop_duplicates(
        ["ticker", "period_end"], keep="last"
    )
    annual = facts[
        (facts["taxonomy"] == "us-gaap")
        & (facts["concept"] == "NetIncomeLoss")
        & (facts["period_end"] - facts["period_start"]).dt.days.between(350, 380)
    ].sort_values("period_end")
    year_end_month = (
        annual.drop_duplicates("ticker", keep="last")
        .set_index("ticker")["period_end"]
        .sub(pd.Timedelta(days=7))
        .dt.month
    )
    near = f[["ticker", "period_end"]].merge(
        quarters[["ticker", "period_end", "filed"]].assign(
            ticker=lambda q: q["ticker"].astype(f["ticker"].dtype)
        ),
        on="ticker",
        suffixes=("", "_edgar"),
    )
    near = near[(near["period_end_edgar"] - near["period_end"]).dt.days.abs() <= 7]
    first_filed = near.groupby(["ticker", "period_end"], observed=True)["filed"].min()
    f = f.merge(first_filed.rename("edgar_filed").reset_index(), how="left")
    fiscal_q4 = (f["period_end"] - pd.Timedelta(days=7)).dt.month == (
        f["ticker"].astype(str).map(year_end_month).fillna(12)
    )
    deadline = f["period_end"] + pd.to_timedelta(np.where(fiscal_q4, 90, 45), unit="D")
    public = f["report_date"].fillna(f["edgar_filed"]).fillna(deadline)
    f["available_date"] = next_session(public, sessions).fillna(public + pd.Timedelta(days=1))
    f = split_factor_on(f.sort_values("period_end"), "period_end", splits)
    f = f.sort_values(["ticker", "period_end"], ignore_index=True)
    f["base_shares"] = (
        (f["shares_outstanding"] / f["split_factor"])
        .groupby(f["ticker"], sort=False, observed=True)
        .ffill()
    )
    reported = f[f["eps"].notna()].reset_index(drop=True)
    earnings = reported["eps"] * reported["base_shares"] * reported["split_factor"]
    by_ticker = reported.groupby("ticker", sort=False, observed=True)
    ttm = earnings.groupby(reported["ticker"], sort=False, observed=True).rolling(4).sum()
    reported["ttm"] = ttm.reset_index(level=0, drop=True).where(
        (reported["period_end"] - by_ticker["period_end"].shift(3)).dt.days <= 300
    )
    reported["known_from"] = pd.concat(
        [by_ticker["available_date"].shift(lag) for lag in range(4)], axis=1
    ).max(axis=1)
    states = reported.sort_values(["ticker", "known_from", "period_end"]).drop_duplicates(
        ["ticker", "known_from"], keep="last"
    )
    return states[["ticker", "known_from", "period_end", "base_shares", "ttm"]]


def stock_valuations(
    prices: pd.DataFrame,
    universe: pd.DataFrame,
    fundamentals: pd.DataFrame,
    facts: pd.DataFrame,
) -> pd.DataFrame:
    """Every basket stock on every day: market cap and TTM earnings known that day, from
    EDGAR for a company with EDGAR figures (per figure), else from raw.fundamentals; a
    figure more than 270 days past its period (or cover date) is not used."""
    sessions = np.sort(prices["trade_date"].unique()).astype("datetime64[ns]")
    splits = split_factors(prices)
    quarters = edgar_quarters(facts, sessions)
    shares = edgar_shares(facts, sessions)
    by_known = "known_from"
    fallback = fallback_states(fundamentals, facts, quarters, splits, sessions)
    fallback = fallback.sort_values(by_known, ignore_index=True)
    ttm_states = edgar_ttm(quarters).astype({"ticker": prices["ticker"].dtype})
    share_states = edgar_share_states(shares, splits).astype({"ticker": prices["ticker"].dtype})

    stocks = universe[
        (universe["kind"].str.lower() == "stock")
        & universe["size"].str.lower().isin(["large", "small"])
    ][["ticker", "is_magnificent_7"]]
    stocks = stocks.assign(ticker=stocks["ticker"].astype(prices["ticker"].dtype))
    days = prices[["ticker", "trade_date", "close"]].merge(stocks, on="ticker")
    days = split_factor_on(days.sort_values("trade_date", ignore_index=True), "trade_date", splits)
    days = pd.merge_asof(
        days,
        fallback.rename(columns={"known_from": "_fallback_from"}),
        left_on="trade_date",
        right_on="_fallback_from",
        by="ticker",
    )
    age = (days["trade_date"] - days["period_end"]).dt.days
    fallback_shares = (days["base_shares"] * days["split_factor"]).where(age <= 270)
    fallback_ttm = days["ttm"].where(age <= 270)
    days = days[["ticker", "trade_date", "close", "is_magnificent_7", "split_factor"]]
    days = pd.merge_asof(
        days,
        ttm_states.sort_values("state_date"),
        left_on="trade_date",
        right_on="state_date",
        by="ticker",
    )
    edgar_ttm_usd = days["ttm"].where((days["trade_date"] - days["last_period_end"]).dt.days <= 270)
    days = pd.merge_asof(
        days,
        share_states.sort_values("known_from"),
        left_on="trade_date",
        right_on="known_from",
        by="ticker",
    )
    edgar_shares_now = (days["base_shares"] * days["split_factor"]).where(
        (days["trade_date"] - days["as_of"]).dt.days <= 270
    )
    uses_edgar_earnings = days["ticker"].astype(str).isin(set(quarters["ticker"]))
    uses_edgar_shares = days["ticker"].astype(str).isin(set(shares["ticker"]))
    return pd.DataFrame(
        {
            "ticker": days["ticker"],
            "trade_date": days["trade_date"],
            "is_magnificent_7": days["is_magnificent_7"].astype(bool),
            "market_cap": days["close"]
            * edgar_shares_now.where(uses_edgar_shares, fallback_shares),
            "ttm": edgar_ttm_usd.where(uses_edgar_earnings, fallback_ttm),
        }
    )


def fourth_friday_of_june(year: int) -> pd.Timestamp:
    june_first = pd.Timestamp(year=year, month=6, day=1)
    return june_first + pd.Timedelta(days=(4 - june_first.weekday()) % 7 + 21)


def membership(
    valuations: pd.DataFrame, universe: pd.DataFrame, sessions: np.ndarray
) -> pd.DataFrame:
    """Basket spells: each year the stocks ranked by market cap on the last session of
    May, effective from the first session after the fourth Friday of June (within a week)
    until the next year's; ranks 1..1000 large and the next 2000 small, or the top third
    by count (at least one) when fewer than 3000 rank; before the first, the listed sizes
    ('static_list')."""
    days = pd.Series(pd.to_datetime(sessions))
    rank_days = days[days.dt.month == 5].groupby(days.dt.year).max()
    spells = []
    for year, rank_date in rank_days.items():
        friday = fourth_friday_of_june(int(year))
        after = days[(days > friday) & (days <= friday + pd.Timedelta(days=7))]
        if after.empty:
            continue
        caps = valuations[(valuations["trade_date"] == rank_date) & (valuations["market_cap"] > 0)][
            ["ticker", "market_cap"]
        ].assign(name=lambda v: v["ticker"].astype(str))
        if caps.empty:
            continue
        caps = caps.sort_values(["market_cap", "name"], ascending=[False, True])
        n = len(caps)
        large = 1000 if n >= 3000 else max(1, int(np.floor(n * 1000 / 3000 + 0.5)))
        rank = np.arange(1, n + 1)
        spells.append(
            pd.DataFrame(
                {
                    "ticker": caps["name"].to_numpy()[rank <= 3000],
                    "size_bucket": np.where(rank <= large, "large", "small")[rank <= 3000],
                    "valid_from": after.min(),
                    "method": "reconstitution",
                }
            )
        )
    ranked = pd.concat(spells, ignore_index=True) if spells else None
    if ranked is not None:
        starts = ranked["valid_from"].drop_duplicates().sort_values()
        ends = dict(zip(starts, starts.shift(-1), strict=True))
        ranked["valid_to"] = ranked["valid_from"].map(ends)
    first_rank = ranked["valid_from"].min() if ranked is not None else pd.NaT
    listed = universe[
        (universe["kind"].str.lower() == "stock")
        & universe["size"].str.lower().isin(["large", "small"])
    ]
    static = pd.DataFrame(
        {
            "ticker": listed["ticker"].astype(str),
            "size_bucket": listed["size"].str.lower(),
            "valid_from": days.min(),
            "valid_to": first_rank,
            "method": "static_list",
        }
    )
    if len(days) == 0 or (pd.notna(first_rank) and first_rank <= days.min()):
        static = static.iloc[0:0]
    return pd.concat([s for s in (ranked, static) if s is not None], ignore_index=True)


def member_counts(spells: pd.DataFrame, sessions: np.ndarray) -> pd.DataFrame:
    """Members per bucket and day, and the methods their spells came by ('a+b')."""
    days = pd.to_datetime(sessions)
    counts = {}
    for (bucket, method), group in spells.groupby(["size_bucket", "method"]):
        start = np.searchsorted(days, group["valid_from"].to_numpy(), side="left")
        ends = group["valid_to"].to_numpy()
        stop = np.where(
            pd.isna(ends), len(days), np.searchsorted(days, ends.astype("datetime64[ns]"))
        )
        change = np.zeros(len(days) + 1, dtype=np.int64)
        np.add.at(change, start, 1)
        np.add.at(change, stop, -1)
        counts[(bucket, method)] = np.cumsum(change)[:-1]
    rows = []
    for bucket in ("small", "large"):
        methods = sorted(m for b, m in counts if b == bucket)
        if not methods:
            continue
        total = sum(counts[(bucket, m)] for m in methods)
        label = [
            "+".join(m for m in methods if counts[(bucket, m)][i] > 0) for i in range(len(days))
        ]
        rows.append(
            pd.DataFrame(
                {
                    "trade_date": days,
                    "size_bucket": bucket,
                    "n_constituents": total,
                    "method": label,
                }
            )[total > 0]
        )
    return pd.concat(rows, ignore_index=True)


def basket_days(stocks: pd.DataFrame) -> pd.DataFrame:
    """Per day and bucket: names priced/with figures and the sums of caps and earnings."""
    cap, ttm, fwd = stocks["market_cap"], stocks["ttm"], stocks["forward_earnings"]
    trailing = cap.notna() & ttm.notna()
    forward = cap.notna() & fwd.notna()
    profitable = trailing & (ttm > 0)
    ex_mag7 = trailing & ~stocks["is_magnificent_7"]
    parts = pd.DataFrame(
        {
            "trade_date": stocks["trade_date"],
            "size_bucket": stocks["size_bucket"],
            "n_priced": 1,
            "n_trailing": trailing.astype(int),
            "n_forward": forward.astype(int),
            "n_snapshot": stocks["has_snapshot"].astype(int),
            "n_profitable": profitable.astype(int),
            "trailing_cap": cap.where(trailing),
            "ttm": ttm.where(trailing),
            "forward_cap": cap.where(forward),
            "fwd": fwd.where(forward),
            "profitable_cap": cap.where(profitable),
            "profitable_ttm": ttm.where(profitable),
            "trailing_cap_ex7": cap.where(ex_mag7),
            "ttm_ex7": ttm.where(ex_mag7),
        }
    )
    return parts.groupby(["trade_date", "size_bucket"], sort=False).sum(min_count=1).reset_index()


def basket_pe(counts: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Basket P/Es (NULL below 50% coverage of the priced names or without positive
    earnings) on every day the bucket has members, with the forward P/E's NULL reason."""
    b = counts.merge(days, on=["trade_date", "size_bucket"], how="left")
    trailing_ok = b["n_trailing"] >= PE_MIN_COVERAGE * b["n_priced"]
    forward_ok = b["n_forward"] >= PE_MIN_COVERAGE * b["n_priced"]
    b["trailing_pe"] = (b["trailing_cap"] / b["ttm"]).where(trailing_ok & (b["ttm"] > 0))
    b["trailing_pe_ex_losses"] = (b["profitable_cap"] / b["profitable_ttm"]).where(
        trailing_ok & (b["profitable_ttm"] > 0)
    )
    b["forward_pe"] = (b["forward_cap"] / b["fwd"]).where(forward_ok & (b["fwd"] > 0))
    b["trailing_pe_ex7"] = (b["trailing_cap_ex7"] / b["ttm_ex7"]).where(
        trailing_ok & (b["ttm_ex7"] > 0)
    )
    b["forward_null_reason"] = np.select(
        [
            b["n_priced"].fillna(0) == 0,
            b["n_snapshot"] == 0,
            b["n_forward"] == 0,
            b["n_forward"] < PE_MIN_COVERAGE * b["n_priced"],
            ~(b["fwd"] > 0) & b["fwd"].notna(),
        ],
        [
            "no_members_priced",
            "no_snapshot",
            "snapshot_stale",
            "thin_coverage",
            "earnings_not_positive",
        ],
        None,
    )
    for column in ("n_priced", "n_trailing", "n_forward", "n_profitable"):
        b[column] = b[column].fillna(0)
    return b


def expanding_stats(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Percentile (cume_dist) and median of the non-null values up to each day, once
    PE_MIN_HISTORY_SESSIONS days have one."""
    present = values.dropna()
    expanding = present.expanding()
    enough = pd.Series(np.arange(1, len(present) + 1) >= PE_MIN_HISTORY_SESSIONS, present.index)
    return (
        expanding.rank(method="max", pct=True).where(enough).reindex(values.index),
        expanding.median().where(enough).reindex(values.index),
    )


def latest_snapshots(snapshots: pd.DataFrame) -> pd.DataFrame:
    """A day's snapshot per ticker (its latest version; one load here)."""
    return snapshots.drop_duplicates(["ticker", "snapshot_date"], keep="last").sort_values(
        "snapshot_date", ignore_index=True
    )


def latest_snapshot(
    days: pd.Series, snapshots: pd.DataFrame, ticker: str
) -> tuple[pd.Series, pd.Series]:
    """Trailing and forward P/E of a ticker's latest snapshot at most 7 days old."""
    own = snapshots[snapshots["ticker"].astype(str) == ticker][
        ["snapshot_date", "trailing_pe", "forward_pe"]
    ]
    joined = pd.merge_asof(
        days.to_frame("trade_date"), own, left_on="trade_date", right_on="snapshot_date"
    )
    fresh = (joined["trade_date"] - joined["snapshot_date"]).dt.days <= SNAPSHOT_MAX_AGE_DAYS
    return joined["trailing_pe"].where(fresh), joined["forward_pe"].where(fresh)


def with_forward_earnings(members: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """Forward earnings = snapshot market cap / snapshot forward P/E, from the stock's
    latest snapshot with both, if at most 7 days old on the day."""
    estimates = snapshots[snapshots["forward_pe"].notna() & snapshots["market_cap"].notna()]
    estimates = estimates.assign(
        forward_earnings=estimates["market_cap"] / estimates["forward_pe"].replace(0.0, np.nan)
    )[["ticker", "snapshot_date", "forward_earnings"]]
    joined = pd.merge_asof(
        members.sort_values("trade_date", ignore_index=True),
        estimates,
        left_on="trade_date",
        right_on="snapshot_date",
        by="ticker",
    )
    joined["has_snapshot"] = joined["snapshot_date"].notna()
    fresh = (joined["trade_date"] - joined["snapshot_date"]).dt.days <= SNAPSHOT_MAX_AGE_DAYS
    joined["forward_earnings"] = joined["forward_earnings"].where(fresh)
    return joined


def pe_discount(
    prices: pd.DataFrame,
    fundamentals: pd.DataFrame,
    universe: pd.DataFrame,
    snapshots: pd.DataFrame,
    facts: pd.DataFrame,
) -> pd.DataFrame:
    sessions = np.sort(prices["trade_date"].unique()).astype("datetime64[ns]")
    valuations = stock_valuations(prices, universe, fundamentals, facts)
    spells = membership(valuations, universe, sessions)
    spells = spells.assign(ticker=spells["ticker"].astype(prices["ticker"].dtype))
    members = pd.merge_asof(
        valuations.sort_values("trade_date", ignore_index=True),
        spells.sort_values("valid_from", ignore_index=True),
        left_on="trade_date",
        right_on="valid_from",
        by="ticker",
    )
    members = members[
        members["valid_from"].notna()
        & (members["valid_to"].isna() | (members["trade_date"] < members["valid_to"]))
    ]
    snapshots = latest_snapshots(snapshots)
    stocks = with_forward_earnings(members, snapshots)
    baskets = basket_pe(member_counts(spells, sessions), basket_days(stocks))
    baskets = baskets.set_index(["size_bucket", "trade_date"])

    out = pd.DataFrame({"trade_date": pd.to_datetime(sessions)})
    for bucket in ("small", "large"):
        if bucket in baskets.index.get_level_values(0):
            side = baskets.xs(bucket, level="size_bucket")
        else:
            side = baskets.iloc[0:0].droplevel("size_bucket")
        side = side.reindex(out["trade_date"]).reset_index(drop=True)
        out[f"{bucket}_constituents"] = side["n_constituents"].fillna(0).astype(int)
        out[f"{bucket}_names_priced"] = side["n_priced"].fillna(0).astype(int)
        out[f"{bucket}_names_trailing"] = side["n_trailing"].fillna(0).astype(int)
        out[f"{bucket}_names_forward"] = side["n_forward"].fillna(0).astype(int)
        out[f"{bucket}_market_cap"] = side["trailing_cap"].round(2)
        out[f"{bucket}_ttm_earnings"] = side["ttm"].round(2)
        out[f"{bucket}_trailing_pe"] = side["trailing_pe"]
        out[f"{bucket}_names_profitable"] = side["n_profitable"].fillna(0).astype(int)
        out[f"{bucket}_trailing_pe_ex_losses"] = side["trailing_pe_ex_losses"]
        out[f"{bucket}_forward_earnings"] = side["fwd"].round(2)
        out[f"{bucket}_forward_pe"] = side["forward_pe"]
        out[f"{bucket}_forward_pe_null_reason"] = (
            side["forward_null_reason"].fillna("no_members").where(side["forward_pe"].isna())
        )
        out[f"{bucket}_membership_method"] = side["method"].fillna("none")
        if bucket == "large":
            out["large_ex_mag7_trailing_pe"] = side["trailing_pe_ex7"].round(10)
    out["discount"] = out["small_trailing_pe"] / out["large_trailing_pe"] - 1.0
    out["discount_ex_losses"] = (
        out["small_trailing_pe_ex_losses"] / out["large_trailing_pe_ex_losses"] - 1.0
    )
    out["forward_discount"] = out["small_forward_pe"] / out["large_forward_pe"] - 1.0
    out["discount_history_sessions"] = out["discount"].notna().cumsum().astype(int)
    for name in ("discount", "forward_discount"):
        percentile, median = expanding_stats(out[name])
        out[f"{name}_percentile"] = percentile.round(12)
        out[f"{name}_median_to_date"] = median.round(12)
    for name in ("discount", "discount_ex_losses", "forward_discount"):
        out[name] = out[name].round(12)
    for bucket in ("small", "large"):
        for column in ("trailing_pe", "trailing_pe_ex_losses", "forward_pe"):
            out[f"{bucket}_{column}"] = out[f"{bucket}_{column}"].round(10)
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
    prices = daily_prices(
        without_held_out(read(data_dir, "prices", tickers, columns), held_out), universe
    )
    rates = pd.read_parquet(data_dir / "rates.parquet")
    fundamentals = read(data_dir, "fundamentals", tickers)
    snapshots = read(data_dir, "valuation_snapshots", tickers)
    facts = read(data_dir, "edgar_facts", tickers)
    marts = {
        "relative_performance": relative_performance(prices, rates),
        "pe_discount": pe_discount(prices, fundamentals, universe, snapshots, facts),
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
