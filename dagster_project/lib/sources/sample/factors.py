"""The common factors of the sample market: market, size, value and 11 sectors.

Always simulated from the epoch (1990-01-02) whatever the window, so an index level on a
given day does not depend on where the requested history starts or ends. They are a few
thousand scalars a year, so this costs nothing next to the stocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.lib.sources.sample import fomc
from dagster_project.lib.sources.sample.calibration import (
    MARKET,
    SECTOR_PROFILES,
    SESSIONS_PER_YEAR,
    MarketCalibration,
)
from dagster_project.lib.sources.sample.processes import ar1_increments
from dagster_project.lib.sources.sample.randomness import Stream, draws_by_day, student_t
from dagster_project.lib.sources.sample.universe import SECTORS

FACTOR_NAMES: tuple[str, ...] = ("market", "size", "value", *SECTORS)
MARKET_COLUMN, SIZE_COLUMN, VALUE_COLUMN, FIRST_SECTOR_COLUMN = 0, 1, 2, 3
MAX_VARIANCE_MULTIPLE = 25.0
"""Cap on the GARCH variance (5x the long-run volatility): no runaway storms."""


@dataclass(frozen=True)
class FactorPaths:
    """Daily log returns of every common factor, one row per session.

    ``vol_state`` is the market's conditional volatility relative to its long-run level;
    stocks scale their own noise by it, because volatility clusters across the market.
    ``vol_outlook`` is the same for the next session, as known at this session's close
    (what an implied volatility such as the VIX prices).
    """

    sessions: pd.DatetimeIndex
    returns: np.ndarray
    vol_state: np.ndarray
    vol_outlook: np.ndarray

    def rows(self, sessions: pd.DatetimeIndex) -> np.ndarray:
        """Row positions of ``sessions`` (which must be a run of these sessions)."""
        first = self.sessions.get_loc(sessions[0]) if len(sessions) else 0
        return np.arange(first, first + len(sessions))


def simulate_factors(
    seed: int, sessions: pd.DatetimeIndex, calibration: MarketCalibration = MARKET
) -> FactorPaths:
    """Simulate every factor over ``sessions`` (which start at the epoch)."""
    shocks = draws_by_day(
        seed,
        Stream.FACTORS,
        sessions,
        np.arange(len(FACTOR_NAMES)),
        student_t(calibration.tail_df),
    ).astype(np.float64)
    market, vol_state, vol_outlook = market_returns(shocks[:, MARKET_COLUMN], calibration)
    returns = np.empty_like(shocks)
    returns[:, MARKET_COLUMN] = market
    returns[:, SIZE_COLUMN] = size_returns(sessions, shocks[:, SIZE_COLUMN], vol_state, calibration)
    returns[:, VALUE_COLUMN] = (
        calibration.value_drift / SESSIONS_PER_YEAR
        + calibration.value_vol * vol_state * shocks[:, VALUE_COLUMN]
    )
    profiles = [SECTOR_PROFILES[s] for s in SECTORS]
    sector_drift = np.array([p.annual_drift for p in profiles]) / SESSIONS_PER_YEAR
    sector_vol = np.array([p.residual_vol for p in profiles])
    returns[:, FIRST_SECTOR_COLUMN:] = (
        sector_drift + sector_vol * vol_state[:, None] * shocks[:, FIRST_SECTOR_COLUMN:]
    )
    return FactorPaths(
        sessions=sessions, returns=returns, vol_state=vol_state, vol_outlook=vol_outlook
    )


def market_returns(
    shocks: np.ndarray, calibration: MarketCalibration = MARKET
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Large-cap index log returns, volatility state and the next session's volatility
    state as forecast at the close: GJR-GARCH, fat tails, a trend.

    Why each piece: GARCH gives the calm and stormy stretches real markets have, the
    leverage term makes storms start with sell-offs, and a weak pull toward an 8%-a-year
    trend keeps a 35-year path from ending at an absurd level for some seeds. The GARCH
    recursion runs over days on scalars only, so a Python loop is cheap.
    """
    c = calibration
    long_run_var = c.market_vol**2
    omega = long_run_var * (1.0 - c.garch_alpha - c.garch_leverage / 2 - c.garch_beta)
    moves = np.empty_like(shocks)
    sigmas = np.empty_like(shocks)
    outlook = np.empty_like(shocks)
    variance = long_run_var
    for t, z in enumerate(shocks.tolist()):
        sigmas[t] = variance**0.5
        last_move = sigmas[t] * z
        moves[t] = last_move
        reaction = c.garch_alpha + (c.garch_leverage if last_move < 0 else 0.0)
        variance = min(
            omega + reaction * last_move**2 + c.garch_beta * variance,
            MAX_VARIANCE_MULTIPLE * long_run_var,
        )
        outlook[t] = variance**0.5
    drift = np.log1p(c.market_growth) / SESSIONS_PER_YEAR
    returns = drift + ar1_increments(moves, 1.0 - c.market_reversion / SESSIONS_PER_YEAR)
    return returns, sigmas / c.market_vol, outlook / c.market_vol


def size_returns(
    sessions: pd.DatetimeIndex,
    shocks: np.ndarray,
    vol_state: np.ndarray,
    calibration: MarketCalibration = MARKET,
) -> np.ndarray:
    """Small-minus-large factor: drift set by the Fed regime, pulled to its drift path.

    The pull keeps the small/large ratio within the band it has kept since 1990 over the
    long run, while the regime drift still shows up around each easing or tightening.
    """
    noise = ar1_increments(
        calibration.size_vol * vol_state * shocks,
        1.0 - calibration.size_reversion / SESSIONS_PER_YEAR,
    )
    return size_drift(sessions, calibration) / SESSIONS_PER_YEAR + noise


def size_drift(sessions: pd.DatetimeIndex, calibration: MarketCalibration = MARKET) -> np.ndarray:
    """Annual drift of the size factor on each session, set by the Fed regime that day."""
    regimes = fomc.regime_on(sessions)
    drift = np.zeros(len(sessions))
    for regime, annual in calibration.size_drift_by_regime:
        drift[regimes == regime] = annual
    return drift
