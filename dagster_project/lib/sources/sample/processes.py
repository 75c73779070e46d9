"""Mean-reverting AR(1) recursions shared by factors, stocks and rates.

These are the only loops over days in the generator: each step is one vector operation
across all columns, so a 25-year history costs a few thousand numpy calls.
"""

from __future__ import annotations

import numpy as np


def persistence(half_life: float | np.ndarray) -> float | np.ndarray:
    """AR(1) coefficient whose deviations halve after ``half_life`` steps."""
    return np.power(0.5, 1.0 / np.asarray(half_life, dtype=float))


def ar1_levels(shocks: np.ndarray, phi: float | np.ndarray) -> np.ndarray:
    """Levels x_t = phi * x_{t-1} + shock_t from x_{-1} = 0, along axis 0, in place.

    Why: noise that wanders for weeks or years (rate spreads, a stock's own story) but is
    pulled back, instead of compounding forever like a random walk.
    """
    level = np.zeros(shocks.shape[1:])
    for t in range(len(shocks)):
        level = phi * level + shocks[t]
        shocks[t] = level
    return shocks


def ar1_increments(shocks: np.ndarray, phi: float | np.ndarray) -> np.ndarray:
    """Daily changes of an AR(1) level driven by ``shocks``, in place (``shocks`` reused).

    Adding these to a log price pulls it back toward its drift path: the shock moves the
    price today in full, and a fraction ``1 - phi`` of the accumulated gap fades each day.
    """
    level = np.zeros(shocks.shape[1:])
    for t in range(len(shocks)):
        new_level = phi * level + shocks[t]
        shocks[t] = new_level - level
        level = new_level
    return shocks
