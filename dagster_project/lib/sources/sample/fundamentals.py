"""Quarterly fundamentals of the sample stocks, consistent with their as-traded prices.

EPS is set from the trailing-year mean price and the stock's P/E trait, so a trailing
P/E (price over the last four EPS) lands near the trait; small caps carry lower traits
than large caps, which is the valuation gap the marts measure. EPS is in the quarter's
own share terms: a later split does not restate it, exactly like a raw filing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dagster_project.lib.sources.sample import extremes
from dagster_project.lib.sources.sample.calibration import STOCKS
from dagster_project.lib.sources.sample.prices import QuarterMarks
from dagster_project.lib.sources.sample.randomness import Stream, draws_by_day
from dagster_project.lib.sources.sample.traits import Traits
from dagster_project.lib.warehouse.schemas import FUNDAMENTALS

EPS_NOISE = 0.06
SHARE_NOISE = 0.004
ESTIMATE_BEAT = 0.03
"""Companies beat the consensus by about 3% on average; the estimate is below the actual."""
ESTIMATE_NOISE = 0.06
REPORT_JITTER_DAYS = 2
LOSS_MAKER_MARGIN = 0.3
LOSS_MAKER_SWING = 1.0
"""A loss-maker earns 0.3 of a normal quarter on average, give or take a full one: about
four quarters in ten are losses."""


def quarter_ends(first_day: pd.Timestamp, last_day: pd.Timestamp) -> pd.DatetimeIndex:
    """Fiscal quarter ends (Mar 31, Jun 30, Sep 30, Dec 31) within [first_day, last_day]."""
    return pd.date_range(first_day, last_day, freq="QE-DEC").normalize()


def report_dates(period_ends: pd.DatetimeIndex, traits: Traits, seed: int) -> np.ndarray:
    """When each quarter became public (datetime64[D], quarters x stocks).

    Each company keeps its habitual lag, annual (Q4) reports come later, a couple of days
    of jitter, and a weekend date rolls to Monday: filings land on business days.
    """
    jitter = draws_by_day(seed, Stream.REPORT_TIMING, period_ends, traits.slots)
    lag = (
        traits.report_lag[None, :]
        + np.where(period_ends.month == 12, STOCKS.fourth_quarter_extra_lag, 0)[:, None]
        + np.clip(np.round(jitter), -REPORT_JITTER_DAYS, REPORT_JITTER_DAYS).astype(np.int64)
    )
    dates = period_ends.to_numpy().astype("datetime64[D]")[:, None] + lag
    return np.busday_offset(dates, 0, roll="forward")


def earnings_per_share(marks: QuarterMarks, traits: Traits, seed: int) -> np.ndarray:
    """Diluted EPS per quarter (quarters x stocks), in each quarter's share terms.

    A quarter earns a quarter of the trailing-year price over the P/E trait, with noise;
    loss-makers swing around a thin margin, so many of their quarters are negative.
    """
    shock = draws_by_day(seed, Stream.EARNINGS, marks.period_ends, traits.slots).astype(float)
    base = marks.smoothed_price / (4.0 * traits.pe)
    profitable = base * np.exp(EPS_NOISE * shock - EPS_NOISE**2 / 2)
    loss_making = base * (LOSS_MAKER_MARGIN + LOSS_MAKER_SWING * shock)
    return np.round(np.where(traits.loss_maker, loss_making, profitable), 2)


def consensus_estimates(
    eps: np.ndarray, period_ends: pd.DatetimeIndex, traits: Traits, seed: int
) -> np.ndarray:
    """The consensus made before the report: the actual minus a usual beat, plus noise."""
    surprise = draws_by_day(seed, Stream.ESTIMATES, period_ends, traits.slots).astype(float)
    return np.round(eps - np.abs(eps) * (ESTIMATE_BEAT + ESTIMATE_NOISE * surprise), 2)


def shares_outstanding(
    marks: QuarterMarks, traits: Traits, start: dt.date, seed: int
) -> np.ndarray:
    """Shares at each quarter end: slow buybacks (large) or issuance (small), times splits."""
    noise = draws_by_day(seed, Stream.SHARE_COUNT, marks.period_ends, traits.slots).astype(float)
    years = ((marks.period_ends - pd.Timestamp(start)).days.to_numpy() / 365.25)[:, None]
    shares = traits.shares * np.exp(traits.share_growth * years + SHARE_NOISE * noise)
    return np.round(shares * marks.split_factor, -3)


def fundamentals_frame(
    marks: QuarterMarks,
    traits: Traits,
    start: dt.date,
    known_by: dt.date,
    seed: int,
) -> pd.DataFrame:
    """Payload rows of ``raw.fundamentals``: every quarter reported by ``known_by``, but
    none ending after a delisted stock's last session."""
    eps = earnings_per_share(marks, traits, seed)
    reported = report_dates(marks.period_ends, traits, seed)
    columns = {
        "ticker": np.broadcast_to(traits.tickers, eps.shape),
        "period_end": np.broadcast_to(marks.period_ends.to_numpy()[:, None], eps.shape),
        "report_date": reported.astype("datetime64[ns]"),
        "eps": eps,
        "eps_estimate": consensus_estimates(eps, marks.period_ends, traits, seed),
        "shares_outstanding": shares_outstanding(marks, traits, start, seed),
    }
    period_end = marks.period_ends.to_numpy().astype("datetime64[D]")[:, None]
    listed = period_end <= extremes.last_listed_days(traits.tickers)[None, :]
    keep = ((reported <= np.datetime64(known_by, "D")) & listed).ravel()
    frame = pd.DataFrame({name: np.ravel(values)[keep] for name, values in columns.items()})
    return frame[list(FUNDAMENTALS.payload)]
