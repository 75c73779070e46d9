"""FRED-style series around the real FOMC path: targets, effective rate, 2y, 10y, the
10-year real yield and the VIX.

The policy targets are the public record (``fomc``), dated the way FRED dates them: the
single target (DFEDTAR, to 2008-12-15) changes on the decision day; the range
(DFEDTARU/DFEDTARL) starts on 2008-12-16 and later moves show up the day *after* the
decision. The effective rate and Treasury
yields are simulated around them, so they rise and fall with real policy.

Two series are not policy rates, and are there because real feeds have them: DFII10, the
10-year TIPS yield, which is negative for long stretches (2012-13, 2020-21), and VIXCLS,
an index level rather than a rate, priced off the sample market's own volatility.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.lib.sources.sample import fomc
from dagster_project.lib.sources.sample.calibration import MARKET, SESSIONS_PER_YEAR
from dagster_project.lib.sources.sample.processes import ar1_levels, persistence
from dagster_project.lib.sources.sample.randomness import Stream, draws_by_day
from dagster_project.lib.warehouse.schemas import RATES

TARGET, TARGET_UPPER, TARGET_LOWER = "DFEDTAR", "DFEDTARU", "DFEDTARL"
EFFECTIVE, TWO_YEAR, TEN_YEAR, SLOPE = "DFF", "DGS2", "DGS10", "T10Y2Y"
REAL_TEN_YEAR, VOLATILITY_INDEX = "DFII10", "VIXCLS"

RANGE_START = pd.Timestamp(fomc.RANGE_START)
EXPECTATION_HORIZON_DAYS = 730
WEIGHT_ON_CURRENT_TARGET = 0.4
"""The 2y yield prices the next two years of policy; markets only partly foresee the path,
so it blends today's target (0.4) with the average target actually realised (0.6)."""
TERM_PREMIUM_2Y = 0.25
YIELD_BOUNDS = (-1.0, 25.0)

REAL_YIELD_START = pd.Timestamp("2003-01-02")
"""FRED's DFII10 begins here (VIXCLS at the epoch, 1990-01-02, as FRED's does)."""
REAL_YIELD_RECORD: tuple[tuple[str, float], ...] = (
    ("2003-01-02", 2.4),
    ("2003-06-13", 1.7),
    ("2004-06-14", 2.2),
    ("2005-06-01", 1.6),
    ("2006-06-28", 2.6),
    ("2007-06-12", 2.7),
    ("2008-03-17", 1.1),
    ("2008-06-13", 1.6),
    ("2008-11-20", 3.0),
    ("2009-06-10", 1.9),
    ("2010-04-05", 1.5),
    ("2010-10-08", 0.4),
    ("2011-02-08", 1.2),
    ("2011-09-22", 0.0),
    ("2012-07-24", -0.7),
    ("2012-12-12", -0.8),
    ("2013-04-18", -0.6),
    ("2013-09-05", 0.8),
    ("2014-12-31", 0.4),
    ("2016-07-08", 0.0),
    ("2016-12-15", 0.5),
    ("2018-11-08", 1.1),
    ("2019-08-28", 0.0),
    ("2020-03-06", -0.3),
    ("2020-03-19", 0.6),
    ("2020-08-06", -1.1),
    ("2021-08-04", -1.15),
    ("2021-11-08", -1.1),
    ("2022-03-04", -0.9),
    ("2022-06-14", 0.7),
    ("2022-10-21", 1.6),
    ("2023-10-19", 2.5),
    ("2023-12-27", 1.7),
    ("2024-04-25", 2.2),
    ("2024-09-16", 1.6),
    ("2025-01-13", 2.3),
    ("2025-12-31", 1.8),
)
"""Rough levels of the real 10-year TIPS yield (FRED's DFII10) at its turning points,
in percent, rounded to a tenth: the shape of the public record, typed in as ``fomc``
types in the FOMC's decisions, not data read from anywhere. The sample's real yield
follows it as its policy rates follow the FOMC; held flat after the last."""
REAL_YIELD_BETA = 0.5
"""Share of the nominal 10y's swings (around its 6-month trend) that the real yield
takes; breakeven inflation absorbs the rest."""
REAL_YIELD_BOUNDS = (-2.5, 6.0)
VIX_HORIZON_SESSIONS = 21
"""The VIX prices the next 30 calendar days: about 21 sessions."""
VARIANCE_PREMIUM = 1.2
"""Implied over expected volatility: options cost more than the volatility they cover
(the VIX has averaged about 19.5 since 1990, the S&P 500's realised volatility about
16-18%)."""
VIX_BOUNDS = (9.0, 90.0)
"""The VIX's record low close is 9.14 (2017), its high 82.69 (2020-03-16)."""


def fred_targets(days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) target as FRED records it on each day.

    Single-target era: the decision day itself. Range era: the day after each decision,
    except that the range series start on 2008-12-16 itself (FRED has no earlier range to
    show), so the lookup never reaches back before the first range.
    """
    day_before = (days - pd.Timedelta(days=1)).to_numpy()
    first_range_day = RANGE_START.to_datetime64()
    in_range_era = days.to_numpy() >= first_range_day
    lookup = np.where(in_range_era, np.maximum(day_before, first_range_day), days.to_numpy())
    return fomc.targets_on(lookup)


def wandering_noise(shocks: np.ndarray, half_life: float, stationary_sd: float) -> np.ndarray:
    """Unit shocks turned into an AR(1) path with the given half-life and spread.

    Why: spreads and rate noise wander for weeks rather than jumping day to day.
    """
    phi = persistence(half_life)
    return ar1_levels(stationary_sd * np.sqrt(1.0 - phi**2) * shocks, phi)


def effective_rate(days: pd.DatetimeIndex, sessions: pd.DatetimeIndex, seed: int) -> np.ndarray:
    """DFF on every calendar day: near the single target, inside the range after 2008.

    The rate is fixed on business days and carried over weekends and holidays, as FRED
    shows it; before 2008 it trades around the target with month-end spikes, after it
    sits a few basis points above the bottom of the range.
    """
    lower, upper = fred_targets(days)
    noise = draws_by_day(seed, Stream.FUNDS_RATE, sessions, [0, 1, 2]).astype(float)
    month_end = (sessions + pd.offsets.BMonthEnd(0)) == sessions
    single_noise = 0.06 * noise[:, 0] + np.where(month_end, 0.15 * np.abs(noise[:, 1]), 0.0)
    range_spread = np.clip(0.08 + wandering_noise(noise[:, 2], 30, 0.03), 0.05, 0.15)
    on_session = pd.DataFrame({"single": single_noise, "range": range_spread}, index=sessions)
    carried = on_session.reindex(days, method="ffill").bfill()
    is_range = np.asarray(days >= RANGE_START)
    spread = np.where(is_range, carried["range"].to_numpy(), carried["single"].to_numpy())
    value = lower + spread
    return np.maximum(value, 0.01)


def treasury_yields(sessions: pd.DatetimeIndex, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """DGS2 and DGS10 on each session.

    The 2y tracks the expected average policy rate over the next two years (see
    ``WEIGHT_ON_CURRENT_TARGET``) plus a term premium and slow noise; the 10y adds a
    mean-reverting term spread that is steep when policy is easy and flat or inverted when
    it is tight, as the 2s10s curve behaves.
    """
    horizon = pd.date_range(sessions[0], sessions[-1] + pd.Timedelta(days=EXPECTATION_HORIZON_DAYS))
    lower, upper = fred_targets(horizon)
    midpoint = (lower + upper) / 2
    running = np.concatenate([[0.0], np.cumsum(midpoint)])
    day_index = (sessions - horizon[0]).days.to_numpy()
    forward_mean = (
        running[day_index + 1 + EXPECTATION_HORIZON_DAYS] - running[day_index + 1]
    ) / EXPECTATION_HORIZON_DAYS
    current = midpoint[day_index]
    expected = WEIGHT_ON_CURRENT_TARGET * current + (1 - WEIGHT_ON_CURRENT_TARGET) * forward_mean
    shocks = draws_by_day(seed, Stream.YIELDS, sessions, [0, 1]).astype(float)
    noise_scale = np.clip(current / 2.0, 0.3, 1.0)
    two_year = expected + TERM_PREMIUM_2Y + noise_scale * wandering_noise(shocks[:, 0], 40, 0.25)
    spread = 1.9 - 0.25 * current + wandering_noise(shocks[:, 1], 120, 0.45)
    two_year = np.clip(two_year, 0.02, YIELD_BOUNDS[1])
    ten_year = np.clip(two_year + spread, YIELD_BOUNDS[0], YIELD_BOUNDS[1])
    return two_year, ten_year


def real_yield(sessions: pd.DatetimeIndex, ten_year: np.ndarray, seed: int) -> np.ndarray:
    """DFII10 on each session: the 10y minus an inflation expectation (the breakeven).

    The real yield follows the record of the real one (``REAL_YIELD_RECORD``, negative in
    2012-13 and 2020-21) and takes ``REAL_YIELD_BETA`` of the sample's nominal 10y's
    swings around its trend, plus slow noise of its own; the breakeven is what is left of
    the nominal 10y. The trend is an exponential average from the first session, so a
    later ``end`` never changes an earlier value. NaN before FRED's first DFII10.
    """
    anchors = np.array([day for day, _ in REAL_YIELD_RECORD], dtype="datetime64[D]")
    record = np.interp(
        sessions.to_numpy().astype("datetime64[D]").astype(float),
        anchors.astype(float),
        [level for _, level in REAL_YIELD_RECORD],
    )
    trend = pd.Series(ten_year).ewm(halflife=63, adjust=False).mean().to_numpy()
    noise = draws_by_day(seed, Stream.REAL_YIELDS, sessions, [0]).astype(float)[:, 0]
    real = record + REAL_YIELD_BETA * (ten_year - trend) + wandering_noise(noise, 30, 0.1)
    real = np.clip(real, *REAL_YIELD_BOUNDS)
    return np.where(np.asarray(sessions >= REAL_YIELD_START), real, np.nan)


def volatility_index(sessions: pd.DatetimeIndex, vol_outlook: np.ndarray, seed: int) -> np.ndarray:
    """VIXCLS on each session: the market's expected volatility over the next 30 days,
    annualised in percent, times the variance premium, with a little noise of its own.

    ``vol_outlook`` is the market's GARCH volatility for the next session relative to its
    long-run level (``FactorPaths.vol_outlook``); the variance beyond it reverts to the
    long run at the GARCH persistence, so the 30-day average moves less than the next
    day's: a crash lifts the VIX to 50-80, a calm year lets it sink toward 10.
    """
    persistence_ = MARKET.garch_alpha + MARKET.garch_leverage / 2 + MARKET.garch_beta
    horizon = VIX_HORIZON_SESSIONS
    carried = (1 - persistence_**horizon) / (horizon * (1 - persistence_))
    mean_variance = 1.0 + (np.asarray(vol_outlook) ** 2 - 1.0) * carried
    level = 100 * np.sqrt(SESSIONS_PER_YEAR * mean_variance) * MARKET.market_vol
    shocks = draws_by_day(seed, Stream.VOLATILITY_INDEX, sessions, [0]).astype(float)[:, 0]
    level *= VARIANCE_PREMIUM * np.exp(wandering_noise(shocks, 10, 0.06))
    return np.clip(level, *VIX_BOUNDS)


def rates_frame(
    days: pd.DatetimeIndex, sessions: pd.DatetimeIndex, seed: int, vol_outlook: np.ndarray
) -> pd.DataFrame:
    """Payload rows of ``raw.rates`` for calendar ``days`` and trading ``sessions`` (which
    start at the epoch); ``vol_outlook`` is the factor paths' (see ``volatility_index``)."""
    lower, upper = fred_targets(days)
    single = np.asarray(days < RANGE_START)
    two_year, ten_year = (np.round(y, 2) for y in treasury_yields(sessions, seed))
    real = real_yield(sessions, ten_year, seed)
    has_real = ~np.isnan(real)
    parts = [
        (TARGET, days[single], lower[single]),
        (TARGET_UPPER, days[~single], upper[~single]),
        (TARGET_LOWER, days[~single], lower[~single]),
        (EFFECTIVE, days, effective_rate(days, sessions, seed)),
        (TWO_YEAR, sessions, two_year),
        (TEN_YEAR, sessions, ten_year),
        (SLOPE, sessions, ten_year - two_year),
        (REAL_TEN_YEAR, sessions[has_real], real[has_real]),
        (VOLATILITY_INDEX, sessions, volatility_index(sessions, vol_outlook, seed)),
    ]
    frame = pd.concat(
        [
            pd.DataFrame({"series_id": series, "obs_date": dates, "value": np.round(values, 2)})
            for series, dates, values in parts
        ],
        ignore_index=True,
    )
    return frame[list(RATES.payload)]
