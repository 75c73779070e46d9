"""FRED-style rate series around the real FOMC path: targets, effective rate, 2y, 10y.

The policy targets are the public record (``fomc``), dated the way FRED dates them: the
single target (DFEDTAR, to 2008-12-15) changes on the decision day; the range
(DFEDTARU/DFEDTARL) starts on 2008-12-16 and later moves show up the day *after* the
decision. The effective rate and Treasury
yields are simulated around them, so they rise and fall with real policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.schemas import RATES
from dagster_project.sources.sample import fomc
from dagster_project.sources.sample.processes import ar1_levels, persistence
from dagster_project.sources.sample.randomness import Stream, draws_by_day

TARGET, TARGET_UPPER, TARGET_LOWER = "DFEDTAR", "DFEDTARU", "DFEDTARL"
EFFECTIVE, TWO_YEAR, TEN_YEAR, SLOPE = "DFF", "DGS2", "DGS10", "T10Y2Y"

RANGE_START = pd.Timestamp(fomc.RANGE_START)
EXPECTATION_HORIZON_DAYS = 730
WEIGHT_ON_CURRENT_TARGET = 0.4
"""The 2y yield prices the next two years of policy; markets only partly foresee the path,
so it blends today's target (0.4) with the average target actually realised (0.6)."""
TERM_PREMIUM_2Y = 0.25
YIELD_BOUNDS = (-1.0, 25.0)


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


def rates_frame(days: pd.DatetimeIndex, sessions: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """Payload rows of ``raw.rates`` for calendar ``days`` and trading ``sessions``."""
    lower, upper = fred_targets(days)
    single = np.asarray(days < RANGE_START)
    two_year, ten_year = (np.round(y, 2) for y in treasury_yields(sessions, seed))
    parts = [
        (TARGET, days[single], lower[single]),
        (TARGET_UPPER, days[~single], upper[~single]),
        (TARGET_LOWER, days[~single], lower[~single]),
        (EFFECTIVE, days, effective_rate(days, sessions, seed)),
        (TWO_YEAR, sessions, two_year),
        (TEN_YEAR, sessions, ten_year),
        (SLOPE, sessions, ten_year - two_year),
    ]
    frame = pd.concat(
        [
            pd.DataFrame({"series_id": series, "obs_date": dates, "value": np.round(values, 2)})
            for series, dates, values in parts
        ],
        ignore_index=True,
    )
    return frame[list(RATES.payload)]
