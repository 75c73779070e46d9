"""Yahoo's price layout (``Open, High, Low, Close, Adj Close, Volume, Dividends, Stock
Splits``) turned into the canonical, as-traded ``raw.prices`` rows.

Yahoo's ``Close`` (with ``auto_adjust=False``, and in its CSV exports) is adjusted
retroactively for every split after the day, and so are its open, high, low, volume and
dividend amounts; only ``Adj Close`` also folds in dividends. The warehouse stores prices
as traded, so a split announced later never rewrites history in place: here each row is
multiplied back by the product of the split ratios strictly after it. The live source and
the files source share this, so the same Yahoo file means the same thing from both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.lib.warehouse.schemas import PRICES

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
OPTIONAL_COLUMNS = ("Open", "High", "Low", "Adj Close", "Volume", "Dividends", "Stock Splits")
PRICE_DECIMALS = 6


def split_factor_after(splits: pd.Series) -> np.ndarray:
    """For each row (sorted by date), the product of the split ratios strictly after it.

    A ratio of 0 or NaN means no split. The last row's factor is 1: nothing after it.
    """
    ratios = splits.fillna(0.0).to_numpy(dtype=float)
    ratios = np.where(ratios > 0, ratios, 1.0)
    after = np.ones(len(ratios))
    if len(ratios) > 1:
        after[:-1] = np.cumprod(ratios[::-1])[::-1][1:]
    return after


def as_traded(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Canonical ``raw.prices`` rows from a Yahoo-layout frame indexed by trade date.

    Missing optional columns become NULL (prices, volume) or 0 (dividends, splits). Rows
    without a close are dropped: a day with no close is not a trading record.
    """
    frame = frame.sort_index()
    frame = frame[frame["Close"].notna()]
    column = {
        name: frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        for name in ("Close", *OPTIONAL_COLUMNS)
    }
    splits = column["Stock Splits"].fillna(0.0).astype(float)
    after = split_factor_after(splits)
    out = pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": pd.to_datetime(frame.index).normalize(),
            **{
                name.lower(): (column[name].astype(float) * after).round(PRICE_DECIMALS)
                for name in PRICE_COLUMNS
            },
            "adj_close": column["Adj Close"].astype(float),
            "volume": (column["Volume"].astype(float) / after).round(0),
            "dividends": (column["Dividends"].fillna(0.0).astype(float) * after).round(
                PRICE_DECIMALS
            ),
            "splits": splits,
        }
    )
    return out.reset_index(drop=True)[list(PRICES.payload)]
